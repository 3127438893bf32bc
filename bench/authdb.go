package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"ser/core/store"
)

// authUser is the one subscriber of the register-auth scenario, in the
// realm SIPp's To header names (127.0.0.1).
const authUser, authPassword, authDomain = "bench", "benchpw", "127.0.0.1"

// startAuthSQLite provisions a fresh SQLite database with the subscriber
// (ser: through core/store, which creates SER's schema; Kamailio: Debian's
// kamailio sqlite schema through the sqlite3 shell), writes the config
// with its URL and starts the server.
func startAuthSQLite(srv, bin, here, dir string) *serverProc {
	check(os.WriteFile(filepath.Join(dir, "auth_user.csv"), []byte("SEQUENTIAL\n"+authUser+";127.0.0.1:5999\n"), 0o644))
	db := filepath.Join(dir, srv+"-auth.db")
	os.Remove(db)
	var tmpl, url string
	if srv == "kamailio" {
		tmpl, url = "kamailio_auth_sqlite.cfg", "sqlite://"+db
		kamailioSQLite(db, fmt.Sprintf("INSERT INTO subscriber (username, domain, password) VALUES ('%s', '%s', '%s');\n",
			authUser, authDomain, authPassword), "auth_db", "usrloc")
	} else {
		tmpl, url = "auth_sqlite.cfg", "sqlite://"+db
		ctx := context.Background()
		st, err := store.Open(ctx, url, store.WithLogger(slog.New(slog.DiscardHandler)), store.WithPlaintextPasswords(true))
		check(err)
		check(st.AddSubscriber(ctx, store.Subscriber{Username: authUser, Domain: authDomain, Password: authPassword}))
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
