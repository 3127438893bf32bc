package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"ser/core/store"
)

// The subscribers of the register-auth scenario: bench0 … bench<N-1>
// with password pw<i>, in the realm SIPp's To header names (127.0.0.1).
const authDomain = "127.0.0.1"

var authUsers = flag.Int("auth-users", 10000, "register-auth: distinct subscribers provisioned and registered in turn")

func authUser(i int) (user, password string) {
	return fmt.Sprintf("bench%d", i), fmt.Sprintf("pw%d", i)
}

// writeAuthUsers writes SIPp's injection file of the subscribers
// (user;password;contact), read SEQUENTIAL by bench/register_auth.xml.
func writeAuthUsers(dir string) {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for i := range *authUsers {
		u, pw := authUser(i)
		fmt.Fprintf(&b, "%s;%s;127.0.0.1:5999\n", u, pw)
	}
	check(os.WriteFile(filepath.Join(dir, "auth_users.csv"), []byte(b.String()), 0o644))
}

// kamailioDB creates Kamailio's tables for modules (Debian's schema for
// the backend) in a fresh database and returns its URL: an SQLite file
// in dir, or a database on the bench's MariaDB (mysql).
func kamailioDB(backend, mode, dir, extra string, modules ...string) string {
	if backend == "mysql" {
		name, url := newMySQLDatabase("kamailio", mode)
		kamailioMySQL(name, extra, modules...)
		return url
	}
	db := filepath.Join(dir, "kamailio-"+mode+".db")
	os.Remove(db)
	kamailioSQLite(db, extra, modules...)
	return "sqlite://" + db
}

// serDB returns the URL of a fresh database for ser (an SQLite file in
// dir or a database on the bench's MariaDB) with SER's schema, created by
// core/store, and runs fill on the open store.
func serDB(backend, mode, dir string, fill func(*store.Store)) string {
	var url string
	if backend == "mysql" {
		_, url = newMySQLDatabase("ser", mode)
	} else {
		db := filepath.Join(dir, "ser-"+mode+".db")
		os.Remove(db)
		url = "sqlite://" + db
	}
	st, err := store.Open(context.Background(), url, store.WithLogger(slog.New(slog.DiscardHandler)))
	check(err)
	if fill != nil {
		fill(st)
	}
	check(st.Close())
	return url
}

// dbConfig writes the config tmpl (from here) into dir with @DB_URL@
// replaced by url; for Kamailio on MariaDB db_sqlite becomes db_mysql.
func dbConfig(here, dir, tmpl, url string) string {
	b, err := os.ReadFile(filepath.Join(here, tmpl))
	check(err)
	cfg := strings.ReplaceAll(string(b), "@DB_URL@", url)
	if strings.HasPrefix(url, "mysql://") {
		cfg = strings.ReplaceAll(cfg, `loadmodule "db_sqlite.so"`, `loadmodule "db_mysql.so"`)
	}
	path := filepath.Join(dir, strings.TrimSuffix(tmpl, ".cfg")+"-"+strings.SplitN(url, ":", 2)[0]+".cfg")
	check(os.WriteFile(path, []byte(cfg), 0o644))
	return path
}

// startAuthDB provisions a fresh database (backend sqlite or mysql) with
// the subscribers (ser: through core/store, which creates SER's schema
// and stores the HA1s; Kamailio: Debian's kamailio schema, the ha1
// column filled), writes the config with its URL and starts the server.
// Neither server calculates HA1 (calculate_ha1 off).
func startAuthDB(srv, backend, bin, here, dir string) *serverProc {
	writeAuthUsers(dir)
	if srv == "kamailio" {
		var sql strings.Builder
		sql.WriteString("BEGIN;\n")
		for i := range *authUsers {
			u, pw := authUser(i)
			fmt.Fprintf(&sql, "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('%s', '%s', '', '%s', '%s');\n",
				u, authDomain, store.HA1(u, authDomain, pw), store.HA1B(u, authDomain, authDomain, pw))
		}
		sql.WriteString("COMMIT;\n")
		url := kamailioDB(backend, "auth", dir, sql.String(), "auth_db", "usrloc")
		return withDB(startKamailio(dbConfig(here, dir, "kamailio_auth_sqlite.cfg", url), dir), url)
	}
	url := serDB(backend, "auth", dir, func(st *store.Store) {
		ctx := context.Background()
		for i := range *authUsers {
			u, pw := authUser(i)
			check(st.AddSubscriber(ctx, store.Subscriber{Username: u, Domain: authDomain, Password: pw}))
		}
	})
	return withDB(startSer(bin, dbConfig(here, dir, "auth_sqlite.cfg", url), dir), url)
}

// kamailioSQLite creates a Kamailio SQLite database at db from Debian's
// schema files (the version table and the modules named), then runs
// extra SQL.
func kamailioSQLite(db, extra string, modules ...string) {
	var sql strings.Builder
	for _, f := range append([]string{"standard"}, modules...) {
		b, err := os.ReadFile(filepath.Join("/usr/share/kamailio/db_sqlite", f+"-create.sql"))
		check(err)
		sql.Write(b)
	}
	sql.WriteString(extra)
	cmd := exec.Command("sqlite3", db)
	cmd.Stdin = strings.NewReader(sql.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		fatalf("creating Kamailio's SQLite database: %v\n%s", err, out)
	}
}

// startAccDB starts the Hello World config of srv with accounting to a
// fresh database, SQLite or MariaDB (accConfig).
func startAccDB(srv, backend, bin, here, dir string) *serverProc {
	var url string
	base := "helloworld.cfg"
	if srv == "kamailio" {
		base = "kamailio.cfg"
		url = kamailioDB(backend, "acc", dir, "", "acc")
	} else {
		url = serDB(backend, "acc", dir, nil)
	}
	b, err := os.ReadFile(filepath.Join(here, base))
	check(err)
	cfg := filepath.Join(dir, "acc-"+backend+"-"+base)
	check(os.WriteFile(cfg, []byte(accConfig(srv, string(b), url)), 0o644))
	if srv == "kamailio" {
		return withDB(startKamailio(cfg, dir), url)
	}
	return withDB(startSer(bin, cfg, dir), url)
}

func withDB(p *serverProc, url string) *serverProc {
	p.dbURL = url
	return p
}

// dbRows reports what the scenario left in the server's database (the
// location rows and their distinct users, or the acc rows), so that a
// run shows the writes happened.
func (p *serverProc) dbRows() string {
	if p.dbURL == "" {
		return ""
	}
	sqlite, isSQLite := strings.CutPrefix(p.dbURL, "sqlite://")
	prefix := ""
	if !isSQLite {
		prefix = "`" + p.dbURL[strings.LastIndexByte(p.dbURL, '/')+1:] + "`."
	}
	q := "SELECT COUNT(*), COUNT(DISTINCT username) FROM " + prefix + "location"
	what := "location rows, distinct users"
	if strings.Contains(p.dbURL, "acc") {
		q, what = "SELECT COUNT(*), 0 FROM "+prefix+"acc", "acc rows"
	}
	var n, users int
	if isSQLite {
		out, err := exec.Command("sqlite3", "-separator", " ", sqlite, q).Output()
		if err != nil {
			return fmt.Sprintf("database: %v", err)
		}
		fmt.Sscan(string(out), &n, &users)
	} else if err := mariaDB().RootDB().QueryRow(q).Scan(&n, &users); err != nil {
		return fmt.Sprintf("database: %v", err)
	}
	if strings.Contains(p.dbURL, "acc") {
		return fmt.Sprintf("database now: %d %s", n, what)
	}
	return fmt.Sprintf("database now: %d %s %d", n, what, users)
}

// accConfig derives the accounting variant of a Hello World config: the
// acc module writing to dbURL for transactions with flag 1, and flag 1
// set where the config relays (route[1] / route[RELAY]).
func accConfig(srv, cfg, dbURL string) string {
	anchor := `modparam("rr", "enable_full_lr", 1)`
	mods := `loadmodule "/usr/local/lib/ser/modules/acc.so"` + "\n"
	relay := "route[1] {"
	if srv == "kamailio" {
		driver := "db_sqlite.so"
		if strings.HasPrefix(dbURL, "mysql://") {
			driver = "db_mysql.so"
		}
		mods = `loadmodule "` + driver + `"` + "\n" + `loadmodule "acc.so"` + "\n"
		relay = "route[RELAY] {"
	}
	if !strings.Contains(cfg, anchor) || !strings.Contains(cfg, relay) {
		fatalf("accounting: the %s config lacks %q or %q", srv, anchor, relay)
	}
	cfg = strings.Replace(cfg, anchor, mods+anchor+"\n"+
		`modparam("acc", "db_url", "`+dbURL+`")`+"\n"+`modparam("acc", "db_flag", 1)`, 1)
	return strings.Replace(cfg, relay, relay+"\n\tsetflag(1);", 1)
}
