package fifo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// DefaultFIFO is the FIFO path serctl and serweb assume.
const DefaultFIFO = "/tmp/ser_fifo"

// DefaultReplyMode is the client's reply FIFO permissions: the client reads
// it, the server (possibly another user) writes it.
const DefaultReplyMode = 0622

// Client errors, for errors.Is.
var (
	ErrNoFIFO   = errors.New("no such FIFO")
	ErrNoSocket = errors.New("no such socket")
	ErrNoServer = errors.New("no server is reading it")
)

// Client and UnixClient implement rpc.Executor, the management plane's one
// client interface (the XML-RPC bridge, serctl and the web console take
// one).
var (
	_ rpc.Executor = (*Client)(nil)
	_ rpc.Executor = (*UnixClient)(nil)
)

// seq numbers the client's reply FIFOs and sockets within the process.
var seq atomic.Uint64

// Client sends commands to a FIFO server, the way serctl's fifo_cmd did.
// The zero value uses /tmp/ser_fifo and /tmp/.
type Client struct {
	// Path is the server's FIFO, default DefaultFIFO.
	Path string
	// ReplyDir is where the reply FIFO is made; it must be the server's
	// fifo_dir. Default "/tmp/".
	ReplyDir string
	// ReplyMode is the reply FIFO's permissions, default 0622.
	ReplyMode os.FileMode
	// Timeout, when set, bounds each Execute on top of ctx.
	Timeout time.Duration
}

// NewClient returns a Client for the FIFO at path with the default reply
// directory.
func NewClient(path string) *Client { return &Client{Path: path} }

func (c *Client) path() string {
	if c.Path == "" {
		return DefaultFIFO
	}
	return c.Path
}

// Execute sends ":cmd:<reply>\n", one line per parameter and an empty line
// in one write, then reads the reply FIFO until the server closes it. A
// parameter holding line feeds is written as it is (several lines, e.g. a
// header set); its final line feed, if any, is dropped, as rpc.Lines does.
// The reply is returned whatever its status; an error means there was no
// reply.
func (c *Client) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	if err := checkCmd(cmd); err != nil {
		return nil, err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	path := c.path()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("fifo: %s: %w — is ser running?", path, ErrNoFIFO)
		}
		return nil, fmt.Errorf("fifo: %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil, fmt.Errorf("fifo: %s: not a FIFO", path)
	}
	name, rpath, err := c.makeReplyFIFO()
	if err != nil {
		return nil, err
	}
	defer os.Remove(rpath)
	// Open the read side first (non-blocking, so the open returns at
	// once): the server then never finds the reply FIFO without a reader.
	rf, err := os.OpenFile(rpath, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("fifo: reply FIFO: %w", err)
	}
	defer rf.Close()
	if err := c.send(ctx, path, request(cmd, name, params)); err != nil {
		return nil, err
	}
	text, err := readReply(ctx, rf)
	if err != nil {
		return nil, fmt.Errorf("fifo: %s: no reply from %s: %w", cmd, path, err)
	}
	return rpc.Raw(text), nil
}

// checkCmd refuses names that would break the request's first line.
func checkCmd(cmd string) error {
	if cmd == "" || strings.ContainsAny(cmd, ":\r\n") {
		return fmt.Errorf("fifo: invalid command name %q", cmd)
	}
	return nil
}

// request builds the request text.
func request(cmd, reply string, params []string) []byte {
	var b strings.Builder
	b.WriteString(":" + cmd + ":" + reply + "\n")
	for _, p := range params {
		b.WriteString(strings.TrimSuffix(p, "\n"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// makeReplyFIFO creates a fresh reply FIFO (a name without dots, as the
// server requires). An existing file is never reused.
func (c *Client) makeReplyFIFO() (name, path string, err error) {
	dir := c.ReplyDir
	if dir == "" {
		dir = DefaultDir
	}
	mode := c.ReplyMode
	if mode == 0 {
		mode = DefaultReplyMode
	}
	for range 100 {
		name = fmt.Sprintf("ser_receiver_%d_%d", os.Getpid(), seq.Add(1))
		path = filepath.Join(dir, name)
		err = unix.Mkfifo(path, 0600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("fifo: reply FIFO: %w", err)
		}
		if err := os.Chmod(path, mode.Perm()); err != nil {
			os.Remove(path)
			return "", "", fmt.Errorf("fifo: reply FIFO: %w", err)
		}
		return name, path, nil
	}
	return "", "", fmt.Errorf("fifo: reply FIFO in %s: %w", dir, err)
}

// send writes the request to the server FIFO in one write.
func (c *Client) send(ctx context.Context, path string, req []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ENXIO) {
			return fmt.Errorf("fifo: %s: %w — is ser running?", path, ErrNoServer)
		}
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("fifo: %s: %w — is ser running?", path, ErrNoFIFO)
		}
		return fmt.Errorf("fifo: %w", err)
	}
	defer f.Close()
	stop := interruptOnDone(ctx, f.SetWriteDeadline)
	defer stop()
	if _, err := f.Write(req); err != nil {
		return fmt.Errorf("fifo: writing to %s: %w", path, ctxOr(ctx, err))
	}
	return nil
}

// interruptOnDone applies ctx's deadline through setDeadline and moves the
// deadline to the past when ctx is cancelled. stop releases it.
func interruptOnDone(ctx context.Context, setDeadline func(time.Time) error) (stop func() bool) {
	if d, ok := ctx.Deadline(); ok {
		setDeadline(d)
	}
	return context.AfterFunc(ctx, func() { setDeadline(time.Unix(1, 0)) })
}

// readReply reads the reply FIFO until the server, having written, closes
// it. Before the server opened it a read returns 0 as well; that is not
// the end, so the reader waits for data. An empty reply is therefore only
// ended by ctx.
func readReply(ctx context.Context, f *os.File) (string, error) {
	stop := interruptOnDone(ctx, f.SetReadDeadline)
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	var out []byte
	buf := make([]byte, 32<<10)
	var rerr error
	hup := false
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, err := unix.Read(int(fd), buf)
			switch {
			case n > 0:
				out = append(out, buf[:n]...)
				continue
			case errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN):
				return false
			case err != nil:
				rerr = err
				return true
			case len(out) > 0:
				return true // EOF after the reply
			case hup:
				return true // the server opened and closed it: an empty reply (DB insert)
			case testHookEmptyRead() && hungUp(int(fd)):
				// A writer came and went between the read and the poll:
				// read once more for what it left before calling the
				// reply empty.
				hup = true
			default:
				return false // no writer yet
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return "", ctxOr(ctx, err)
	}
	return string(out), nil
}

// testHookEmptyRead runs between a read that found nothing and the
// hang-up check (tests put a whole reply there); it returns true.
var testHookEmptyRead = func() bool { return true }

// hungUp reports whether a writer has opened the FIFO and closed it again.
// A read of 0 bytes cannot tell that from "no writer yet"; Linux sets
// POLLHUP only in the first case.
func hungUp(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&unix.POLLHUP != 0
}
