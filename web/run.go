package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Run serves the console alone on addr ("" = DefaultAddr) until ctx ends:
// New, Start, an HTTP server with timeouts, then a graceful shutdown and
// Stop. It is `ser web`'s body.
func Run(ctx context.Context, addr string, opts Options) error {
	a, err := New(opts)
	if err != nil {
		return err
	}
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	r := chi.NewRouter()
	a.Mount(r)
	r.NotFound(a.notFound)
	srv := a.HTTPServer(r)
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
