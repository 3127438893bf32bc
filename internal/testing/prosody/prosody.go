// Package prosody starts a throwaway Prosody XMPP server (Debian's
// prosody) for tests: client-to-server only, on 127.0.0.1 and a port
// picked at run time, with its own configuration, data directory and
// pid file in a temporary directory, plain-text authentication allowed
// without TLS (internal_plain), a multi-user chat service, and accounts
// made with prosodyctl. Like every external tool of the test suites it is
// skipped on a developer's machine that lacks it and a failure under CI
// (testutil.RequireTool). The test's cleanup stops it.
package prosody

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// Domain is the XMPP domain the server serves; MUC is its chat service.
const (
	Domain = "localhost"
	MUC    = "conference.localhost"
)

// Server is a running (or stopped, see Stop/Start) Prosody.
type Server struct {
	// Addr is the client port, "127.0.0.1:port"; Port its number.
	Addr string
	Port int
	Dir  string

	t    testing.TB
	bin  string
	ctl  string
	cfg  string
	proc *testutil.Proc
}

// Start writes a configuration and starts Prosody, waiting until it
// accepts connections.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: testutil.RequireTool(t, "prosody"), ctl: testutil.RequireTool(t, "prosodyctl"), Dir: t.TempDir()}
	s.Port = testutil.FreePort(t)
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.cfg = filepath.Join(s.Dir, "prosody.cfg.lua")
	conf := fmt.Sprintf(`-- written by ser's test helper
pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
run_as_root = true
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { "roster", "saslauth", "disco", "posix", "ping", "presence" }
modules_disabled = { "s2s", "offline" }
c2s_ports = { %[4]d }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
authentication = "internal_plain"
allow_unencrypted_plain_auth = true
c2s_require_encryption = false
storage = "internal"
VirtualHost %[5]q
Component %[6]q "muc"
    -- a new room is usable at once (no owner configuration step)
    muc_room_locking = false
`, filepath.Join(s.Dir, "prosody.pid"), filepath.Join(s.Dir, "data"), filepath.Join(s.Dir, "certs"), s.Port, Domain, MUC)
	if err := os.WriteFile(s.cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Register creates the account user@Domain with password pass.
func (s *Server) Register(user, pass string) {
	s.t.Helper()
	out, code := testutil.Run(s.t, 30*time.Second, s.Dir, s.ctl, "--config", s.cfg, "register", user, Domain, pass)
	if code != 0 {
		s.t.Fatalf("prosodyctl register %s: exit %d:\n%s", user, code, out)
	}
}

// Stop stops the server (SIGKILL, as a crash would) and waits for it.
// Accounts stay in the data directory for the next Restart.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Kill()
		s.proc = nil
	}
}

// Restart starts the server (again) on the same port and data and waits
// until it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.proc = testutil.Start(s.t, s.Dir, s.bin, "--config", s.cfg, "-F")
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("prosody did not listen on %s:\n%s", s.Addr, s.proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Output returns what the running server logged.
func (s *Server) Output() string {
	if s.proc == nil {
		return ""
	}
	return s.proc.Output()
}
