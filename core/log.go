package core

import (
	"context"
	"io"
	"log/slog"
	"log/syslog"
	"os"

	"ser/core/module"
	"ser/core/sipmsg"
)

// SER's log levels (dprint.h).
const (
	LAlert  = -3
	LCrit   = -2
	LErr    = -1
	LWarn   = 1
	LNotice = 2
	LInfo   = 3
	LDbg    = 4
)

// slogLevel maps a SER level onto slog.
func slogLevel(l int) slog.Level {
	switch {
	case l <= LErr:
		return slog.LevelError
	case l == LWarn:
		return slog.LevelWarn
	case l <= LInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// NewLogger builds the server's logger: to stderr when log_stderror is on
// (or -E), to syslog (facility LOG_DAEMON, tag "ser") otherwise. The debug
// option sets the threshold the way SER's does: 0–1 errors and warnings,
// 2–3 notices and info, 4 and above everything.
func NewLogger(debug int, stderr bool) *slog.Logger {
	var w io.Writer = os.Stderr
	if !stderr {
		if sw, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "ser"); err == nil {
			w = sw
		}
	}
	lvl := slog.LevelWarn
	switch {
	case debug >= LDbg:
		lvl = slog.LevelDebug
	case debug >= LNotice:
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// Log writes a script log line when level is within the debug level.
func (s *Server) Log(level int, text string) {
	if level > s.opts.Debug {
		return
	}
	s.log.Log(context.Background(), slogLevel(level), text, "module", "script")
}

// HasRoute reports whether the script defines a block.
func (s *Server) HasRoute(kind module.Route, n int) bool {
	return s.router != nil && s.router.HasRoute(kind, n)
}

// RunRoute runs a script block for m.
func (s *Server) RunRoute(kind module.Route, n int, m *sipmsg.Msg) int {
	if s.router == nil {
		return -1
	}
	return s.router.Run(kind, n, m)
}

// Compile-time check: the server is the modules' Core.
var _ module.Core = (*Server)(nil)
