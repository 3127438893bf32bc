package fifo_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/fifo"
)

// shortDir is a fresh directory with a short path (unix socket paths are
// limited to 108 bytes), removed after the test.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "fifo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// logBuf collects a server's log for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testRegistry has the commands the tests use:
//   - echo: replies every parameter line, one per line;
//   - sets: a line, a header set and a body, printed with markers;
//   - slow: waits until release is closed (or the context ends);
//   - boom: panics.
func testRegistry(release <-chan struct{}) *rpc.Registry {
	reg := rpc.NewRegistry()
	reg.MustRegister(
		rpc.Command{Name: "echo", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			var b strings.Builder
			for {
				l, ok := req.Params.Line()
				if !ok {
					break
				}
				b.WriteString(l + "\n")
			}
			return rpc.NewReply(200, req.OK()[4:], b.String())
		}},
		rpc.Command{Name: "sets", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			first, _ := req.Params.Line()
			set, _ := req.Params.LineSet()
			body, _ := req.Params.Body()
			return rpc.NewReply(200, "ok", fmt.Sprintf("line=%s\nset=%q\nbody=%q\n", first, set, body))
		}},
		rpc.Command{Name: "slow", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			select {
			case <-release:
				return rpc.NewReply(200, "ok", "slow done\n")
			case <-ctx.Done():
				return rpc.Errorf(500, "cancelled")
			}
		}},
		// waiter reads its one line, says so, and waits like t_uac_dlg.
		rpc.Command{Name: "waiter", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			l, _ := req.Params.Line()
			rpc.DoneReading(req.Params)
			select {
			case <-release:
				return rpc.NewReply(200, "ok", l+" done\n")
			case <-ctx.Done():
				return rpc.Errorf(500, "cancelled")
			}
		}},
		// lazy is a command starved of CPU before it reads its line.
		rpc.Command{Name: "lazy", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			time.Sleep(300 * time.Millisecond)
			l, ok := req.Params.Line()
			return rpc.NewReply(200, "ok", fmt.Sprintf("%q %v\n", l, ok))
		}},
		rpc.Command{Name: "boom", Handler: func(context.Context, *rpc.Request) *rpc.Reply {
			panic("boom")
		}},
	)
	return reg
}

// startFIFO starts a FIFO server in a fresh directory that is also the
// reply directory.
func startFIFO(t *testing.T, reg *rpc.Registry, mod func(*fifo.Config)) (*fifo.Server, string, *logBuf) {
	t.Helper()
	dir := shortDir(t)
	logs := &logBuf{}
	cfg := fifo.Config{
		Path:         filepath.Join(dir, "ser_fifo"),
		Dir:          dir + "/",
		ReplyRetries: 25, // shells may be slow to open their reply FIFO
		Logger:       logs.logger(),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := fifo.Listen(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, logs
}

// runShell runs a POSIX shell script with env, in its own process group
// that is killed if the script outlives the timeout.
func runShell(t *testing.T, timeout time.Duration, script string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("sh: %v\nstderr: %s\nstdout: %q", err, errb.String(), out.String())
	}
	return out.String()
}

// replyReader opens a reply FIFO for reading without blocking and returns
// a function that reads what arrives within d.
func replyReader(t *testing.T, path string) func(d time.Duration) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return func(d time.Duration) string {
		var out []byte
		buf := make([]byte, 4096)
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			f.SetReadDeadline(end)
			n, err := f.Read(buf)
			out = append(out, buf[:n]...)
			if err == io.EOF && len(out) > 0 {
				break
			}
			if err != nil && err != io.EOF {
				break
			}
			if n == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		return string(out)
	}
}

// writeFIFO writes b to the server FIFO in one write.
func writeFIFO(t *testing.T, path string, b string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b); err != nil {
		t.Fatal(err)
	}
}

// transcript is a testdata file: sections "-- name --" whose content runs
// to the next marker, final line feed included. "<CR>" stands for a
// carriage return and a final "<NOEOL>" for a missing final line feed.
type transcript map[string]string

func readTranscript(t *testing.T, path string) transcript {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := transcript{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			s := strings.ReplaceAll(body.String(), "<CR>", "\r")
			tr[name] = strings.TrimSuffix(s, "<NOEOL>\n")
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			flush()
			name = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
	return tr
}

// waitLog waits until the server's log holds text.
func waitLog(t *testing.T, logs *logBuf, text string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), text); {
		if time.Now().After(end) {
			t.Fatalf("log lacks %q:\n%s", text, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
