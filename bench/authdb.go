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
		var sql strings.Builder
		for _, f := range []string{"standard", "auth_db", "usrloc"} {
			b, err := os.ReadFile(filepath.Join("/usr/share/kamailio/db_sqlite", f+"-create.sql"))
			check(err)
			sql.Write(b)
		}
		fmt.Fprintf(&sql, "INSERT INTO subscriber (username, domain, password) VALUES ('%s', '%s', '%s');\n", authUser, authDomain, authPassword)
		cmd := exec.Command("sqlite3", db)
		cmd.Stdin = strings.NewReader(sql.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			fatalf("creating Kamailio's SQLite database: %v\n%s", err, out)
		}
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
