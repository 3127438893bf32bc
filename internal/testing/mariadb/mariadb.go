// Package mariadb starts throwaway MariaDB servers for tests: a private
// mariadbd (Debian's mariadb-server) on 127.0.0.1, with its own data
// directory, port and Unix socket, killed when the test ends.
//
// # Servers
//
//	srv := mariadb.Start(t)               // a private server for this test
//	url := srv.URL("ser")                 // "mysql://ser:heslo@127.0.0.1:<port>/ser"
//	db := srv.NewDatabase(t)              // a new empty database "ser_<n>" (dropped at the end)
//	srv.Exec(t, "INSERT …")               // SQL as root (over the socket)
//	srv.Kill(); srv.Restart(t)            // an outage: SIGKILL, then the same port and data again
//	srv.Stop()                            // a clean shutdown (Restart works after it too)
//	srv.Pause(); srv.Resume()             // a hung server (SIGSTOP, SIGCONT)
//
// Outside a test (the benchmark), Launch starts the same server and
// Close stops and removes it; mariadbd gets SIGKILL when the caller's
// process dies, as with tests.
//
// Each server has SER's default users (scripts/ser_mysql.sh): ser/heslo
// with all privileges and serro/47serro11 with SELECT, both on the
// database "ser" (created empty) and on every database named ser_…, for
// connections over TCP ('user'@'%') and the socket ('user'@'localhost'),
// so that a SER config's db_url "sql://ser:heslo@localhost/ser" works
// with the host:port replaced by Addr(), or unchanged with
// MYSQL_UNIX_PORT=srv.Socket (see core/store). root has no password and is
// reached over the socket (RootDB).
//
// Start skips the test when mariadbd or mariadb-install-db is not
// installed, and fails it under CI or SER_REQUIRE_TOOLS=1
// (internal/testing/testutil.Strict), as testutil.RequireTool does.
//
// Shared returns one server for all the tests of a process (each test
// then takes its own database with NewDatabase); the package's TestMain
// calls StopShared after m.Run. Private servers stop in t.Cleanup, which
// also runs when the test panics; mariadbd is started with the parent
// death signal SIGKILL, so a test binary that dies (a timeout, os.Exit)
// takes its servers with it.
//
// # Cost
//
// mariadb-install-db runs once per machine and MariaDB version: the
// initialised data directory, with the users above, is kept under
// os.UserCacheDir()/ser-mariadb/<hash of the version and options> and
// copied (20 MB) for each
// server. A server starts in about 0.3 s. Servers run without fsync and
// doublewrite buffer, with a small buffer pool and redo log; the redo log
// is written to the operating system at each commit
// (innodb_flush_log_at_trx_commit=2), so a killed mariadbd loses no
// committed transaction — what the outage tests need, not what a
// production server wants.
//
// # Replication
//
//	primary, replica := mariadb.StartReplicated(t)
//	primary.Exec(t, "INSERT INTO ser.t VALUES (1)")  // or a store on primary.URL("ser")
//	replica.CatchUp(t)                               // the row is on the replica now
//
// StartReplicated starts a primary (binary log, server-id 1) and a
// read-only replica of it (server-id 2) and returns once both
// replication threads run: on the replica, SET GLOBAL gtid_slave_pos =
// the primary's gtid_binlog_pos; CHANGE MASTER TO
// MASTER_HOST='127.0.0.1', MASTER_PORT=<primary's port>,
// MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE. Both
// servers start from the same data directory, so everything written to
// the primary afterwards (databases, migrations, rows) reaches the
// replica. CatchUp waits until the replica has applied everything the
// primary had written when CatchUp was called (MASTER_GTID_WAIT). The
// replica is read_only: users without SUPER (ser, serro) can read but
// not write there, as the proxies of Inode's cacheless set-up
// (registrars write to the primary, proxies read a replica).
// Replicas restart (Kill/Restart) and catch up; a restarted primary is
// reconnected to within a second. A second replica: r2 := Start(t);
// r2.ReplicateFrom(t, primary), before anything is written to the
// primary (a replica starts from the primary's current position and must
// hold the same data then).
package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// SER's default database users and database (scripts/ser_mysql.sh).
const (
	User       = "ser"
	Password   = "heslo"
	ROUser     = "serro"
	ROPassword = "47serro11"
	Database   = "ser"
)

// replUser is the account replicas connect to a primary with.
const replUser, replPassword = "repl", "repl"

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 30 * time.Second

// Server is a running (or stopped) private mariadbd.
type Server struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Socket is the Unix socket's path.
	Socket string
	// Dir is the instance directory: data/, the socket, error.log.
	Dir string

	args []string // mariadbd's command line
	id   int      // server-id

	mu   sync.Mutex
	proc *process
	root *sql.DB

	primary *Server // for a replica
}

// instances numbers servers (server-id, directory names).
var instances atomic.Int64

// Start starts a private server, stopped and removed when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(t, 0, false)
	if err != nil {
		t.Fatalf("mariadb: %v", err)
	}
	t.Cleanup(s.remove)
	return s
}

// Launch starts a private server outside a test (a benchmark, a tool),
// with the same set-up as Start; the caller stops and removes it with
// Close. It fails when MariaDB is not installed.
func Launch() (*Server, error) {
	tl, err := findTools()
	if err != nil {
		return nil, err
	}
	return launch(tl, 0, false)
}

// Close stops the server (SIGKILL: its data is thrown away) and deletes
// its directory.
func (s *Server) Close() { s.remove() }

// start makes and starts an instance from the template (skipping t when
// MariaDB is missing). With binlog the server writes a binary log (a
// primary); id 0 picks a server-id.
func start(t testing.TB, id int, binlog bool) (*Server, error) {
	t.Helper()
	return launch(require(t), id, binlog)
}

// launch makes and starts an instance from the template with the
// programs tl.
func launch(tl tools, id int, binlog bool) (*Server, error) {
	tmpl, err := template(tl)
	if err != nil {
		return nil, err
	}
	// Unix socket paths are limited to 107 bytes: a short directory of
	// our own rather than t.TempDir().
	dir, err := os.MkdirTemp("", "ser-mariadb-")
	if err != nil {
		return nil, err
	}
	n := int(instances.Add(1))
	if id == 0 {
		id = 100 + n
	}
	s := &Server{Dir: dir, Socket: filepath.Join(dir, "mysqld.sock"), id: id}
	if err := copyTree(filepath.Join(tmpl, "data"), filepath.Join(dir, "data")); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy the template data directory: %w", err)
	}
	s.args = append([]string{"--no-defaults",
		"--datadir=" + filepath.Join(dir, "data"),
		"--socket=" + s.Socket,
		// Temporary tables (information_schema queries make Aria ones)
		// in the instance's own directory, not the shared /tmp, where
		// another process cleaning up made them vanish mid-query
		// ("Error on delete of '/tmp/#sql-temptable-…' (Errcode: 2)").
		"--tmpdir=" + dir,
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"),
		"--server-id=" + strconv.Itoa(id),
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--performance-schema=OFF",
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-doublewrite=0",
		"--innodb-flush-method=nosync",
		"--max-connections=500",
		"--innodb-file-per-table=0",
		"--innodb-stats-persistent=0",
	}, innodbArgs...)
	s.args = append(s.args, userArgs()...)
	if binlog {
		s.args = append(s.args, "--log-bin="+filepath.Join(dir, "data", "binlog"), "--binlog-format=ROW",
			"--log-bin-trust-function-creators=1")
	} else {
		s.args = append(s.args, "--skip-log-bin")
	}
	// The free port may be taken by someone else before mariadbd binds
	// it: try another one then.
	base := s.args
	for attempt := 1; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			s.remove()
			return nil, err
		}
		s.args = append(slices.Clip(base), "--port="+strconv.Itoa(s.Port))
		err = s.run(tl.mariadbd)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !strings.Contains(s.logTail(), "already in use") {
			s.remove()
			return nil, err
		}
	}
}

// run starts mariadbd with the server's arguments and waits until root
// can connect.
func (s *Server) run(mariadbd string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.running() {
		return errors.New("already running")
	}
	os.Remove(s.Socket)
	p, err := startProcess(mariadbd, s.args)
	if err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	s.proc = p
	if s.root == nil {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Net, cfg.Addr = "root", "unix", s.Socket
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 60*time.Second, 60*time.Second
		cfg.Logger = &mysql.NopLogger{}
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			p.kill()
			return err
		}
		s.root = sql.OpenDB(c)
		s.root.SetMaxIdleConns(2)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.root.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if !p.running() || time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("mariadbd on port %d did not start (%v):\n%s", s.Port, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the end of the server's error log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Pid returns the process id of the running mariadbd, or 0 when it is
// not running (the benchmark reads the server's CPU time from /proc).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || !s.proc.running() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Addr returns "127.0.0.1:<port>".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL returns the mysql:// URL of database db for user ser.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("mysql://%s:%s@%s/%s", User, Password, s.Addr(), db)
}

// SQLURL returns SER's legacy sql:// URL of database db for user ser.
func (s *Server) SQLURL(db string) string {
	return fmt.Sprintf("sql://%s:%s@%s/%s", User, Password, s.Addr(), db)
}

// ROURL returns the mysql:// URL of database db for the read-only user
// serro.
func (s *Server) ROURL(db string) string {
	return fmt.Sprintf("mysql://%s:%s@%s/%s", ROUser, ROPassword, s.Addr(), db)
}

// RootDB returns a connection pool for root over the socket, closed when
// the server is removed.
func (s *Server) RootDB() *sql.DB {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.root
}

// Exec runs SQL as root, failing t on error.
func (s *Server) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := s.RootDB().Exec(query, args...); err != nil {
		t.Fatalf("mariadb: %s: %v", query, err)
	}
}

// dbSeq numbers the databases made by NewDatabase.
var dbSeq atomic.Int64

// NewDatabase creates an empty database named ser_<n> (ser and serro
// have their privileges on it) and returns its name; it is dropped when t
// ends if the server still runs.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("ser_%d", dbSeq.Add(1))
	s.Exec(t, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4")
	t.Cleanup(func() {
		if s.Running() {
			s.Resume() // a test that failed while the server was paused
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.RootDB().ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
		}
	})
	return name
}

// Running reports whether mariadbd runs.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && s.proc.running()
}

// Kill stops the server abruptly (SIGKILL), as a crash or a power cut of
// the database host would; nothing is flushed.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
	}
}

// Stop shuts the server down cleanly (SIGTERM) and waits for it, killing
// it after 30 s.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.stop(30 * time.Second)
	}
}

// Pause stops the server with SIGSTOP: connections stay open but nothing
// answers, as when the database host hangs or the network drops packets.
// It returns once every thread of mariadbd is stopped. Resume continues
// it.
func (s *Server) Pause() {
	s.signal(syscall.SIGSTOP)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		waitStopped(s.proc.cmd.Process.Pid, time.Second)
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

// signal sends sig to a running mariadbd.
func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.running() {
		s.proc.cmd.Process.Signal(sig)
	}
}

// Restart starts a stopped or killed server again on the same port and
// data directory (a running one is stopped first), and waits until it
// accepts connections. A replica resumes replicating.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	tl := require(t)
	if err := s.run(tl.mariadbd); err != nil {
		t.Fatalf("mariadb: restart: %v", err)
	}
}

// remove stops the server and deletes its directory.
func (s *Server) remove() {
	s.Kill()
	s.mu.Lock()
	if s.root != nil {
		s.root.Close()
		s.root = nil
	}
	s.mu.Unlock()
	os.RemoveAll(s.Dir)
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	sharedMu  sync.Mutex
	sharedSrv *Server
)

// Shared returns a server shared by all tests of the process, starting it
// on first use (skipping or failing t as Start does). It runs until
// StopShared, which the package's TestMain calls after m.Run. Tests take
// their own database on it with NewDatabase and must not stop it.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedSrv != nil && sharedSrv.Running() {
		return sharedSrv
	}
	s, err := start(t, 0, false)
	if err != nil {
		t.Fatalf("mariadb: %v", err)
	}
	sharedSrv = s
	return s
}

// StopShared stops and removes the server of Shared, if one was started.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedSrv != nil {
		sharedSrv.remove()
		sharedSrv = nil
	}
}

// userArgs returns --user=root when the tests run as root (mariadbd
// refuses to run as root otherwise).
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// innodbArgs are the InnoDB sizes shared by mariadb-install-db and the
// servers (the system tablespace and redo log must match).
var innodbArgs = []string{
	"--innodb-buffer-pool-size=16M",
	"--innodb-log-file-size=4M",
	"--innodb-data-file-path=ibdata1:1M:autoextend",
	"--innodb-autoextend-increment=1",
}

// tools are the MariaDB programs.
type tools struct {
	mariadbd, installDB string
	version             string
}

var (
	toolsOnce sync.Once
	toolsVal  tools
	toolsErr  error
)

// require finds MariaDB's programs, skipping t when they are missing (a
// failure under CI / SER_REQUIRE_TOOLS).
func require(t testing.TB) tools {
	t.Helper()
	tl, err := findTools()
	if err != nil {
		if strict() {
			t.Fatalf("mariadb: %v (the README's test command installs mariadb-server)", err)
		}
		t.Skipf("mariadb: %v; skipping (install mariadb-server, or set SER_REQUIRE_TOOLS=1 to make this a failure)", err)
	}
	return tl
}

// findTools finds MariaDB's programs (once per process).
func findTools() (tools, error) {
	toolsOnce.Do(func() {
		toolsVal.mariadbd, toolsErr = lookTool("mariadbd")
		if toolsErr == nil {
			toolsVal.installDB, toolsErr = lookTool("mariadb-install-db")
		}
		if toolsErr == nil {
			var out []byte
			out, toolsErr = exec.Command(toolsVal.mariadbd, "--version").Output()
			toolsVal.version = strings.TrimSpace(string(out))
		}
	})
	return toolsVal, toolsErr
}

// lookTool finds a program in PATH or in the sbin directories, which
// are not in every user's PATH.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", name)
}
