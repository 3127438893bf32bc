package xmlrpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Handler returns the bridge mounted at Options.Path on its own mux (other
// paths get 404), for a listener of its own.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Mount(mux)
	return mux
}

// HTTPServer returns an http.Server for h with the bridge's timeouts
// (ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout), a 64 KiB
// header limit, TLS 1.2 or later, and server errors logged through slog. The
// lead uses it when the bridge shares a listener with the web console.
func (s *Server) HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe runs the bridge stand-alone on addr (DefaultAddr when
// empty), over HTTPS when Options.CertFile is set, until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("xmlrpc: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve runs the bridge on ln (closing it at the end), over HTTPS when
// Options.CertFile is set, until ctx is done; then it shuts down, letting
// running requests finish within CallTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.HTTPServer(s.Handler())
	scheme := "http"
	if s.opts.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("xmlrpc: tls: %w", err)
		}
		srv.TLSConfig.Certificates = []tls.Certificate{cert}
		scheme = "https"
	}
	s.log.Info("listening", "url", scheme+"://"+ln.Addr().String()+s.opts.Path)
	errc := make(chan error, 1)
	go func() {
		if s.opts.CertFile != "" {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("xmlrpc: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.CallTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("xmlrpc: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("xmlrpc: shutdown: %w", err)
	}
	return nil
}
