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

// startAuthSQLite provisions a fresh SQLite database with the subscribers
// (ser: through core/store, which creates SER's schema and stores the
// HA1s; Kamailio: Debian's kamailio sqlite schema through the sqlite3
// shell, the ha1 column filled), writes the config with its URL and
// starts the server. Neither server calculates HA1 (calculate_ha1 off).
func startAuthSQLite(srv, bin, here, dir string) *serverProc {
	writeAuthUsers(dir)
	db := filepath.Join(dir, srv+"-auth.db")
	os.Remove(db)
	var tmpl, url string
	if srv == "kamailio" {
		tmpl, url = "kamailio_auth_sqlite.cfg", "sqlite://"+db
		var sql strings.Builder
		sql.WriteString("BEGIN;\n")
		for i := range *authUsers {
			u, pw := authUser(i)
			fmt.Fprintf(&sql, "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('%s', '%s', '', '%s', '%s');\n",
				u, authDomain, store.HA1(u, authDomain, pw), store.HA1B(u, authDomain, authDomain, pw))
		}
		sql.WriteString("COMMIT;\n")
		kamailioSQLite(db, sql.String(), "auth_db", "usrloc")
	} else {
		tmpl, url = "auth_sqlite.cfg", "sqlite://"+db
		ctx := context.Background()
		st, err := store.Open(ctx, url, store.WithLogger(slog.New(slog.DiscardHandler)))
		check(err)
		for i := range *authUsers {
			u, pw := authUser(i)
			check(st.AddSubscriber(ctx, store.Subscriber{Username: u, Domain: authDomain, Password: pw}))
		}
		check(st.Close())
	}
	b, err := os.ReadFile(filepath.Join(here, tmpl))
	check(err)
	cfg := filepath.Join(dir, tmpl)
	check(os.WriteFile(cfg, []byte(strings.ReplaceAll(string(b), "@DB_URL@", url)), 0o644))
	if srv == "kamailio" {
		return startKamailio(cfg, dir)
	}
	return startSer(bin, cfg, dir)
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

// startAccSQLite starts the Hello World config of srv with accounting to
// a fresh SQLite database (accConfig).
func startAccSQLite(srv, bin, here, dir string) *serverProc {
	db := filepath.Join(dir, srv+"-acc.db")
	os.Remove(db)
	url := "sqlite://" + db
	base := "helloworld.cfg"
	if srv == "kamailio" {
		base = "kamailio.cfg"
		kamailioSQLite(db, "", "acc")
	} else {
		st, err := store.Open(context.Background(), url, store.WithLogger(slog.New(slog.DiscardHandler)))
		check(err)
		check(st.Close())
	}
	b, err := os.ReadFile(filepath.Join(here, base))
	check(err)
	cfg := filepath.Join(dir, "acc-"+base)
	check(os.WriteFile(cfg, []byte(accConfig(srv, string(b), url)), 0o644))
	if srv == "kamailio" {
		return startKamailio(cfg, dir)
	}
	return startSer(bin, cfg, dir)
}

// accConfig derives the accounting variant of a Hello World config: the
// acc module writing to dbURL for transactions with flag 1, and flag 1
// set where the config relays (route[1] / route[RELAY]).
func accConfig(srv, cfg, dbURL string) string {
	anchor := `modparam("rr", "enable_full_lr", 1)`
	mods := `loadmodule "/usr/local/lib/ser/modules/acc.so"` + "\n"
	relay := "route[1] {"
	if srv == "kamailio" {
		mods = `loadmodule "db_sqlite.so"` + "\n" + `loadmodule "acc.so"` + "\n"
		relay = "route[RELAY] {"
	}
	if !strings.Contains(cfg, anchor) || !strings.Contains(cfg, relay) {
		fatalf("accounting: the %s config lacks %q or %q", srv, anchor, relay)
	}
	cfg = strings.Replace(cfg, anchor, mods+anchor+"\n"+
		`modparam("acc", "db_url", "`+dbURL+`")`+"\n"+`modparam("acc", "db_flag", 1)`, 1)
	return strings.Replace(cfg, relay, relay+"\n\tsetflag(1);", 1)
}
