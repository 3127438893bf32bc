package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ser/internal/testing/mariadb"
)

func TestMySQLConfig(t *testing.T) {
	src, err := ParseURL("sql://ser:heslo@db.example:3307/ser")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mysqlConfig(src, quiet)
	if cfg.User != "ser" || cfg.Passwd != "heslo" || cfg.Net != "tcp" || cfg.Addr != "db.example:3307" || cfg.DBName != "ser" {
		t.Errorf("connection %s %s %s %s %s", cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName)
	}
	if !cfg.ParseTime || cfg.Loc != time.UTC || !cfg.ClientFoundRows || !cfg.InterpolateParams ||
		cfg.Collation != "utf8mb4_bin" || cfg.Params["time_zone"] != "'+00:00'" {
		t.Errorf("options %+v", cfg)
	}
	if cfg.Timeout != mysqlDialTimeout || cfg.ReadTimeout != mysqlIOTimeout || cfg.WriteTimeout != mysqlIOTimeout {
		t.Errorf("default timeouts %v %v %v", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
	}
	src, _ = ParseURL("mysql://ser:heslo@db.example/ser?timeout=1s&readTimeout=2s&writeTimeout=3s")
	if cfg := mysqlConfig(src, quiet); cfg.Timeout != time.Second || cfg.ReadTimeout != 2*time.Second ||
		cfg.WriteTimeout != 3*time.Second || cfg.Addr != "db.example:3306" {
		t.Errorf("URL timeouts %v %v %v, addr %s", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.Addr)
	}
}

// TestMySQLAddress: host "localhost" without a port is the Unix socket,
// as with SER's MySQL client library.
func TestMySQLAddress(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "mysqld.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	saved := defaultSockets
	defer func() { defaultSockets = saved }()
	defaultSockets = []string{filepath.Join(dir, "missing.sock"), sock}

	tests := []struct {
		name, url, env string
		network, addr  string
	}{
		{"localhost is the socket", "sql://ser:heslo@localhost/ser", "", "unix", sock},
		{"MYSQL_UNIX_PORT", "sql://ser:heslo@localhost/ser", "/run/other.sock", "unix", "/run/other.sock"},
		{"a port means TCP", "sql://ser:heslo@localhost:3306/ser", "", "tcp", "localhost:3306"},
		{"an address means TCP", "mysql://ser:heslo@127.0.0.1/ser", "", "tcp", "127.0.0.1:3306"},
		{"socket parameter", "mysql://ser:heslo@db/ser?socket=/tmp/x.sock", "", "unix", "/tmp/x.sock"},
		{"IPv6", "mysql://ser:heslo@[::1]:3307/ser", "", "tcp", "[::1]:3307"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MYSQL_UNIX_PORT", tc.env)
			src, err := ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if n, a := mysqlAddress(src); n != tc.network || a != tc.addr {
				t.Errorf("mysqlAddress = %s %s, want %s %s", n, a, tc.network, tc.addr)
			}
		})
	}
	defaultSockets = []string{filepath.Join(dir, "missing.sock")}
	src, _ := ParseURL("sql://ser:heslo@localhost/ser")
	if n, a := mysqlAddress(src); n != "tcp" || a != "localhost:3306" {
		t.Errorf("without a socket: %s %s, want TCP to localhost:3306", n, a)
	}
}

// TestMySQLOpenErrors: a server that is not there fails Open at once,
// naming the database but not the password; so do a wrong password and a
// missing database.
func TestMySQLOpenErrors(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now: connection refused
	start := time.Now()
	_, err = Open(ctx, fmt.Sprintf("sql://ser:s3cret@127.0.0.1:%d/ser", port), WithLogger(quiet))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("cannot connect to mysql ser@127.0.0.1:%d/ser", port)) ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a closed port: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open of a closed port took %v", d)
	}

	srv := mariadb.Shared(t)
	for name, url := range map[string]string{
		"wrong password":   fmt.Sprintf("mysql://ser:guess@%s/ser", srv.Addr()),
		"missing database": fmt.Sprintf("mysql://ser:heslo@%s/nosuchdb", srv.Addr()),
	} {
		if _, err := Open(ctx, url, WithLogger(quiet)); err == nil || strings.Contains(err.Error(), "guess") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMySQLURLForms opens one database through sql://, mysql:// and the
// socket, and as the read-only user serro, who can read what ser wrote
// (no migration is pending, so nothing needs DDL) and cannot write.
func TestMySQLURLForms(t *testing.T) {
	ctx := context.Background()
	srv := mariadb.Shared(t)
	db := srv.NewDatabase(t)
	s := mariadbEngine.openURL(t, srv.SQLURL(db))
	if s.Dialect() != MySQL || s.Source().Engine != "mysql" {
		t.Fatalf("dialect %s", s.Dialect().Name)
	}
	if err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	for name, url := range map[string]string{
		"mysql":  srv.URL(db),
		"socket": fmt.Sprintf("mysql://ser:heslo@localhost/%s?socket=%s", db, srv.Socket),
		"serro":  srv.ROURL(db),
	} {
		t.Run(name, func(t *testing.T) {
			s := mariadbEngine.openURL(t, url)
			if u, err := s.Subscriber(ctx, "alice", "example.com"); err != nil || u.HA1 != HA1("alice", "example.com", "pw") {
				t.Errorf("Subscriber = %+v, %v", u, err)
			}
			err := s.Grant(ctx, "alice", "example.com", name)
			if (err != nil) != (name == "serro") {
				t.Errorf("Grant as %s: %v", name, err)
			}
		})
	}
	t.Run("MYSQL_UNIX_PORT", func(t *testing.T) {
		t.Setenv("MYSQL_UNIX_PORT", srv.Socket)
		s := mariadbEngine.openURL(t, "sql://ser:heslo@localhost/"+db)
		if !strings.Contains(s.describe(), "unix("+srv.Socket+")") {
			t.Errorf("describe = %s", s.describe())
		}
		if ok, err := s.InGroup(ctx, GroupSchema{}, "alice", "", "mysql"); !ok || err != nil {
			t.Errorf("InGroup = %v, %v", ok, err)
		}
	})
}

// TestMySQLReconnect kills the server under an open store: calls fail at
// once with a clear error, and once the server is back the same store
// works again (new connections, prepared statements prepared again).
func TestMySQLReconnect(t *testing.T) {
	ctx := context.Background()
	srv := mariadb.Start(t)
	var logs bytes.Buffer
	s := mariadbEngine.openURL(t, srv.URL(srv.NewDatabase(t)), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	save := func(user string) error {
		return s.UpsertContact(ctx, "location", contact(user, "sip:"+user+"@10.0.0.1", t0.Add(time.Hour)))
	}
	if err := save("alice"); err != nil {
		t.Fatal(err)
	}
	q := CredentialsQuery{Username: "alice", Columns: []string{"ha1"}}
	if _, err := s.Credentials(ctx, q); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Credentials before: %v", err)
	}

	srv.Kill()
	for i := range 3 {
		start := time.Now()
		err := save("bob")
		if err == nil {
			t.Fatal("a write succeeded with the server down")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("write %d with the server down took %v", i, d)
		}
		if i > 0 && !strings.Contains(err.Error(), "cannot connect to mysql ser@"+srv.Addr()) {
			t.Errorf("error with the server down: %v", err)
		}
	}
	if _, err := s.Contacts(ctx, "location", "alice", "example.com"); err == nil {
		t.Error("a read succeeded with the server down")
	}

	srv.Restart(t)
	if err := save("bob"); err != nil {
		t.Fatalf("write after the restart: %v", err)
	}
	if cs, err := s.Contacts(ctx, "location", "alice", "example.com"); err != nil || len(cs) != 1 {
		t.Errorf("Contacts after the restart = %+v, %v", cs, err)
	}
	if _, err := s.Credentials(ctx, q); !errors.Is(err, ErrNotFound) {
		t.Errorf("Credentials after the restart: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
	if !strings.Contains(logs.String(), "mysql driver: ") {
		t.Errorf("the driver's messages are not in the store's log: %s", logs.String())
	}
}

// TestMySQLHungServer: a server that stops answering (SIGSTOP) fails
// calls after the URL's readTimeout, not after TCP's minutes.
func TestMySQLHungServer(t *testing.T) {
	ctx := context.Background()
	srv := mariadb.Start(t)
	s := mariadbEngine.openURL(t, srv.URL(srv.NewDatabase(t))+"?readTimeout=1s&writeTimeout=1s&timeout=1s")
	if err := s.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	start := time.Now()
	_, err := s.IsLocalDomain(ctx, "example.com")
	if err == nil {
		t.Fatal("a read succeeded from a hung server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a read from a hung server took %v", d)
	}
	srv.Resume()
	if ok, err := s.IsLocalDomain(ctx, "example.com"); !ok || err != nil {
		t.Errorf("after the server resumed: %v, %v", ok, err)
	}
}

// TestMySQLLegacyPartialMigration: the runner before migrations became
// re-runnable kept the progress of a file that failed midway in
// schema_migrations_partial and resumed at the failed statement. A
// database it left so is completed by running the whole file again
// (its applied statements are found present and kept) and the progress
// row is deleted.
func TestMySQLLegacyPartialMigration(t *testing.T) {
	ctx := context.Background()
	srv := mariadb.Shared(t)
	url := srv.URL(srv.NewDatabase(t))
	m1 := fstest.MapFile{Data: []byte("CREATE TABLE a (x INT);\n")}
	s := mariadbEngine.openURL(t, url, WithMigrations(fstest.MapFS{"0001_a.sql": &m1}))
	// What the old runner left after 0002's second statement failed.
	mustExec(t, s, "CREATE TABLE b (y INT)")
	mustExec(t, s, "CREATE TABLE "+migrationsPartial+" (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "+
		"statements INTEGER NOT NULL, applied_sha256 CHAR(64) NOT NULL, updated_at DATETIME NOT NULL)")
	mustExec(t, s, "INSERT INTO "+migrationsPartial+" VALUES (2, '0002_b.sql', 1, '', '2005-02-10 11:09:21')")
	s.Close()
	m2 := fstest.MapFS{"0001_a.sql": &m1, "0002_b.sql": {Data: []byte("CREATE TABLE b (y INT);\nCREATE INDEX b_y ON b (y);\n" +
		"INSERT INTO a (x) SELECT 7 WHERE NOT EXISTS (SELECT 1 FROM a WHERE x = 7);\n")}}
	var logs bytes.Buffer
	s = mariadbEngine.openURL(t, url, WithMigrations(m2), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	var n int
	if err := s.r.QueryRow("SELECT COUNT(*) FROM " + migrationsPartial).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d progress rows left (%v)", n, err)
	}
	if err := s.r.QueryRow("SELECT COUNT(*) FROM a WHERE x = 7").Scan(&n); err != nil || n != 1 {
		t.Errorf("a has %d rows x=7 (%v)", n, err)
	}
	if live, _ := s.liveIndexes(ctx, s.r, "b"); len(live) != 1 {
		t.Errorf("indexes of b: %v", live)
	}
	if !strings.Contains(logs.String(), "already_present=1") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestMySQLReplica opens stores on a primary and on its read-only
// replica (Inode's cacheless split: registrars write to the primary,
// proxies read a replica): the replica's store opens without migrating
// and sees the primary's writes once replicated.
func TestMySQLReplica(t *testing.T) {
	ctx := context.Background()
	primary, replica := mariadb.StartReplicated(t)
	db := primary.NewDatabase(t)
	w := mariadbEngine.openURL(t, primary.URL(db))
	c := contact("alice", "sip:alice@10.0.0.1", t0.Add(time.Hour))
	if err := w.UpsertContact(ctx, "location", c); err != nil {
		t.Fatal(err)
	}
	replica.CatchUp(t)
	r := mariadbEngine.openURL(t, replica.URL(db))
	if err := r.EnsureLocationTable(ctx, "location"); err != nil {
		t.Errorf("EnsureLocationTable on the replica: %v", err)
	}
	if cs, err := r.Contacts(ctx, "location", "alice", "example.com"); err != nil || len(cs) != 1 || cs[0].Contact != c.Contact {
		t.Errorf("replica Contacts = %+v, %v", cs, err)
	}
	if err := r.UpsertContact(ctx, "location", contact("bob", "sip:bob@x", t0)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write on the replica: %v", err)
	}
}

// TestMySQLTimestampRange: location.last_modified is a TIMESTAMP in
// MySQL (1970–2038); a contact with a time outside is stored with the
// nearest one instead of failing the registration.
func TestMySQLTimestampRange(t *testing.T) {
	ctx := context.Background()
	s, _ := mariadbEngine.open(t)
	for _, tc := range []struct {
		name     string
		lm, want time.Time
	}{
		{"before 1970", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), mysqlTimestampMin},
		{"after 2038", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), mysqlTimestampMax},
		{"in range", t0, t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := contact("u", "sip:"+tc.name, t0)
			c.LastModified = tc.lm
			if err := s.UpsertContact(ctx, "location", c); err != nil {
				t.Fatal(err)
			}
			cs, err := s.Contacts(ctx, "location", "u", "example.com")
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range cs {
				if got.Contact == c.Contact && !got.LastModified.Equal(tc.want) {
					t.Errorf("last_modified %v, want %v", got.LastModified, tc.want)
				}
			}
		})
	}
}

// TestMySQLPoolCoversWorkers: WithWorkers(n) gives the MySQL pool at least
// n connections (no SIP worker queues behind another for a connection),
// and a smaller n keeps the default.
func TestMySQLPoolCoversWorkers(t *testing.T) {
	s := mariadbEngine.openURL(t, mariadbEngine.newURL(t), WithWorkers(24))
	if got := s.w.Stats().MaxOpenConnections; got != 24 {
		t.Errorf("pool with 24 workers: %d connections, want 24", got)
	}
	// 24 connections held at once: none waits for another.
	ctx := context.Background()
	var conns []*sql.Conn
	for range 24 {
		c, err := s.w.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		if err := c.PingContext(ctx); err != nil {
			t.Error(err)
		}
		c.Close()
	}
	if st := s.w.Stats(); st.WaitCount != 0 {
		t.Errorf("%d waits for a connection", st.WaitCount)
	}
	d := mariadbEngine.openURL(t, mariadbEngine.newURL(t), WithWorkers(2))
	if got := d.w.Stats().MaxOpenConnections; got < 8 {
		t.Errorf("pool with 2 workers: %d connections, want the default (at least 8)", got)
	}
}
