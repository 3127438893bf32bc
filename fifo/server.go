package fifo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// Defaults of the FIFO server (SER 0.9 config.h and fifo_server.h).
const (
	DefaultDir          = "/tmp/"
	DefaultMode         = 0660
	DefaultReplyRetries = 4
	DefaultReplyWait    = 80 * time.Millisecond
	DefaultReplyTimeout = 10 * time.Second
	DefaultSyncWait     = 2 * time.Second
	DefaultMaxRunning   = 64
	DefaultMaxRequest   = 1 << 20
)

// ProcessDesc is the FIFO server's entry in SER's process table (ps).
const ProcessDesc = "fifo server"

// Config configures the FIFO server. Zero fields take the defaults.
type Config struct {
	// Path is the FIFO (ser.cfg fifo=, ser -i). Required.
	Path string
	// Dir is the reply directory (fifo_dir), default "/tmp/": a request's
	// reply name is a file name in it.
	Dir string
	// Mode is the FIFO's permission bits (fifo_mode, sock_mode), default
	// 0660.
	Mode os.FileMode
	// User and Group own the FIFO when set (fifo_user/sock_user,
	// fifo_group/sock_group): names or numeric ids.
	User, Group string

	// ReplyRetries and ReplyWait set the retries of a reply FIFO that no
	// client reads yet: the open is retried ReplyRetries times, ReplyWait
	// apart (SER: 4 and 80 ms).
	ReplyRetries int
	ReplyWait    time.Duration
	// ReplyTimeout bounds writing one reply (SER blocked without limit).
	ReplyTimeout time.Duration
	// SyncWait bounds the reader's wait for a command (which reads its
	// parameter lines from the stream): the reader waits until the command
	// has finished and its reply is written, or has said it reads no more
	// lines (rpc.DoneReading, as t_uac_dlg does before waiting for its
	// transaction), or has not asked for a line for SyncWait — a safety
	// net for a slow command that does not say so, long enough that a
	// command starved of CPU on a loaded machine is not cut off from its
	// parameters. Commands run in arrival order, as in SER.
	SyncWait time.Duration
	// MaxRunning bounds the commands running at once; the reader waits
	// when the bound is reached.
	MaxRunning int
	// MaxRequest bounds a request's size in bytes; a bigger one is
	// dropped (logged, no reply).
	MaxRequest int

	// Logger receives the server's log; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Path == "" {
		return fmt.Errorf("fifo: no FIFO path")
	}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.Mode == 0 {
		c.Mode = DefaultMode
	}
	if c.ReplyRetries == 0 {
		c.ReplyRetries = DefaultReplyRetries
	}
	if c.ReplyWait == 0 {
		c.ReplyWait = DefaultReplyWait
	}
	if c.ReplyTimeout == 0 {
		c.ReplyTimeout = DefaultReplyTimeout
	}
	if c.SyncWait == 0 {
		c.SyncWait = DefaultSyncWait
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = DefaultMaxRunning
	}
	if c.MaxRequest <= 0 {
		c.MaxRequest = DefaultMaxRequest
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Server is SER's FIFO server: it reads requests from a named pipe and
// runs them on a command registry, answering through reply FIFOs.
type Server struct {
	cfg   Config
	reg   *rpc.Registry
	log   *slog.Logger
	f     *os.File
	id    fileID
	fr    *framer
	reply replyWriter

	ctx     context.Context
	cancel  context.CancelFunc
	running chan struct{} // one token per running command
	wg      sync.WaitGroup
	done    chan struct{} // closed when the reader stops
	once    sync.Once
	err     error // why the reader stopped, if not Close
}

// Listen creates the FIFO (removing an old one), applies its mode and
// owner, and starts serving reg. Close stops the server and removes the
// FIFO.
func Listen(cfg Config, reg *rpc.Registry) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	uid, gid, err := owner(cfg.User, cfg.Group)
	if err != nil {
		return nil, err
	}
	if err := removeStale(cfg.Path, unix.S_IFIFO, "FIFO"); err != nil {
		return nil, err
	}
	if err := unix.Mkfifo(cfg.Path, uint32(cfg.Mode.Perm())); err != nil {
		return nil, fmt.Errorf("fifo: can't create FIFO %s: %w", cfg.Path, err)
	}
	id, _ := statID(cfg.Path)
	if err := setMode(cfg.Path, cfg.Mode.Perm(), uid, gid); err != nil {
		removeIfSame(cfg.Path, id)
		return nil, err
	}
	// Read-write: the server holds a writer itself, so it never sees EOF
	// between clients (SER's fifo_write). Non-blocking: reads go through
	// the poller, so Close interrupts them.
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		removeIfSame(cfg.Path, id)
		return nil, fmt.Errorf("fifo: %w", err)
	}
	s := &Server{
		cfg: cfg, reg: reg, f: f, id: id,
		log: cfg.Logger.With("module", "fifo"),
		reply: replyWriter{dir: cfg.Dir, retries: cfg.ReplyRetries,
			wait: cfg.ReplyWait, timeout: cfg.ReplyTimeout},
		running: make(chan struct{}, cfg.MaxRunning),
		done:    make(chan struct{}),
	}
	s.fr, err = newFramer(f, cfg.MaxRequest, func(name string) bool {
		_, ok := reg.Lookup(name)
		return ok
	})
	if err != nil {
		f.Close()
		removeIfSame(cfg.Path, id)
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.serve()
	s.log.Info("fifo server up", "path", cfg.Path, "dir", cfg.Dir)
	return s, nil
}

// Path returns the FIFO's path.
func (s *Server) Path() string { return s.cfg.Path }

// Processes returns the server's process-table descriptions: one
// "fifo server" entry, as SER's ps listed its FIFO process.
func (s *Server) Processes() []string { return []string{ProcessDesc} }

// Done is closed when the server stopped reading (after Close, or on a
// read error reported by Err).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns the read error that stopped the server, if any.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close stops reading, cancels the context of running commands, waits for
// them (and their replies) and removes the FIFO if it is still the one
// this server created.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.f.Close()
		<-s.done
		s.wg.Wait()
		removeIfSame(s.cfg.Path, s.id)
		s.log.Info("fifo server down", "path", s.cfg.Path)
	})
	return nil
}

// serve is the reader loop.
func (s *Server) serve() {
	defer close(s.done)
	for {
		first, err := s.fr.first()
		if err != nil {
			s.stopped(err)
			return
		}
		cmd, reply, err := parseFIFOFirst(first)
		if err != nil {
			s.log.Error("request ignored", "err", err)
		} else {
			p := newStreamParams(s.fr)
			if !s.dispatch(&Request{Cmd: cmd, Reply: reply}, p) {
				return
			}
			p.revoke()
			if p.tooBig {
				s.log.Error("request over the size limit: the rest is skipped", "cmd", cmd, "limit", s.cfg.MaxRequest)
			}
		}
		if s.fr.err != nil {
			s.stopped(s.fr.err)
			return
		}
		skipped, err := s.fr.finish()
		if err != nil {
			s.stopped(err)
			return
		}
		if skipped > 0 {
			s.log.Warn("lines left unread by the command skipped", "cmd", cmd, "lines", skipped)
		}
	}
}

// stopped records why the reader stopped (unless the server is closing).
func (s *Server) stopped(err error) {
	if s.ctx.Err() == nil {
		s.err = fmt.Errorf("fifo: read %s: %w", s.cfg.Path, err)
		s.log.Error("fifo server stopped", "err", s.err)
	}
}

// dispatch runs req on its own goroutine. The command reads its parameter
// lines from the stream through p, so the reader waits until the command
// is done (reply written), has called rpc.DoneReading, or has not read a
// line for SyncWait; a slower command goes on in the background with p
// revoked. dispatch returns false when the server is closing.
func (s *Server) dispatch(req *Request, p *streamParams) bool {
	select {
	case s.running <- struct{}{}:
	case <-s.ctx.Done():
		return false
	}
	finished := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.running }()
		defer close(finished)
		rep := s.execute(req, p)
		p.revoke()
		if err := s.reply.write(s.ctx, req.Reply, rep.Text); err != nil {
			s.log.Error("no reply sent", "cmd", req.Cmd, "err", err)
		}
	}()
	for {
		wait := s.cfg.SyncWait - p.idle()
		if wait <= 0 {
			s.log.Debug("command still running, reading on", "cmd", req.Cmd)
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-finished:
			t.Stop()
			return true
		case <-p.done:
			t.Stop()
			return true
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// execute runs the command; a panicking command is logged and answered
// with a 500 instead of taking the server down.
func (s *Server) execute(req *Request, p rpc.Params) (rep *rpc.Reply) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("command panicked", "cmd", req.Cmd, "panic", r, "stack", string(debug.Stack()))
			rep = rpc.Errorf(500, "command '%s' failed", req.Cmd)
		}
	}()
	if _, ok := s.reg.Lookup(req.Cmd); !ok {
		s.log.Error("command not available", "cmd", req.Cmd)
	}
	return s.reg.Execute(s.ctx, req.Cmd, p, rpc.FIFO)
}
