package xmlrpc

import (
	"crypto/tls"
	"log/slog"
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
// header limit, TLS 1.2 or later, and server errors logged through slog.
// ser's HTTP listener (internal/frontend) serves the bridge and the web
// console with it.
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
