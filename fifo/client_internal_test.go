package fifo

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadReplyWriterBetweenReadAndPoll puts a whole server reply (open,
// write, close) between the client's read that found nothing and its
// hang-up check: the reply must be read, not taken for an empty one.
// (serctl online printed nothing about once in 3,000 runs before.)
func TestReadReplyWriterBetweenReadAndPoll(t *testing.T) {
	for _, reply := range []string{"200 ok\nnewuser\n", ""} {
		path := filepath.Join(t.TempDir(), "reply")
		if err := unix.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		rf, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		done := false
		testHookEmptyRead = func() bool {
			if !done {
				done = true
				w, err := os.OpenFile(path, os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return true
				}
				w.WriteString(reply)
				w.Close()
			}
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := readReply(ctx, rf)
		cancel()
		rf.Close()
		testHookEmptyRead = func() bool { return true }
		if err != nil || got != reply || !done {
			t.Errorf("reply %q: got %q, %v (hook ran: %v)", reply, got, err, done)
		}
	}
}
