// Package rtpengine starts a throwaway rtpengine (Debian's rtpengine-daemon)
// for tests: userspace relaying only (no kernel module), on 127.0.0.1,
// with its rtpproxy-compatible control protocol on a UDP port and its CLI
// on a TCP port, both picked at run time. Like every external tool of the
// test suites it is skipped on a developer's machine that lacks it and a
// failure under CI (testutil.RequireTool).
package rtpengine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// Server is a running rtpengine; the test's cleanup stops it.
type Server struct {
	// Control is the rtpproxy control address, "127.0.0.1:port" (for
	// nathelper's rtpproxy_sock "udp:" + Control).
	Control string
	// CLI is the address of rtpengine's command line interface (TCP).
	CLI string
	// PortMin and PortMax bound the media ports it relays on.
	PortMin, PortMax int

	proc    *testutil.Proc
	cookies atomic.Uint64
}

// Start starts rtpengine and waits until it answers a version query.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testutil.RequireTool(t, "rtpengine")
	dir := t.TempDir()
	s := &Server{
		Control: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		CLI:     fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
	}
	s.PortMin = mediaPorts(t)
	s.PortMax = s.PortMin + 99
	s.proc = testutil.Start(t, dir, bin,
		"--config-file=none", // no /etc/rtpengine/rtpengine.conf
		"--table=-1",         // userspace only: no kernel module
		"--interface=127.0.0.1",
		"--listen-udp="+s.Control,
		"--listen-cli="+s.CLI,
		"--foreground", "--log-stderr", "--log-level=5",
		"--pidfile="+filepath.Join(dir, "rtpengine.pid"),
		"--port-min="+strconv.Itoa(s.PortMin), "--port-max="+strconv.Itoa(s.PortMax),
		// A deleted call goes at once (default: 30 s later), so a test
		// sees the session disappear.
		"--delete-delay=0",
		"--num-threads=2",
	)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if v, err := s.command("V", 200*time.Millisecond); err == nil && v == "20040107" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("rtpengine did not answer on %s:\n%s", s.Control, s.proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mediaPorts returns the start of a range of 100 UDP ports that were free
// a moment ago, somewhere in 20000–59999 (rtpengine skips ports it cannot
// bind, so a collision costs a port, not the test).
func mediaPorts(t testing.TB) int {
	t.Helper()
	seed := int(time.Now().UnixNano()/1000) + os.Getpid()
	for i := 0; i < 40; i++ {
		base := 20000 + ((seed+i*7919)%400)*100
		free := true
		for p := base; p < base+100 && free; p += 10 {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			c.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free range of media ports")
	return 0
}

// Output returns what rtpengine logged so far.
func (s *Server) Output() string { return s.proc.Output() }

// Stop kills rtpengine (the test's cleanup does it too).
func (s *Server) Stop() { s.proc.Kill() }

// Command sends one rtpproxy control command ("V", "U callid addr port
// tag", …) and returns the answer without its cookie.
func (s *Server) Command(t testing.TB, cmd string) string {
	t.Helper()
	ans, err := s.command(cmd, 3*time.Second)
	if err != nil {
		t.Fatalf("rtpengine %q: %v", cmd, err)
	}
	return ans
}

func (s *Server) command(cmd string, wait time.Duration) (string, error) {
	c, err := net.Dial("udp", s.Control)
	if err != nil {
		return "", err
	}
	defer c.Close()
	cookie := fmt.Sprintf("t%d", s.cookies.Add(1))
	if _, err := c.Write([]byte(cookie + " " + cmd)); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1024)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return "", err
		}
		if ans, ok := strings.CutPrefix(string(buf[:n]), cookie+" "); ok {
			return strings.TrimSpace(ans), nil
		}
	}
}

// CLICommand runs a command of rtpengine's CLI ("list totals", "list
// sessions all") and returns its output.
func (s *Server) CLICommand(t testing.TB, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.CLI, 3*time.Second)
	if err != nil {
		t.Fatalf("rtpengine CLI: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatalf("rtpengine CLI: %v", err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("rtpengine CLI %q: %v", cmd, err)
	}
	return string(out)
}

// Totals returns the numbers of "list totals" by name ("Owned sessions",
// "Total relayed packets", …); a name that occurs twice keeps its first
// value (the running sessions come before the totals).
func (s *Server) Totals(t testing.TB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(s.CLICommand(t, "list totals")))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		v, err := strconv.ParseInt(strings.Fields(val + " x")[0], 10, 64)
		if err != nil || name == "" {
			continue
		}
		if _, dup := out[name]; !dup {
			out[name] = v
		}
	}
	return out
}

// Sessions returns the Call-IDs of the calls rtpengine relays now.
func (s *Server) Sessions(t testing.TB) []string {
	t.Helper()
	var ids []string
	for _, l := range strings.Split(s.CLICommand(t, "list sessions all"), "\n") {
		if rest, ok := strings.CutPrefix(l, "callid:"); ok {
			id, _, _ := strings.Cut(rest, "|")
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}
