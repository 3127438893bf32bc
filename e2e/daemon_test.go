package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckConfig runs ser -c on valid and broken configs: errors come out
// as file:line:col, all of them, and the exit code is non-zero.
func TestCheckConfig(t *testing.T) {
	good := writeFile(t, "good.cfg", registrarProxy)
	out, code := testutil.Run(t, 20*time.Second, "", serBin, "-c", "-f", good)
	if code != 0 || !strings.Contains(out, "config file ok") {
		t.Fatalf("valid config: exit %d\n%s", code, out)
	}
	bad := writeFile(t, "bad.cfg", `loadmodule "modules/sl/sl.so"
children=lots
route {
	foo("x");
	sl_send_reply("999", "bad code");
	route(7);
}
`)
	out, code = testutil.Run(t, 20*time.Second, "", serBin, "-c", "-f", bad)
	if code == 0 {
		t.Fatalf("broken config accepted:\n%s", out)
	}
	for _, want := range []string{
		bad + ":2:1: option 'children'",
		bad + ":4:2: unknown command 'foo', missing loadmodule?",
		bad + ":5:2:",
		bad + ":6:2:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, code = testutil.Run(t, 20*time.Second, "", serBin, "-c", "-f", filepath.Join(t.TempDir(), "missing.cfg"))
	if code == 0 || !strings.Contains(out, "cannot read config file") {
		t.Fatalf("missing config: exit %d\n%s", code, out)
	}
	// The built-in default config is valid.
	out, code = testutil.Run(t, 20*time.Second, t.TempDir(), serBin, "-c")
	if code != 0 {
		t.Fatalf("built-in default config: exit %d\n%s", code, out)
	}
}

// options sends an OPTIONS request to addr and returns the reply.
func options(t *testing.T, addr string) string {
	t.Helper()
	u := newUA(t)
	to, _ := net.ResolveUDPAddr("udp", addr)
	u.send(to, fmt.Sprintf(`OPTIONS sip:nobody@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKopt%d
Max-Forwards: 70
From: <sip:t@example.com>;tag=1
To: <sip:nobody@%s>
Call-ID: opt-%d
CSeq: 1 OPTIONS
Content-Length: 0

`, addr, u.hostport(), time.Now().UnixNano(), addr, time.Now().UnixNano()))
	r, _ := u.recv()
	return r
}

// TestSignalShutdown runs the binary in the foreground and stops it with
// SIGTERM: it exits 0 and removes its pid file.
func TestSignalShutdown(t *testing.T) {
	port := testutil.FreePort(t)
	cfg := writeFile(t, "ser.cfg", registrarProxy)
	pid := filepath.Join(t.TempDir(), "ser.pid")
	p := testutil.Start(t, t.TempDir(), serBin, "-f", cfg, "-D", "-E", "-H", "off", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-P", pid)
	waitFor(t, func() bool { _, err := os.Stat(pid); return err == nil })
	if r := options(t, fmt.Sprintf("127.0.0.1:%d", port)); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Fatalf("server does not answer:\n%s", r)
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, p.Output())
	}
	if _, err := os.Stat(pid); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
}

// TestDaemon runs a fork=yes config without -D: the command returns once
// the background server runs; the pid file names it; SIGTERM stops it.
func TestDaemon(t *testing.T) {
	port := testutil.FreePort(t)
	cfg := writeFile(t, "ser.cfg", strings.Replace(registrarProxy, "fork=no", "fork=yes\nchildren=2", 1))
	pidFile := filepath.Join(t.TempDir(), "ser.pid")
	out, code := testutil.Run(t, 30*time.Second, t.TempDir(), serBin, "-f", cfg, "-H", "off", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-P", pidFile)
	if code != 0 || !strings.Contains(out, "running in the background") {
		t.Fatalf("daemon start: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	proc, _ := os.FindProcess(pid)
	t.Cleanup(func() { proc.Signal(syscall.SIGKILL) })
	if r := options(t, fmt.Sprintf("127.0.0.1:%d", port)); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Fatalf("daemon does not answer:\n%s", r)
	}
	proc.Signal(syscall.SIGTERM)
	waitFor(t, func() bool { return proc.Signal(syscall.Signal(0)) != nil })
	// A daemon whose start fails reports the error and exits non-zero.
	out, code = testutil.Run(t, 30*time.Second, t.TempDir(), serBin, "-f", cfg, "-H", "off", "-l", "127.0.0.1:1", "-u", "no-such-user-xyz")
	if code == 0 {
		t.Fatalf("failed daemon start reported success:\n%s", out)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}
