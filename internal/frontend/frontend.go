// Package frontend runs ser's HTTP listener: the XML-RPC bridge at
// /xmlrpc (and, when configured, the web console at /) on one address,
// inside ser or stand-alone against a FIFO or unix socket.
package frontend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/core/rpc"
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
	// and so is the host name of Listen.
	Hosts []string
	// CertFile and KeyFile switch to HTTPS.
	CertFile, KeyFile string
	Log               *slog.Logger
	// Mount adds more handlers (the web console) to the router.
	Mount func(r chi.Router)
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
func Local(reg *rpc.Registry) xmlrpc.Executor { return xmlrpc.NewLocal(reg) }

// Start serves the XML-RPC bridge over exec (and whatever o.Mount adds).
func Start(exec xmlrpc.Executor, o Options) (*Frontend, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	allow, err := xmlrpc.ParseAllow(o.Allow)
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	hosts := o.Hosts
	if h, _, err := net.SplitHostPort(o.Listen); err == nil && h != "" {
		hosts = append(hosts[:len(hosts):len(hosts)], h)
	}
	xo := xmlrpc.Options{Allow: allow, Hosts: hosts, CertFile: o.CertFile, KeyFile: o.KeyFile, Logger: o.Log}
	if o.User != "" {
		xo.Users = map[string]string{o.User: o.Password}
	}
	x, err := xmlrpc.New(exec, xo)
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	r := chi.NewRouter()
	x.Mount(r)
	if o.Mount != nil {
		o.Mount(r)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("frontend: listen %s: %w", o.Listen, err)
	}
	f := &Frontend{srv: x.HTTPServer(r), ln: ln, done: make(chan error, 1), log: o.Log}
	go func() {
		var err error
		if o.CertFile != "" {
			err = f.srv.ServeTLS(ln, o.CertFile, o.KeyFile)
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
