package mariadb

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// open connects to url (mysql://user:pass@host:port/db) for a test.
func open(t *testing.T, s *Server, user, pass, db string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pass, "tcp", s.Addr(), db
	cfg.Timeout = 2 * time.Second
	cfg.Logger = &mysql.NopLogger{}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(c)
	t.Cleanup(func() { d.Close() })
	return d
}

// TestUsers checks SER's default users: ser may create and write in ser
// and ser_* databases, serro may only read, over TCP and the socket.
func TestUsers(t *testing.T) {
	s := Start(t)
	ser := open(t, s, User, Password, Database)
	for _, q := range []string{"CREATE TABLE t (x INT)", "INSERT INTO t VALUES (1)"} {
		if _, err := ser.Exec(q); err != nil {
			t.Fatalf("ser: %s: %v", q, err)
		}
	}
	ro := open(t, s, ROUser, ROPassword, Database)
	var n int
	if err := ro.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("serro: SELECT = %d, %v", n, err)
	}
	if _, err := ro.Exec("INSERT INTO t VALUES (2)"); err == nil {
		t.Error("serro may write")
	}
	db := s.NewDatabase(t)
	if !strings.HasPrefix(db, "ser_") {
		t.Fatalf("NewDatabase = %q", db)
	}
	if _, err := open(t, s, User, Password, db).Exec("CREATE TABLE u (x INT)"); err != nil {
		t.Errorf("ser in %s: %v", db, err)
	}
	if err := open(t, s, User, "wrong", Database).Ping(); err == nil {
		t.Error("a wrong password is accepted")
	}
	// The socket, as SER's "localhost" did.
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = User, Password, "unix", s.Socket, Database
	c, _ := mysql.NewConnector(cfg)
	sock := sql.OpenDB(c)
	defer sock.Close()
	var who string
	if err := sock.QueryRow("SELECT CURRENT_USER()").Scan(&who); err != nil || who != "ser@localhost" {
		t.Errorf("over the socket: %q, %v", who, err)
	}
	if got := s.URL("ser"); got != fmt.Sprintf("mysql://ser:heslo@127.0.0.1:%d/ser", s.Port) {
		t.Errorf("URL = %s", got)
	}
}

// TestKillRestart kills the server and starts it again: committed rows
// survive, and a pool reconnects.
func TestKillRestart(t *testing.T) {
	s := Start(t)
	ser := open(t, s, User, Password, Database)
	if _, err := ser.Exec("CREATE TABLE t (x INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := ser.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if s.Running() {
		t.Fatal("running after Kill")
	}
	if err := ser.Ping(); err == nil {
		t.Fatal("ping of a killed server succeeded")
	}
	s.Restart(t)
	var n int
	if err := ser.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after restart: %d rows, %v", n, err)
	}
	s.Stop()
	s.Restart(t)
	if err := ser.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after a clean restart: %d rows, %v", n, err)
	}
}

// TestReplication writes on the primary and reads the replica, which is
// read-only for ser; a restarted replica catches up.
func TestReplication(t *testing.T) {
	primary, replica := StartReplicated(t)
	db := primary.NewDatabase(t)
	w := open(t, primary, User, Password, db)
	if _, err := w.Exec("CREATE TABLE t (x INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	replica.CatchUp(t)
	r := open(t, replica, ROUser, ROPassword, db)
	var n int
	if err := r.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("replica: %d rows, %v", n, err)
	}
	if _, err := open(t, replica, User, Password, db).Exec("INSERT INTO t VALUES (9)"); err == nil {
		t.Error("ser may write on the read-only replica")
	}
	replica.Kill()
	if _, err := w.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	replica.Restart(t)
	replica.CatchUp(t)
	if err := r.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("restarted replica: %d rows, %v", n, err)
	}
	// A restarted primary: the replica reconnects.
	primary.Kill()
	primary.Restart(t)
	if _, err := w.Exec("INSERT INTO t VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	replica.CatchUp(t)
	if err := r.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after the primary's restart: %d rows, %v", n, err)
	}
}

// TestShared returns the same server twice.
func TestShared(t *testing.T) {
	a := Shared(t)
	if b := Shared(t); a != b {
		t.Error("two shared servers")
	}
	StopShared()
	if a.Running() {
		t.Error("shared server runs after StopShared")
	}
}
