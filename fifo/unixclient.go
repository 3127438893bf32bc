package fifo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// UnixClient sends commands to the unix socket server, the way SER's
// serunix did: it binds a socket of its own, sends the request as one
// datagram and receives the reply datagram. With Stream set it connects
// to the stream socket instead (nothing to bind).
type UnixClient struct {
	// Path is the server's socket, default DefaultUnixSock (for Stream,
	// the stream socket's path).
	Path string
	// Dir is where the client binds its own socket, default os.TempDir().
	Dir string
	// Stream selects the stream socket.
	Stream bool
	// Timeout, when set, bounds each Execute on top of ctx.
	Timeout time.Duration
}

// NewUnixClient returns a datagram UnixClient for the socket at path.
func NewUnixClient(path string) *UnixClient { return &UnixClient{Path: path} }

// Execute sends ":cmd:\n", one line per parameter and an empty line, and
// returns the reply. Parameters are written as Client.Execute writes them.
func (c *UnixClient) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	if err := checkCmd(cmd); err != nil {
		return nil, err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	path := c.Path
	if path == "" {
		path = DefaultUnixSock
	}
	req := request(cmd, "", params)
	var text string
	var err error
	if c.Stream {
		text, err = c.stream(ctx, path, req)
	} else {
		text, err = c.datagram(ctx, path, req)
	}
	if err != nil {
		return nil, err
	}
	return rpc.Raw(text), nil
}

// sockErr turns connect/send errors into the client's errors.
func sockErr(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("fifo: %s: %w — is ser running?", path, ErrNoSocket)
	case errors.Is(err, unix.ECONNREFUSED):
		return fmt.Errorf("fifo: %s: %w — is ser running?", path, ErrNoServer)
	}
	return fmt.Errorf("fifo: %s: %w", path, err)
}

func (c *UnixClient) datagram(ctx context.Context, path string, req []byte) (string, error) {
	if len(req) > BufSize {
		return "", fmt.Errorf("fifo: %s: request of %d bytes is over the datagram limit %d", path, len(req), BufSize)
	}
	dir := c.Dir
	if dir == "" {
		dir = os.TempDir()
	}
	var conn *net.UnixConn
	var local string
	var err error
	for range 100 {
		local = filepath.Join(dir, fmt.Sprintf("ser_unix_%d_%d", os.Getpid(), seq.Add(1)))
		conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
		if !errors.Is(err, unix.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("fifo: binding a client socket: %w", err)
	}
	defer os.Remove(local)
	defer conn.Close()
	stopW := interruptOnDone(ctx, conn.SetWriteDeadline)
	_, err = conn.WriteToUnix(req, &net.UnixAddr{Name: path, Net: "unixgram"})
	stopW()
	if err != nil {
		if e := ctxOr(ctx, err); e != err {
			return "", fmt.Errorf("fifo: %s: sending: %w", path, e)
		}
		return "", sockErr(path, err)
	}
	stop := interruptOnDone(ctx, conn.SetReadDeadline)
	defer stop()
	buf := make([]byte, BufSize+1)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		return "", fmt.Errorf("fifo: no reply from %s: %w", path, ctxOr(ctx, err))
	}
	return string(buf[:n]), nil
}

func (c *UnixClient) stream(ctx context.Context, path string, req []byte) (string, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if e := ctxOr(ctx, err); e != err {
			return "", fmt.Errorf("fifo: %s: %w", path, e)
		}
		return "", sockErr(path, err)
	}
	conn := nc.(*net.UnixConn)
	defer conn.Close()
	stop := interruptOnDone(ctx, conn.SetDeadline)
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return "", fmt.Errorf("fifo: %s: sending: %w", path, ctxOr(ctx, err))
	}
	if err := conn.CloseWrite(); err != nil {
		return "", fmt.Errorf("fifo: %s: %w", path, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("fifo: no reply from %s: %w", path, ctxOr(ctx, err))
	}
	if len(out) == 0 {
		return "", fmt.Errorf("fifo: no reply from %s: connection closed", path)
	}
	return string(out), nil
}

// ctxOr prefers ctx's error over the I/O error it caused: a deadline
// set from ctx may expire just before ctx reports it.
func ctxOr(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	if d, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}
