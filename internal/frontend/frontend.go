// Package frontend runs ser's HTTP listener: the XML-RPC bridge at
// /xmlrpc, the JSON-RPC bridge at /jsonrpc, /health, /ready and /metrics
// (ops.go) and, when configured, the web console at / on one address,
// inside ser or stand-alone against a FIFO or unix socket.
package frontend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/core/rpc"
	"ser/internal/hostcheck"
	"ser/jsonrpc"
	"ser/xmlrpc"
)

// Options configure the listener.
type Options struct {
	// Listen is host:port; "" or "off" means no listener.
	Listen string
	// User and Password enable basic authentication on the bridge.
	User, Password string
	// Allow lists the admitted client networks (default loopback only).
	Allow []string
	// Hosts are more names the Host header may carry (xmlrpc_host; "*"
	// turns the check off). The listener's own names are always accepted,
	// and so is the host name of Listen. The check (internal/hostcheck)
	// covers the bridge and every route Mount adds.
	Hosts []string
	// MaxConns bounds the open HTTP connections (default
	// DefaultMaxConns); one accepted over it is closed at once.
	MaxConns int
	// CertFile and KeyFile switch to HTTPS.
	CertFile, KeyFile string
	Log               *slog.Logger
	// Mount adds more handlers (the web console) to the router.
	Mount func(r chi.Router)

	// Metrics serves /metrics (the daemon's collector); nil: no /metrics.
	Metrics http.Handler
	// Ready is /ready's check: nil when the server can take traffic,
	// else the reason (503). Nil: /ready answers 200 like /health.
	Ready func(ctx context.Context) error
	// MetricsAllow lists networks that may read /metrics without the
	// XML-RPC credentials, and /health and /ready (metrics_allow).
	MetricsAllow []string
}

// Enabled reports whether a listener is configured.
func (o Options) Enabled() bool {
	return o.Listen != "" && !strings.EqualFold(o.Listen, "off")
}

// Frontend is a running HTTP listener.
type Frontend struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
	log  *slog.Logger
}

// Local returns an executor running commands in this process.
func Local(reg *rpc.Registry) rpc.Executor { return rpc.NewLocal(reg) }

// Start serves the XML-RPC bridge over exec (and whatever o.Mount adds).
func Start(exec rpc.Executor, o Options) (*Frontend, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	allow, err := xmlrpc.ParseAllow(o.Allow)
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	hosts := o.Hosts
	if h, _, err := net.SplitHostPort(o.Listen); err == nil && h != "" && net.ParseIP(h) == nil {
		// A host name; an address (0.0.0.0 too) is covered by the check
		// of the address a client connected to.
		hosts = append(hosts[:len(hosts):len(hosts)], h)
	}
	xo := xmlrpc.Options{Allow: allow, Hosts: hosts, Logger: o.Log}
	if o.User != "" {
		xo.Users = map[string]string{o.User: o.Password}
	}
	x, err := xmlrpc.New(exec, xo)
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	j, err := jsonrpc.New(exec, jsonrpc.Options{Logger: o.Log})
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	r := chi.NewRouter()
	x.Mount(r)
	// JSON-RPC behind the bridge's access control: one allow-list, Host
	// check, cross-origin check and password-guessing state for both.
	r.Handle(j.Path(), x.Guard(j))
	if err := mountOps(r, x, o); err != nil {
		return nil, fmt.Errorf("frontend: metrics_allow: %w", err)
	}
	if o.Mount != nil {
		// The bridge checks Host itself (it also runs without this
		// listener); the console's routes get the same check here.
		hc, err := hostcheck.New(hosts)
		if err != nil {
			return nil, fmt.Errorf("frontend: %w", err)
		}
		hlog := o.Log.With("module", "frontend")
		r.Group(func(r chi.Router) {
			r.Use(func(next http.Handler) http.Handler { return hc.Handler(next, "xmlrpc_host", hlog) })
			o.Mount(r)
		})
	}
	srv := x.HTTPServer(r)
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("frontend: TLS needs both a certificate and a key file")
	}
	if o.CertFile != "" {
		// Loaded before listening: a bad certificate fails the start.
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("frontend: tls: %w", err)
		}
		srv.TLSConfig.Certificates = []tls.Certificate{cert}
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("frontend: listen %s: %w", o.Listen, err)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	ln = &limitListener{Listener: ln, max: int64(o.MaxConns), log: o.Log}
	f := &Frontend{srv: srv, ln: ln, done: make(chan error, 1), log: o.Log}
	go func() {
		var err error
		if o.CertFile != "" {
			err = f.srv.ServeTLS(ln, "", "")
		} else {
			err = f.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		f.done <- err
	}()
	scheme := "http"
	if o.CertFile != "" {
		scheme = "https"
	}
	o.Log.Info("http listener up", "module", "frontend", "url", fmt.Sprintf("%s://%s%s", scheme, ln.Addr(), xmlrpc.DefaultPath))
	if o.Mount != nil {
		// The console's address, ready to paste into a browser (an
		// unspecified listen address is reached through loopback). Logged
		// at WARN, the level a default start shows, as SER printed its
		// listening addresses whatever its debug level.
		o.Log.Warn("web console at", "module", "frontend", "url", fmt.Sprintf("%s://%s/", scheme, browsable(ln.Addr())))
	}
	return f, nil
}

// Addr returns the listening address.
func (f *Frontend) Addr() string { return f.ln.Addr().String() }

// Close stops the listener, letting running requests finish briefly.
func (f *Frontend) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	<-f.done
}

// Done reports the listener's end (nil after Close).
func (f *Frontend) Done() <-chan error { return f.done }

// DefaultMaxConns bounds the HTTP listener's connections, so that a flood
// of idle connections cannot take every descriptor of the process (the
// SIP side has tcp_max_connections; http.Server closes a connection that
// sends no request headers within 5 s and an idle one after 120 s).
const DefaultMaxConns = 1024

// limitListener closes connections accepted while max are open.
type limitListener struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused atomic.Int64
	lastLog atomic.Int64
	log     *slog.Logger
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &countedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
		n := l.refused.Add(1)
		now := time.Now().UnixNano()
		if last := l.lastLog.Load(); now-last >= int64(5*time.Second) && l.lastLog.CompareAndSwap(last, now) {
			l.log.Warn("http connection limit reached: new connections closed", "module", "frontend", "max", l.max, "refused_total", n)
		}
	}
}

// countedConn gives its slot back when closed (once).
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// browsable returns addr as a browser can reach it from this host: an
// unspecified IP (0.0.0.0, ::) becomes the loopback address of its
// family.
func browsable(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return addr.String()
	}
	ip := "127.0.0.1"
	if ta.IP.To4() == nil {
		ip = "::1"
	}
	return net.JoinHostPort(ip, strconv.Itoa(ta.Port))
}
