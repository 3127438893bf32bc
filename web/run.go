package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/internal/hostcheck"
)

// Run serves the console alone on addr ("" = DefaultAddr) until ctx ends:
// New, Start, an HTTP server with timeouts, then a graceful shutdown and
// Stop. Requests whose Host header does not name this server get 403
// (anti DNS rebinding: internal/hostcheck, as in front of /xmlrpc);
// Options.Hosts names more accepted names. It is `ser web`'s body.
func Run(ctx context.Context, addr string, opts Options) error {
	if addr == "" {
		addr = DefaultAddr
	}
	hosts := opts.Hosts
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && net.ParseIP(h) == nil {
		// A host name to listen on is a name of this server too.
		hosts = append(hosts[:len(hosts):len(hosts)], h)
	}
	hc, err := hostcheck.New(hosts)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	a, err := New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	r := chi.NewRouter()
	a.Mount(r)
	r.NotFound(a.notFound)
	srv := a.HTTPServer(hc.Handler(r, "-host", a.log))
	if err := a.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	defer a.Stop()
	a.log.Info("web console listening", "addr", ln.Addr().String(), "domain", a.opts.Domain)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}

// HTTPServer returns an http.Server for h with the console's timeouts:
// headers within 5 s, whole requests within 30 s, responses within 60 s
// (instant messages wait for the final reply), idle connections closed
// after 2 minutes, headers at most 64 KiB.
func (a *App) HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
