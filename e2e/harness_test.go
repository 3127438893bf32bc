// Package e2e holds the end-to-end tests: real SIP over real sockets on
// 127.0.0.1 against the ser engine (in-process, or the built binary),
// driven by Go test UAs, SIPp and sipsak.
package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core"
	"ser/core/sipmsg"
	"ser/internal/daemon" // the assembly: engine, modules, frontends
)

// serBin is the ser binary built once for the process-level tests.
var serBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ser-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serBin = filepath.Join(dir, "ser")
	out, err := exec.Command("go", "build", "-o", serBin, "ser").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ser: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a ser instance running in the test process.
type server struct {
	inst *core.Instance
	port int    // UDP and TCP port on 127.0.0.1
	dir  string // scratch directory (FIFO, databases)
	log  *logBuffer
}

// addr returns "127.0.0.1:port".
func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// udpAddr returns the server's UDP address.
func (s *server) udpAddr() *net.UDPAddr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port}
}

// startSer loads a config and runs it on 127.0.0.1 with a free port for
// UDP and TCP; the FIFO (when the config names one) and other paths move
// into a scratch directory. The server stops when the test ends; its log
// is printed if the test failed.
func startSer(t testing.TB, config string, override ...func(*core.Options)) *server {
	t.Helper()
	return startSerLevel(t, slog.LevelDebug, config, override...)
}

// startSerLevel is startSer with the log threshold given (benchmarks log
// only warnings, as a production server would).
func startSerLevel(t testing.TB, level slog.Level, config string, override ...func(*core.Options)) *server {
	t.Helper()
	s := &server{dir: t.TempDir(), log: &logBuffer{}}
	lg := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: level}))
	inst, err := core.Load("test.cfg", []byte(config), core.LoadOptions{
		Log: lg,
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Host: "127.0.0.1", Port: 0, PortSet: true}}
			o.Port = 0
			if o.FIFO != "" {
				o.FIFO = filepath.Join(s.dir, "ser_fifo")
			}
			o.FIFODir = s.dir + "/"
			if o.UnixSock != "" {
				o.UnixSock = filepath.Join(s.dir, "ser.sock")
			}
			o.HTTP = ""
			if o.DBURL == "" {
				// Keep the default database out of the source tree.
				o.DBURL = "sqlite://" + filepath.Join(s.dir, "ser.db")
			}
			for _, f := range override {
				f(o)
			}
		},
	})
	if err != nil {
		t.Fatalf("config does not load:\n%v", err)
	}
	d, err := daemon.Start(inst)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	s.inst = inst
	for _, sk := range inst.Server.Sockets() {
		if sk.Proto == sipmsg.ProtoUDP {
			s.port = sk.Port
		}
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("ser log:\n%s", s.log.String())
		}
	})
	return s
}

// logBuffer collects the server's log for failed tests.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ua is a minimal SIP user agent on a UDP socket for tests.
type ua struct {
	t    testing.TB
	conn *net.UDPConn
	port int
}

func newUA(t testing.TB) *ua {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &ua{t: t, conn: c, port: c.LocalAddr().(*net.UDPAddr).Port}
}

// hostport returns "127.0.0.1:port" of the UA.
func (u *ua) hostport() string { return "127.0.0.1:" + strconv.Itoa(u.port) }

// send writes a message (LF line ends become CRLF; the Content-Length
// placeholder %CL% is filled in).
func (u *ua) send(to *net.UDPAddr, msg string) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDP([]byte(crlf(msg)), to); err != nil {
		u.t.Fatal(err)
	}
}

// recv waits for one message.
func (u *ua) recv() (string, *net.UDPAddr) {
	u.t.Helper()
	buf := make([]byte, 65536)
	u.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := u.conn.ReadFromUDP(buf)
	if err != nil {
		u.t.Fatalf("ua %d: no message: %v", u.port, err)
	}
	return string(buf[:n]), from
}

// recvFor waits for a message whose first line contains want, skipping
// others (e.g. 100 Trying).
func (u *ua) recvFor(want string) (string, *net.UDPAddr) {
	u.t.Helper()
	for i := 0; i < 10; i++ {
		m, from := u.recv()
		first, _, _ := strings.Cut(m, "\r\n")
		if strings.Contains(first, want) {
			return m, from
		}
	}
	u.t.Fatalf("ua %d: never got %q", u.port, want)
	return "", nil
}

// silent asserts that nothing arrives within d.
func (u *ua) silent(d time.Duration) {
	u.t.Helper()
	buf := make([]byte, 65536)
	u.conn.SetReadDeadline(time.Now().Add(d))
	if n, _, err := u.conn.ReadFromUDP(buf); err == nil {
		u.t.Fatalf("ua %d: unexpected message:\n%s", u.port, buf[:n])
	}
}

// crlf converts LF line ends to CRLF and fills in %CL% with the body
// length.
func crlf(msg string) string {
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	if i := strings.Index(msg, "\r\n\r\n"); i >= 0 {
		msg = strings.Replace(msg, "%CL%", strconv.Itoa(len(msg)-i-4), 1)
	}
	return msg
}

// header returns the value of the first header called name in a message.
func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n")[1:] {
		if l == "" {
			break
		}
		n, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// headers returns every value of header name.
func headers(msg, name string) []string {
	var out []string
	for _, l := range strings.Split(msg, "\r\n")[1:] {
		if l == "" {
			break
		}
		n, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// firstLine returns the start line of a message.
func firstLine(msg string) string {
	l, _, _ := strings.Cut(msg, "\r\n")
	return l
}

// setPort moves the server onto a fixed port (for tools that need one).
func setPort(o *core.Options, port int) {
	o.Listen = []core.ListenAddr{{Host: "127.0.0.1", Port: port, PortSet: true}}
}
