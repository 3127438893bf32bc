package fifo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// errRefused marks a reply the server would not write: the reply name or
// the file it names failed SER's safety checks.
var errRefused = errors.New("reply refused")

// replyWriter delivers FIFO replies the way SER's open_reply_pipe did, with
// its checks: the reply name is a bare file name in the reply directory,
// the file is a FIFO that is not a symlink and not hard-linked, and the
// FIFO opened is the inode checked.
type replyWriter struct {
	dir     string
	retries int           // FIFO_REPLY_RETRIES: extra opens on ENXIO
	wait    time.Duration // FIFO_REPLY_WAIT: pause between them
	timeout time.Duration // for writing the whole reply
}

// write sends text to the reply FIFO name. An empty name means no reply.
func (w *replyWriter) write(ctx context.Context, name, text string) error {
	if name == "" {
		return nil
	}
	if strings.ContainsAny(name, `./\`) {
		return fmt.Errorf("fifo: reply %q: %w: forbidden file name", name, errRefused)
	}
	path := filepath.Join(w.dir, name)
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fmt.Errorf("fifo: reply %s: %w", path, err)
	}
	if err := checkReplyFile(path, &st); err != nil {
		return err
	}
	fd, err := w.open(ctx, path)
	if err != nil {
		return err
	}
	var fst unix.Stat_t
	if err := unix.Fstat(fd, &fst); err != nil {
		unix.Close(fd)
		return fmt.Errorf("fifo: reply %s: %w", path, err)
	}
	if fst.Dev != st.Dev || fst.Ino != st.Ino {
		unix.Close(fd)
		return fmt.Errorf("fifo: reply %s: %w: the file changed after it was checked", path, errRefused)
	}
	if err := checkReplyFile(path, &fst); err != nil {
		unix.Close(fd)
		return err
	}
	f := os.NewFile(uintptr(fd), path) // non-blocking: the poller waits
	defer f.Close()
	if err := f.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return fmt.Errorf("fifo: reply %s: %w", path, err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("fifo: reply %s: the client did not read it within %s: %w", path, w.timeout, err)
		}
		return fmt.Errorf("fifo: reply %s: %w", path, err)
	}
	return nil
}

// checkReplyFile refuses anything but a FIFO with a single link.
func checkReplyFile(path string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
	case unix.S_IFLNK:
		return fmt.Errorf("fifo: reply %s: %w: is a symlink", path, errRefused)
	default:
		return fmt.Errorf("fifo: reply %s: %w: not a FIFO", path, errRefused)
	}
	if st.Nlink > 1 {
		return fmt.Errorf("fifo: reply %s: %w: hard-linked (%d links)", path, errRefused, st.Nlink)
	}
	return nil
}

// open opens the FIFO for writing without blocking; while no reader has it
// open (ENXIO) it retries w.retries times, w.wait apart.
func (w *replyWriter) open(ctx context.Context, path string) (int, error) {
	for try := 0; ; try++ {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ELOOP):
			return -1, fmt.Errorf("fifo: reply %s: %w: is a symlink", path, errRefused)
		case !errors.Is(err, unix.ENXIO):
			return -1, fmt.Errorf("fifo: reply %s: %w", path, err)
		case try >= w.retries:
			return -1, fmt.Errorf("fifo: reply %s: no client reading it after %d tries: %w", path, try+1, err)
		}
		t := time.NewTimer(w.wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1, fmt.Errorf("fifo: reply %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}
