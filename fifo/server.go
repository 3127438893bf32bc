package fifo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// Defaults of the FIFO server (SER 0.9 config.h and fifo_server.h, but
// for the retries and the bounds SER did not have).
const (
	DefaultDir          = "/tmp/"
	DefaultMode         = 0660
	DefaultReplyRetries = 25
	DefaultReplyWait    = 80 * time.Millisecond
	DefaultReplyTimeout = 10 * time.Second
	DefaultSyncWait     = 2 * time.Second
	DefaultRequestTime  = 10 * time.Second
	DefaultMaxRunning   = 64
	DefaultMaxReplies   = 256
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
	// apart: 25 and 80 ms, 2 s in all. SER tried 4 times, but it answered
	// one request at a time, so a client's `cat reply &` had all the
	// earlier requests' time to start; replies written at once need the
	// margin on a loaded machine. Waiting costs a reply slot, not the
	// reader's time.
	ReplyRetries int
	ReplyWait    time.Duration
	// ReplyTimeout bounds writing one reply (SER blocked without limit):
	// a client that does not read its reply loses it then (logged and
	// counted), and nobody else waits for it.
	ReplyTimeout time.Duration
	// RequestTimeout bounds the arrival of one request, from its first
	// line to the last line its command reads: a client may write its
	// lines in as many writes as it likes, with pauses, within it. A
	// request still incomplete then is answered "408 <cmd>: request
	// incomplete…" and its command is abandoned before it acts. Default
	// 10 s.
	RequestTimeout time.Duration
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
	// MaxReplies bounds the replies being written at once (each waits at
	// most ReplyTimeout for its reader); a finished command waits for a
	// free slot, keeping its MaxRunning slot meanwhile. Default 256.
	MaxReplies int
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
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTime
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = DefaultMaxRunning
	}
	if c.MaxReplies <= 0 {
		c.MaxReplies = DefaultMaxReplies
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
	replies chan struct{} // one token per reply being written
	stats   struct{ requests, incomplete, dropped atomic.Uint64 }
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
		replies: make(chan struct{}, cfg.MaxReplies),
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

// Stats are the server's counters.
type Stats struct {
	// Requests counts the requests run.
	Requests uint64
	// Incomplete counts requests whose lines did not all arrive within
	// RequestTimeout (answered 408).
	Incomplete uint64
	// RepliesDropped counts replies not delivered: no client opened the
	// reply FIFO, its reader did not take the reply within ReplyTimeout,
	// or the write failed.
	RepliesDropped uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.stats.requests.Load(), Incomplete: s.stats.incomplete.Load(),
		RepliesDropped: s.stats.dropped.Load()}
}

// serve is the reader loop: it takes the first line of each request and
// serves the request as the stream's owner.
func (s *Server) serve() {
	defer close(s.done)
	for {
		first, err := s.fr.first()
		if err == nil && s.serveRequest(first, true) {
			err = s.fr.err
		} else if err == nil {
			return // closing
		}
		if err != nil {
			s.stopped(err)
			return
		}
	}
}

// interlude serves the request at the head of the buffer — another
// client's, written whole while the owner's client is between writes —
// on behalf of the waiting owner. It returns false when the server is
// closing.
func (s *Server) interlude() bool {
	fr := s.fr
	l, n, _ := fr.peek()
	size := fr.size
	defer func() { fr.size = size }()
	fr.advance(n)
	fr.size = n
	ok := s.serveRequest(l, false)
	return ok && fr.err == nil
}

// serveRequest serves the request whose first line was just read: as the
// owner of the stream (waiting for lines still to come) or as an
// interloper (its own region only). It returns false when the server is
// closing.
func (s *Server) serveRequest(first string, owner bool) bool {
	fr := s.fr
	regionEnd := fr.regionEnd(fr.off)
	cmd, reply, err := parseFIFOFirst(first)
	if err != nil {
		s.log.Error("request ignored", "err", err)
	} else {
		var it func() bool
		if owner {
			it = s.interlude
		}
		p := newStreamParams(fr, owner, time.Now().Add(s.cfg.RequestTimeout), it, s.log.With("cmd", cmd))
		if !s.dispatch(&Request{Cmd: cmd, Reply: reply}, p) {
			return false
		}
		p.revoke()
		if p.timedOut {
			fr.dropPartial() // the client's unfinished line
		}
		if p.tooBig {
			s.log.Error("request over the size limit: the rest is skipped", "cmd", cmd, "limit", s.cfg.MaxRequest)
		}
	}
	if fr.err != nil {
		return true
	}
	if skipped := fr.finish(regionEnd, owner); skipped > 0 {
		s.log.Warn("lines left unread by the command skipped", "cmd", cmd, "lines", skipped)
	}
	return true
}

// stopped records why the reader stopped (unless the server is closing).
func (s *Server) stopped(err error) {
	if s.ctx.Err() == nil {
		s.err = fmt.Errorf("fifo: read %s: %w", s.cfg.Path, err)
		s.log.Error("fifo server stopped", "err", s.err)
	}
}

// dispatch runs req on its own goroutine. The command reads its parameter
// lines from the stream through p, so the caller waits until the command
// has returned, has called rpc.DoneReading, or has not read a line for
// SyncWait (not counting time spent waiting for its client); a slower
// command goes on in the background with p revoked. The reply is written
// after the command returns, without holding up the reader. dispatch
// returns false when the server is closing.
func (s *Server) dispatch(req *Request, p *streamParams) bool {
	select {
	case s.running <- struct{}{}:
	case <-s.ctx.Done():
		return false
	}
	s.stats.requests.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		rep := s.execute(req, p)
		p.revoke()
		p.DoneReading()
		s.replies <- struct{}{} // before giving back the running slot: bounded
		<-s.running
		defer func() { <-s.replies }()
		if err := s.reply.write(s.ctx, req.Reply, rep.Text); err != nil {
			if !errors.Is(err, errRefused) {
				s.stats.dropped.Add(1)
			}
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
			if _, ok := r.(incomplete); ok {
				s.stats.incomplete.Add(1)
				s.log.Warn("request incomplete: the rest of it did not arrive in time", "cmd", req.Cmd, "timeout", s.cfg.RequestTimeout)
				rep = rpc.Errorf(408, "%s: request incomplete: the rest of it did not arrive within %s", req.Cmd, s.cfg.RequestTimeout)
				return
			}
			s.log.Error("command panicked", "cmd", req.Cmd, "panic", r, "stack", string(debug.Stack()))
			rep = rpc.Errorf(500, "command '%s' failed", req.Cmd)
		}
	}()
	if _, ok := s.reg.Lookup(req.Cmd); !ok {
		s.log.Error("command not available", "cmd", req.Cmd)
	}
	return s.reg.Execute(s.ctx, req.Cmd, p, rpc.FIFO)
}
