package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

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

// mdbCounters are the MariaDB status counters a step's database activity
// is reported from (SHOW GLOBAL STATUS): statements by kind, the prepared
// statement protocol, transactions, pings and connections.
var mdbCounters = []string{"Com_select", "Com_insert", "Com_update", "Com_delete", "Com_replace",
	"Com_stmt_prepare", "Com_stmt_execute", "Com_stmt_close", "Com_stmt_reset", "Com_begin", "Com_commit",
	"Com_rollback", "Com_set_option", "Com_admin_commands", "Connections"}

// mdbSnapshot is mariadbd's CPU time and counters at one moment.
type mdbSnapshot struct {
	cpu time.Duration
	com map[string]int64
}

// mariaDBSnapshot reads mariadbd's CPU time and mdbCounters (the
// bench's own SHOW STATUS is one Com_show_status, not counted here).
func mariaDBSnapshot() mdbSnapshot {
	s := mariaDB()
	snap := mdbSnapshot{cpu: pidCPU(s.Pid()), com: map[string]int64{}}
	rows, err := s.RootDB().Query("SHOW GLOBAL STATUS WHERE Variable_name IN ('" + strings.Join(mdbCounters, "','") + "')")
	if err != nil {
		fatalf("MariaDB status: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		check(rows.Scan(&k, &v))
		snap.com[k] = v
	}
	check(rows.Err())
	return snap
}

// mariaDBActivity describes what mariadbd did between before and now
// for n successful calls (REGISTERs) over wall: its CPU (percent of one
// core) and, per call, each counter that moved — so that both servers'
// statements and round trips per REGISTER can be compared.
func mariaDBActivity(before mdbSnapshot, n int, wall time.Duration) string {
	after := mariaDBSnapshot()
	var b strings.Builder
	fmt.Fprintf(&b, "mariadbd: CPU %.0f%%", 100*(after.cpu-before.cpu).Seconds()/wall.Seconds())
	if n > 0 {
		b.WriteString("; per call")
		for _, k := range mdbCounters {
			if d := after.com[k] - before.com[k]; d != 0 {
				fmt.Fprintf(&b, " %s %.2f", strings.TrimPrefix(k, "Com_"), float64(d)/float64(n))
			}
		}
	}
	return b.String()
}
