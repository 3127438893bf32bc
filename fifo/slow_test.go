package fifo_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/fifo"
)

// TestSlowWriters (issue 21): a shell client writes the first line of its
// request, pauses, then writes the parameter lines in separate writes, as
// `{ printf …; sleep …; printf …; } > fifo` does. Every line reaches the
// command, whatever the pause (each delay has its own server, so the
// cases run in parallel).
func TestSlowWriters(t *testing.T) {
	for _, delay := range []string{"0", "0.05", "0.3", "1", "3"} {
		t.Run(delay, func(t *testing.T) {
			t.Parallel()
			s, dir, _ := startFIFO(t, testRegistry(nil), nil)
			out := runShell(t, 30*time.Second, `set -e
cd "$DIR"
mkfifo r1 r2
cat r1 > r1.out &
{ printf ':echo:r1\n'; sleep $D; printf 'location\n'; printf 'nobody\n\n'; } > "$FIFO"
wait
cat r2 > r2.out &
{ printf ':sets:r2\nMESSAGE\n'; sleep $D; printf 'A: 1\n'; printf 'B: 2\n\n'; sleep $D; printf 'hello\n'; printf '.\n\n'; } > "$FIFO"
wait
cat r1.out r2.out`, "DIR="+dir, "FIFO="+s.Path(), "D="+delay)
			want := "200 ok\nlocation\nnobody\n" +
				"200 ok\nline=MESSAGE\nset=[\"A: 1\" \"B: 2\"]\nbody=[\"hello\"]\n"
			if out != want {
				t.Fatalf("replies\n got %q\nwant %q", out, want)
			}
		})
	}
}

// TestStalledWriter: a client stops writing in the middle of its request
// (between two lines, or in the middle of a line) and never goes on,
// while 50 other shell clients write whole requests: all 50 are answered
// while the stalled request waits, and the stalled one gets its 408 at the
// request's deadline.
func TestStalledWriter(t *testing.T) {
	for _, tc := range []struct{ name, stall, log string }{
		{"between lines", `printf ':echo:stalled\nfirst line\n'`, "partial=0"},
		{"mid-line", `printf ':echo:stalled\nfirst line\nsecond li'`, "partial=9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const timeout = 20 * time.Second
			s, dir, logs := startFIFO(t, testRegistry(nil), func(c *fifo.Config) { c.RequestTimeout = timeout })
			stalled := replyReader(t, filepath.Join(dir, "stalled"))
			writer := exec.Command("sh", "-c", "{ "+tc.stall+"; exec sleep 1000; } > \"$FIFO\"")
			writer.Env = append(os.Environ(), "FIFO="+s.Path())
			writer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := writer.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Kill(-writer.Process.Pid, syscall.SIGKILL); writer.Wait() })
			waitLog(t, logs, tc.log)

			script, err := os.ReadFile("testdata/concurrent.sh")
			if err != nil {
				t.Fatal(err)
			}
			runShell(t, 60*time.Second, string(script), "DIR="+dir, "FIFO="+s.Path(), "N=50")
			if st := s.Stats(); st.Incomplete != 0 {
				t.Fatalf("the stalled request timed out before the 50 clients were served (%+v): the box is too slow for this test's %s", st, timeout)
			}
			for i := 0; i < 50; i++ {
				got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("ser_receiver_%d.out", i)))
				if err != nil {
					t.Fatal(err)
				}
				var want strings.Builder
				want.WriteString("200 ok\n")
				for j := 0; j < 20; j++ {
					fmt.Fprintf(&want, "process %d line %d\n", i, j)
				}
				if string(got) != want.String() {
					t.Errorf("process %d: reply\n got %q\nwant %q", i, got, want.String())
				}
			}
			want := "408 echo: request incomplete: the rest of it did not arrive within 20s\n"
			if got := stalled(timeout + 10*time.Second); got != want {
				t.Fatalf("stalled client's reply %q, want %q", got, want)
			}
			if st := s.Stats(); st.Incomplete != 1 || st.Requests != 51 {
				t.Fatalf("stats %+v", st)
			}
			// The server goes on as usual.
			r := replyReader(t, filepath.Join(dir, "after"))
			writeFIFO(t, s.Path(), ":echo:after\nstill here\n\n")
			if got := r(5 * time.Second); got != "200 ok\nstill here\n" {
				t.Fatalf("reply after the timeout %q", got)
			}
		})
	}
}

// TestSlowReplyReaders (issue 14): 70 clients ask for a reply bigger than
// a pipe's buffer and never read it. Other clients are answered
// meanwhile; the 70 replies are dropped at ReplyTimeout, logged and
// counted.
func TestSlowReplyReaders(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a contact line of a big ul_dump reply, more or less\n", 3000) // 159 KB
	reg := testRegistry(nil)
	reg.MustRegister(rpc.Command{Name: "big", Handler: func(context.Context, *rpc.Request) *rpc.Reply {
		return rpc.NewReply(200, "ok", big)
	}})
	s, dir, logs := startFIFO(t, reg, func(c *fifo.Config) { c.ReplyRetries = 4 })
	const stalled = 70
	for i := 0; i < stalled; i++ {
		name := fmt.Sprintf("stalled%d", i)
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0600); err != nil {
			t.Fatal(err)
		}
		// Open for reading, never read.
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		writeFIFO(t, s.Path(), ":big:"+name+"\n\n")
	}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("reader%d", i)
		r := replyReader(t, filepath.Join(dir, name))
		writeFIFO(t, s.Path(), fmt.Sprintf(":echo:%s\nclient %d\n\n", name, i))
		if got, want := r(5*time.Second), fmt.Sprintf("200 ok\nclient %d\n", i); got != want {
			t.Fatalf("client %d: reply %q while 70 readers stall, want %q", i, got, want)
		}
	}
	if st := s.Stats(); st.RepliesDropped != 0 {
		t.Fatalf("replies dropped before ReplyTimeout (%+v): the box is too slow for this test", st)
	}
	for end := time.Now().Add(fifo.DefaultReplyTimeout + 20*time.Second); s.Stats().RepliesDropped < stalled; {
		if time.Now().After(end) {
			t.Fatalf("stalled replies not dropped: %+v", s.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "did not read it within 10s"); n != stalled {
		t.Fatalf("%d stalled replies logged, want %d:\n%s", n, stalled, logs.String())
	}
	if st := s.Stats(); st.RepliesDropped != stalled || st.Requests != stalled+20 {
		t.Fatalf("stats %+v", st)
	}
}
