package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"ser/internal/testing/mariadb"
)

// The MariaDB variants of the database scenarios (register-auth-mysql,
// calls-acc-mysql) run against one private mariadbd the bench starts on
// first use (internal/testing/mariadb: its own data directory, port and
// socket on 127.0.0.1, no fsync) and stops at exit, also on an error or
// Ctrl-C (cleanup). Each server and scenario gets a fresh database.

var (
	mdbOnce sync.Once
	mdb     *mariadb.Server
	mdbSeq  int
)

// mariaDB returns the bench's MariaDB server, starting it on first use.
func mariaDB() *mariadb.Server {
	waitIfExiting()
	mdbOnce.Do(func() {
		s, err := mariadb.Launch()
		if err != nil {
			fatalf("starting MariaDB: %v", err)
		}
		mdb = s
		atExit(s.Close)
		fmt.Printf("MariaDB %s on %s (private, no fsync)\n", mariadbVersion(s), s.Addr())
	})
	return mdb
}

func mariadbVersion(s *mariadb.Server) string {
	var v string
	s.RootDB().QueryRow("SELECT VERSION()").Scan(&v)
	return v
}

// newMySQLDatabase creates an empty database for srv and scenario (the
// ser user has every privilege on databases named ser_…) and returns its
// mysql:// URL.
func newMySQLDatabase(srv, mode string) (name, url string) {
	s := mariaDB()
	mdbSeq++
	name = fmt.Sprintf("ser_bench_%s_%s_%d", srv, strings.ReplaceAll(mode, "-", "_"), mdbSeq)
	if _, err := s.RootDB().Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4"); err != nil {
		fatalf("MariaDB: %v", err)
	}
	return name, s.URL(name)
}

// kamailioMySQL creates Kamailio's tables in database db from Debian's
// kamailio mysql schema files (the version table and the modules named),
// then runs extra SQL, through the mariadb client as root over the socket.
func kamailioMySQL(db, extra string, modules ...string) {
	var sql strings.Builder
	for _, f := range append([]string{"standard"}, modules...) {
		b, err := os.ReadFile(filepath.Join("/usr/share/kamailio/mysql", f+"-create.sql"))
		check(err)
		sql.Write(b)
	}
	sql.WriteString(extra)
	cmd := exec.Command("mariadb", "--no-defaults", "-u", "root", "-S", mariaDB().Socket, db)
	cmd.Stdin = strings.NewReader(sql.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		fatalf("creating Kamailio's MariaDB tables: %v\n%s", err, out)
	}
}
