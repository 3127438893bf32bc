package fifo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// Defaults of the unix socket server (SER 0.9).
const (
	DefaultUnixSock   = "/tmp/ser.sock"
	DefaultChildren   = 1
	DefaultTxTimeout  = 2000 * time.Millisecond
	DefaultStreamIdle = 100 * time.Millisecond
	// BufSize is SER's BUF_SIZE: the largest request and reply datagram.
	BufSize = 65535
)

// UnixProcessDesc is a unix socket worker's entry in SER's process table.
const UnixProcessDesc = "unix domain socket server"

// UnixConfig configures the unix socket server. Zero fields take the
// defaults.
type UnixConfig struct {
	// Path is the datagram socket (unix_sock). Required.
	Path string
	// Children is the number of workers reading the datagram socket
	// (unix_sock_children), default 1: requests run one at a time per
	// worker.
	Children int
	// TxTimeout bounds sending a reply (unix_tx_timeout), default 2 s.
	TxTimeout time.Duration
	// StreamPath, when set, adds a SOCK_STREAM socket for clients that
	// cannot bind a socket of their own: one request per connection, the
	// reply is written back and the connection closed. Up to Children
	// connections run commands at once.
	StreamPath string
	// StreamIdle ends a stream request that the client did not end by
	// shutting down its write side: after an empty line that ends what
	// the client wrote (the request's terminator), that much silence ends
	// the request. Default 100 ms.
	StreamIdle time.Duration
	// RequestTimeout bounds the arrival of a stream request: a client
	// pausing after any other line is waited for, then answered "408
	// Request incomplete…". Default 10 s.
	RequestTimeout time.Duration
	// Mode, User and Group apply to the socket files as to the FIFO
	// (sock_mode, sock_user, sock_group); Mode defaults to 0660.
	Mode        os.FileMode
	User, Group string
	// MaxRequest bounds a stream request, default 1 MiB (a datagram is at
	// most BufSize).
	MaxRequest int
	// Logger receives the server's log; default slog.Default().
	Logger *slog.Logger
}

func (c *UnixConfig) defaults() error {
	if c.Path == "" {
		return fmt.Errorf("fifo: unixsock: no socket path")
	}
	if c.Children <= 0 {
		c.Children = DefaultChildren
	}
	if c.TxTimeout <= 0 {
		c.TxTimeout = DefaultTxTimeout
	}
	if c.StreamIdle <= 0 {
		c.StreamIdle = DefaultStreamIdle
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTime
	}
	if c.Mode == 0 {
		c.Mode = DefaultMode
	}
	if c.MaxRequest <= 0 {
		c.MaxRequest = DefaultMaxRequest
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// UnixServer is SER 0.9's unix socket server: one request per datagram,
// the reply sent to the sender's address; optionally also on a stream
// socket.
type UnixServer struct {
	cfg    UnixConfig
	reg    *rpc.Registry
	log    *slog.Logger
	conn   *net.UnixConn
	id     fileID
	ln     *net.UnixListener
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{} // stream requests running
	wg     sync.WaitGroup
	once   sync.Once
}

// ListenUnix binds the datagram socket (and the stream socket if
// configured), removing old sockets at those paths, and starts serving
// reg. Close stops the server and removes the sockets.
func ListenUnix(cfg UnixConfig, reg *rpc.Registry) (*UnixServer, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	uid, gid, err := owner(cfg.User, cfg.Group)
	if err != nil {
		return nil, err
	}
	s := &UnixServer{cfg: cfg, reg: reg, log: cfg.Logger.With("module", "fifo"),
		slots: make(chan struct{}, cfg.Children)}
	if err := removeStale(cfg.Path, unix.S_IFSOCK, "socket"); err != nil {
		return nil, err
	}
	s.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: cfg.Path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("fifo: unixsock: %w", err)
	}
	s.id, _ = statID(cfg.Path)
	if err := setMode(cfg.Path, cfg.Mode.Perm(), uid, gid); err != nil {
		s.closeSockets()
		return nil, err
	}
	if cfg.StreamPath != "" {
		if err := removeStale(cfg.StreamPath, unix.S_IFSOCK, "socket"); err != nil {
			s.closeSockets()
			return nil, err
		}
		s.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: cfg.StreamPath, Net: "unix"})
		if err != nil {
			s.closeSockets()
			return nil, fmt.Errorf("fifo: unixsock: %w", err)
		}
		if err := setMode(cfg.StreamPath, cfg.Mode.Perm(), uid, gid); err != nil {
			s.closeSockets()
			return nil, err
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for i := 0; i < cfg.Children; i++ {
		s.wg.Add(1)
		go s.serveDatagrams()
	}
	if s.ln != nil {
		s.wg.Add(1)
		go s.serveStream()
	}
	s.log.Info("unix socket server up", "path", cfg.Path, "stream", cfg.StreamPath, "children", cfg.Children)
	return s, nil
}

// Path returns the datagram socket's path.
func (s *UnixServer) Path() string { return s.cfg.Path }

// Processes returns the server's process-table descriptions: one
// "unix domain socket server" entry per child, as SER's ps listed them.
func (s *UnixServer) Processes() []string {
	out := make([]string, s.cfg.Children)
	for i := range out {
		out[i] = UnixProcessDesc
	}
	return out
}

// Close stops the server, cancels running commands, waits for them and
// removes the socket files.
func (s *UnixServer) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.closeSockets()
		s.wg.Wait()
		s.log.Info("unix socket server down", "path", s.cfg.Path)
	})
	return nil
}

func (s *UnixServer) closeSockets() {
	if s.conn != nil {
		s.conn.Close()
		removeIfSame(s.cfg.Path, s.id)
	}
	if s.ln != nil {
		s.ln.Close() // removes the stream socket file
	}
}

// serveDatagrams is one worker: read a datagram, run it, answer.
func (s *UnixServer) serveDatagrams() {
	defer s.wg.Done()
	buf := make([]byte, BufSize)
	for {
		n, from, err := s.conn.ReadFromUnix(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.log.Error("unixsock: receive", "err", err)
			continue
		}
		rep := s.handle(buf[:n])
		if from == nil || from.Name == "" {
			s.log.Debug("unixsock: no sender address, reply dropped")
			continue
		}
		if len(rep) > BufSize {
			s.log.Error("unixsock: reply over the datagram size", "size", len(rep))
			rep = "500 Reply too long\n"
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.cfg.TxTimeout))
		if _, err := s.conn.WriteToUnix([]byte(rep), from); err != nil {
			s.log.Error("unixsock: send reply", "to", from.Name, "err", err)
		}
	}
}

// handle parses and runs one request and returns the reply text.
func (s *UnixServer) handle(b []byte) (text string) {
	req, err := ParseDatagram(b)
	if err != nil {
		s.log.Error("unixsock: request", "err", err)
		return "400 First line malformed\n"
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("command panicked", "cmd", req.Cmd, "panic", p, "stack", string(debug.Stack()))
			text = fmt.Sprintf("500 Command %s failed\n", req.Cmd)
		}
	}()
	if _, ok := s.reg.Lookup(req.Cmd); !ok {
		s.log.Error("unixsock: could not find command", "cmd", req.Cmd)
	}
	return s.reg.Execute(s.ctx, req.Cmd, req.Params(rpc.UnixSock), rpc.UnixSock).Text
}

// serveStream accepts stream connections.
func (s *UnixServer) serveStream() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.log.Error("unixsock: accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serveConn(c)
		}()
	}
}

// serveConn reads one request from a stream connection (until the client
// shuts down its write side, or StreamIdle after an empty line ending what
// it wrote), runs it and writes the reply. A client pausing anywhere else
// is waited for until RequestTimeout.
func (s *UnixServer) serveConn(c *net.UnixConn) {
	stop := context.AfterFunc(s.ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	var req []byte
	buf := make([]byte, 32<<10)
	deadline := time.Now().Add(s.cfg.RequestTimeout)
	for {
		d := deadline
		if terminated(req) {
			d = time.Now().Add(s.cfg.StreamIdle)
		}
		c.SetReadDeadline(d)
		n, err := c.Read(buf)
		req = append(req, buf[:n]...)
		if len(req) > s.cfg.MaxRequest {
			s.log.Error("unixsock: stream request over the size limit", "limit", s.cfg.MaxRequest)
			return
		}
		if err == nil {
			continue
		}
		if s.ctx.Err() != nil || len(req) == 0 {
			return
		}
		if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) && terminated(req) {
			break // the client is done writing, or idle after the terminator
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.log.Warn("unixsock: stream request incomplete: the rest of it did not arrive in time", "timeout", s.cfg.RequestTimeout)
			c.SetWriteDeadline(time.Now().Add(s.cfg.TxTimeout))
			fmt.Fprintf(c, "408 Request incomplete: the rest of it did not arrive within %s\n", s.cfg.RequestTimeout)
			return
		}
		s.log.Error("unixsock: stream request", "err", err)
		return
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.ctx.Done():
		return
	}
	rep := s.handle(req)
	<-s.slots
	c.SetWriteDeadline(time.Now().Add(s.cfg.TxTimeout))
	if _, err := c.Write([]byte(rep)); err != nil {
		s.log.Error("unixsock: stream reply", "err", err)
	}
}

// terminated reports whether a stream request received so far ends with
// an empty line (the request's terminator).
func terminated(req []byte) bool {
	return bytes.HasSuffix(req, []byte("\n\n")) || bytes.HasSuffix(req, []byte("\n\r\n"))
}
