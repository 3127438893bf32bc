package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ser/fifo"
)

// fifoClient returns a Go FIFO client for a running ser.
func fifoClient(srv *server) *fifo.Client {
	c := fifo.NewClient(srv.inst.Server.Options().FIFO)
	c.ReplyDir = srv.dir
	c.Timeout = 10 * time.Second
	return c
}

// TestFIFOSlowWriters is issue 21's reproduction: a shell writes the first
// line of ul_show_contact, pauses, then writes the table and the user in
// two more writes. The reply is the one the same request gets in one
// write, for every pause (each has its own ser, so they run in parallel).
func TestFIFOSlowWriters(t *testing.T) {
	for _, delay := range []string{"0", "0.05", "0.3", "1", "3"} {
		t.Run(delay, func(t *testing.T) {
			t.Parallel()
			srv := startSer(t, readCfg(t, "helloworld.cfg"))
			rep, err := fifoClient(srv).Execute(context.Background(), "ul_show_contact", []string{"location", "nobody"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rep.Text, "404 ") {
				t.Fatalf("one-write reply %q", rep.Text)
			}
			sh := `set -e
cd "$DIR"
mkfifo -m 666 r
cat r > r.out &
{ printf ':ul_show_contact:r\n'; sleep $D; printf 'location\n'; printf 'nobody\n\n'; } > "$FIFO"
wait
cat r.out`
			cmd := exec.Command("sh", "-c", sh)
			cmd.Env = append(os.Environ(), "DIR="+srv.dir, "FIFO="+srv.inst.Server.Options().FIFO, "D="+delay)
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != rep.Text {
				t.Fatalf("slow writer: %v: reply %q, want %q", err, out, rep.Text)
			}
		})
	}
}

// TestFIFOStalledReplyReaders (issue 14): 70 clients ask for ul_dump with
// enough contacts to overflow a pipe's buffer and never read the reply.
// Other clients' commands are answered meanwhile; the 70 replies are
// dropped at the reply deadline, logged and counted in core_stats.
func TestFIFOStalledReplyReaders(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	c := fifoClient(srv)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < 800; i += 4 {
				rep, err := c.Execute(ctx, "ul_add", []string{"location", fmt.Sprintf("user%d", i),
					fmt.Sprintf("sip:user%d@192.0.2.%d:5060;transport=udp", i, i%250+1), "3600", "0.5", "0", "0"})
				if err == nil && rep.Code != 200 {
					err = fmt.Errorf("ul_add: %q", rep.Text)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	dump, err := c.Execute(ctx, "ul_dump", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Text) <= 64<<10 {
		t.Fatalf("ul_dump reply %d bytes, not over a pipe's 64 KB", len(dump.Text))
	}

	const stalled = 70
	for i := 0; i < stalled; i++ {
		name := fmt.Sprintf("stalled%d", i)
		path := filepath.Join(srv.dir, name)
		if err := syscall.Mkfifo(path, 0600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // never read
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		w, err := os.OpenFile(srv.inst.Server.Options().FIFO, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.WriteString(":ul_dump:" + name + "\n\n")
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		rep, err := c.Execute(ctx, "ul_show_contact", []string{"location", fmt.Sprintf("user%d", i)})
		if err != nil || rep.Code != 200 || !strings.Contains(rep.Text, fmt.Sprintf("sip:user%d@", i)) {
			t.Fatalf("ul_show_contact while %d readers stall: %v %+v", stalled, err, rep)
		}
	}
	if n := coreStat(t, c, "fifo_replies_dropped"); n != 0 {
		t.Fatalf("%d replies dropped before the reply deadline: the box is too slow for this test", n)
	}
	for end := time.Now().Add(fifo.DefaultReplyTimeout + 30*time.Second); coreStat(t, c, "fifo_replies_dropped") < stalled; {
		if time.Now().After(end) {
			t.Fatalf("stalled replies not dropped: %d", coreStat(t, c, "fifo_replies_dropped"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(srv.log.String(), "did not read it within 10s"); n != stalled {
		t.Fatalf("%d dropped replies logged, want %d", n, stalled)
	}
	if n := coreStat(t, c, "fifo_replies_dropped"); n != stalled {
		t.Fatalf("fifo_replies_dropped %d, want %d", n, stalled)
	}
}

// coreStat returns one counter of core_stats.
func coreStat(t *testing.T, c *fifo.Client, name string) int {
	t.Helper()
	rep, err := c.Execute(context.Background(), "core_stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Lines() {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("core_stats lacks %s:\n%s", name, rep.Text)
	return 0
}
