// Package core is the SER engine: it binds the listening sockets, hands
// every received message to a pool of workers (messages of one Call-ID
// stay in order on one worker), runs the routing script for requests,
// routes replies back (through tm when a transaction claims them,
// statelessly by Via otherwise) and offers modules the services of
// module.Core: building and sending replies, stateless forwarding, name
// resolution and "myself" checks.
package core

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"ser/core/counter"
	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/core/transport"
)

// Router runs script blocks; *script.Program implements it.
type Router interface {
	Run(kind module.Route, n int, m *sipmsg.Msg) int
	HasRoute(kind module.Route, n int) bool
}

// Counters are the core's statistics. The message counters are indexed
// by method (or reply class) and transport (package counter): one atomic
// add per message; core_stats prints their totals, /metrics each cell.
type Counters struct {
	Requests    counter.ByMethod // requests received (parsed and checked)
	Replies     counter.ByClass  // replies received (parsed and checked)
	Malformed   counter.ByMethod // parse failures (answered 400 or dropped); row counter.Reply for replies
	Dropped     counter.ByMethod // malformed and not answerable, or processing panicked
	BadReplies  atomic.Uint64    // replies with no Via of ours, dropped
	FwdReplies  counter.ByClass  // replies relayed statelessly, by outgoing transport
	FwdRequests counter.ByMethod // requests forwarded statelessly, by outgoing transport
	Panics      atomic.Uint64    // messages whose processing panicked (a bug)
	Reloads     atomic.Uint64    // configuration reloads installed (cfg_reload, SIGHUP)
}

// Server is one running SER instance.
type Server struct {
	opts    *Options
	log     *slog.Logger
	tr      *transport.Transport
	socks   []*sipmsg.Socket
	aliases []ListenAddr
	// router is the compiled script new messages run: swapped as a whole
	// by a configuration reload (SetRouter), read with one atomic load
	// per message.
	router  atomic.Pointer[routerRef]
	rpc     *rpc.Registry
	replyH  []func(*sipmsg.Msg) bool // modules' OnReply hooks
	reqF    []func(*sipmsg.Msg) bool // modules' OnRequest hooks
	workers []chan job
	wg      sync.WaitGroup
	stop    sync.Once
	down    chan struct{}
	downMu  sync.Once
	start   time.Time
	pid     int
	tagSeed string
	version string
	// serverHeader caches ServerHeader (the version does not change).
	serverHeader atomic.Pointer[string]

	// frontends are the management servers the daemon started beside
	// the engine (AddFrontend).
	frontends frontends
	dbs       dbs

	// Stats are the server's counters.
	Stats Counters
}

type job struct {
	raw []byte
	rcv sipmsg.RcvInfo
}

// Version is the server version printed by -V, the version FIFO command
// and the Server header.
const Version = "0.9.6-go"

// Config is what New needs; the loader (load.go) fills it from ser.cfg.
type Config struct {
	Options *Options
	Log     *slog.Logger
	RPC     *rpc.Registry
	// Sockets override the sockets derived from Options.Listen (tests).
	Sockets []*sipmsg.Socket
}

// New prepares a server: options, logger, command registry and the list of
// sockets to listen on (nothing is bound yet: Bind does that, so that a
// config can be checked with -c without touching the network). The router
// is set with SetRouter before Start: the script is compiled against the
// server as module.Core, so the server exists first.
func New(c Config) (*Server, error) {
	if c.Options == nil {
		c.Options = DefaultOptions()
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.RPC == nil {
		c.RPC = rpc.NewRegistry()
	}
	s := &Server{
		opts: c.Options, log: c.Log, rpc: c.RPC, aliases: c.Options.Aliases,
		start: time.Now(), pid: os.Getpid(), version: Version,
		down: make(chan struct{}),
	}
	s.tagSeed = fmt.Sprintf("%08x", uint32(s.start.UnixNano()))
	socks := c.Sockets
	if socks == nil {
		var err error
		socks, err = c.Options.listenSockets(hostIPs)
		if err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
	}
	if len(socks) == 0 {
		return nil, fmt.Errorf("core: no listening sockets")
	}
	s.socks = socks
	n := c.Options.Children
	if !c.Options.Fork || n < 1 {
		n = 1
	}
	s.workers = make([]chan job, n)
	for i := range s.workers {
		s.workers[i] = make(chan job, 4096)
	}
	return s, nil
}

// Bind opens the listening sockets (ports 0 are replaced by the ports the
// kernel picked).
func (s *Server) Bind() error {
	tr, err := transport.Listen(s.socks, s.receive, transport.Options{
		RcvBuf:            s.opts.MaxBuffer,
		TCPIdle:           time.Duration(s.opts.TCPConnLife) * time.Second,
		TCPMaxConns:       s.opts.TCPMaxConns,
		TCPPerIP:          s.opts.TCPPerIP,
		TCPDataTimeout:    time.Duration(s.opts.TCPDataTO) * time.Second,
		TCPReadTimeout:    time.Duration(s.opts.TCPReadTO) * time.Second,
		TCPQueueBytes:     s.opts.TCPWQMax,
		TCPConnectTimeout: time.Duration(s.opts.TCPConnTO) * time.Second,
		TCPWriteTimeout:   time.Duration(s.opts.TCPSendTO) * time.Second,
		Log:               s.log.With("module", "transport"),
	})
	if err != nil {
		return fmt.Errorf("core: %w", err)
	}
	s.tr = tr
	s.socks = tr.Sockets()
	return nil
}

// routerRef boxes a Router for the atomic pointer.
type routerRef struct{ Router }

// SetRouter installs the compiled script: messages received from then on
// run it; messages being processed finish under the one they started
// with, and so do their transactions (see sipmsg.Msg.Script).
func (s *Server) SetRouter(r Router) { s.router.Store(&routerRef{r}) }

// currentRouter returns the installed script, or nil.
func (s *Server) currentRouter() Router {
	if ref := s.router.Load(); ref != nil {
		return ref.Router
	}
	return nil
}

// HasRoute reports whether the installed script defines a block.
func (s *Server) HasRoute(kind module.Route, n int) bool {
	r := s.currentRouter()
	return r != nil && r.HasRoute(kind, n)
}

// RunRoute runs a script block for m: from the script m is processed
// under (m.Script, which tm sets to the script its transaction started
// under), else from the installed one.
func (s *Server) RunRoute(kind module.Route, n int, m *sipmsg.Msg) int {
	var r Router
	if m != nil {
		r, _ = m.Script.(Router)
	}
	if r == nil {
		r = s.currentRouter()
	}
	if r == nil {
		return -1
	}
	return r.Run(kind, n, m)
}

// AddRequestHook registers a module's hook (module.Exports.OnRequest)
// that may consume a request before the script runs.
func (s *Server) AddRequestHook(h func(*sipmsg.Msg) bool) { s.reqF = append(s.reqF, h) }

// AddReplyHook registers a module's hook (module.Exports.OnReply) that
// may claim a reply before it is routed statelessly.
func (s *Server) AddReplyHook(h func(*sipmsg.Msg) bool) { s.replyH = append(s.replyH, h) }

// RPC returns the server's command registry.
func (s *Server) RPC() *rpc.Registry { return s.rpc }

// Options returns the server's global options.
func (s *Server) Options() *Options { return s.opts }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// StartTime returns when the server started.
func (s *Server) StartTime() time.Time { return s.start }

// Transport returns the socket layer (for statistics).
func (s *Server) Transport() *transport.Transport { return s.tr }

// Workers returns the number of request workers.
func (s *Server) Workers() int { return len(s.workers) }

// Start launches the workers and the receive loops.
func (s *Server) Start() error {
	if s.currentRouter() == nil {
		return fmt.Errorf("core: start: no routing script")
	}
	if s.tr == nil {
		if err := s.Bind(); err != nil {
			return err
		}
	}
	for i, ch := range s.workers {
		s.wg.Add(1)
		go s.worker(i, ch)
	}
	s.tr.Start()
	for _, sk := range s.socks {
		addr := netip.AddrPortFrom(sk.IP, uint16(sk.Port)).String()
		if sk.Name != sk.IP.String() || sk.ViaPort() != sk.Port {
			s.log.Info("listening", "module", "core", "socket", sk.Proto.String()+":"+addr, "advertised", sk.HostPort())
		} else {
			s.log.Info("listening", "module", "core", "socket", sk.String())
		}
	}
	return nil
}

// Stop closes the sockets and waits for the workers to finish the
// messages they hold.
func (s *Server) Stop() {
	if s.tr == nil {
		return
	}
	s.stop.Do(func() {
		s.tr.Close()
		for _, ch := range s.workers {
			close(ch)
		}
		s.wg.Wait()
	})
}

// Shutdown asks the process to shut down gracefully (the kill command);
// Done is closed then.
func (s *Server) Shutdown() { s.downMu.Do(func() { close(s.down) }) }

// Done is closed when a graceful shutdown was requested.
func (s *Server) Done() <-chan struct{} { return s.down }

// Wait blocks until ctx is done, then stops the server.
func (s *Server) Wait(ctx context.Context) {
	<-ctx.Done()
	s.Stop()
}

// receive is the transport callback: it dispatches by Call-ID so that
// messages of one call are processed in order by one worker.
func (s *Server) receive(raw []byte, rcv sipmsg.RcvInfo) {
	w := s.workers[0]
	if len(s.workers) > 1 {
		w = s.workers[hashCallID(raw)%uint32(len(s.workers))]
	}
	defer func() {
		// Sending on a closed channel during shutdown: drop the message.
		_ = recover()
	}()
	w <- job{raw: raw, rcv: rcv}
}

func (s *Server) worker(i int, ch chan job) {
	defer s.wg.Done()
	for j := range ch {
		s.process(j.raw, j.rcv)
	}
}

// Process handles one message synchronously (the workers call it; tests
// and benchmarks may too).
func (s *Server) process(raw []byte, rcv sipmsg.RcvInfo) {
	defer func() {
		if r := recover(); r != nil {
			mi, _ := counter.RawIndex(raw)
			s.Stats.Dropped.Add(mi, rcv.Proto)
			s.Stats.Panics.Add(1)
			s.log.ErrorContext(rawLogCtx(raw), "message processing panicked; message dropped", "module", "core", "panic", r, "src", rcv.Src.String(), "stack", string(debug.Stack()))
		}
	}()
	// Strict framing first: a repeated or non-numeric Content-Length
	// (sipgo would take the last one) is answered 400, never forwarded.
	if _, _, err := transport.ContentLength(raw); err != nil {
		s.malformed(raw, rcv, err)
		return
	}
	msg, err := sipmsg.Parse(raw)
	if err != nil {
		s.malformed(raw, rcv, err)
		return
	}
	if req, ok := asRequest(msg); ok {
		if reason := checkRequest(req); reason != "" {
			s.malformed(raw, rcv, fmt.Errorf("%s", reason))
			return
		}
		s.Stats.Requests.Add(counter.MethodIndex(string(req.Method)), rcv.Proto)
		m := sipmsg.NewRequest(req, raw, rcv)
		if s.opts.TCPAcceptAliases && rcv.ConnID != 0 {
			s.acceptAlias(m)
		}
		for _, f := range s.reqF {
			if f(m) {
				return
			}
		}
		r := s.currentRouter()
		m.Script = r
		r.Run(module.Request, 0, m)
		return
	}
	if resp, ok := asResponse(msg); ok {
		if resp.Via() == nil || resp.CSeq() == nil || resp.CallID() == nil {
			s.Stats.Malformed.Add(counter.Reply, rcv.Proto)
			s.Stats.Dropped.Add(counter.Reply, rcv.Proto)
			return
		}
		s.Stats.Replies.Add(resp.StatusCode, rcv.Proto)
		m := sipmsg.NewReply(resp, raw, rcv)
		for _, h := range s.replyH {
			if h(m) {
				return
			}
		}
		s.forwardReply(m)
	}
}

// acceptAlias honours a ";alias" in the top Via of a request received
// over TCP (tcp_accept_aliases): the connection also stands for the Via's
// port on the peer's address.
func (s *Server) acceptAlias(m *sipmsg.Msg) {
	if v := m.Req.Via(); v != nil && v.Params.Has("alias") {
		if err := s.AddTCPAlias(m.Rcv.ConnID, v.Port); err != nil {
			s.log.WarnContext(module.MsgCtx(m), "tcp alias refused", "module", "core", "err", err, "src", m.Rcv.Src.String())
		}
	}
}

// AddTCPAlias makes the TCP connection a request came on also the
// connection to port on the peer's address (force_tcp_alias; port 0 is
// 5060), so requests sent there reuse it.
func (s *Server) AddTCPAlias(connID uint64, port int) error {
	if s.tr == nil {
		return fmt.Errorf("core: tcp alias: not listening")
	}
	return s.tr.AddAlias(connID, port)
}

// hostIPs resolves a listen host: "*" = every IPv4 interface address, an
// IP literal, an interface name or a host name.
func hostIPs(host string) ([]netip.Addr, error) {
	return resolveListenHost(host)
}
