package core

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strings"

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

// syslogFacilities are the names log_facility accepts.
var syslogFacilities = map[string]syslog.Priority{
	"LOG_KERN": syslog.LOG_KERN, "LOG_USER": syslog.LOG_USER, "LOG_MAIL": syslog.LOG_MAIL,
	"LOG_DAEMON": syslog.LOG_DAEMON, "LOG_AUTH": syslog.LOG_AUTH, "LOG_SYSLOG": syslog.LOG_SYSLOG,
	"LOG_LPR": syslog.LOG_LPR, "LOG_NEWS": syslog.LOG_NEWS, "LOG_UUCP": syslog.LOG_UUCP,
	"LOG_CRON": syslog.LOG_CRON, "LOG_AUTHPRIV": syslog.LOG_AUTHPRIV, "LOG_FTP": syslog.LOG_FTP,
	"LOG_LOCAL0": syslog.LOG_LOCAL0, "LOG_LOCAL1": syslog.LOG_LOCAL1, "LOG_LOCAL2": syslog.LOG_LOCAL2,
	"LOG_LOCAL3": syslog.LOG_LOCAL3, "LOG_LOCAL4": syslog.LOG_LOCAL4, "LOG_LOCAL5": syslog.LOG_LOCAL5,
	"LOG_LOCAL6": syslog.LOG_LOCAL6, "LOG_LOCAL7": syslog.LOG_LOCAL7,
}

// ParseFacility maps a log_facility value (LOG_DAEMON, LOG_LOCAL0, …; case
// does not matter, the LOG_ prefix may be left out) to its syslog facility.
func ParseFacility(name string) (syslog.Priority, error) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "LOG_") {
		n = "LOG_" + n
	}
	f, ok := syslogFacilities[n]
	if !ok {
		return 0, fmt.Errorf("unknown syslog facility %q", name)
	}
	return f, nil
}

// NewLogger builds the server's logger: to stderr when log_stderror is on
// (or -E), to syslog (tag "ser", facility log_facility, LOG_DAEMON when
// empty) otherwise. The debug option sets the threshold the way SER's
// does: 0–1 errors and warnings, 2–3 notices and info, 4 and above
// everything.
func NewLogger(debug int, stderr bool, facility string) *slog.Logger {
	var w io.Writer = os.Stderr
	if !stderr {
		fac := syslog.LOG_DAEMON
		if facility != "" {
			if f, err := ParseFacility(facility); err == nil {
				fac = f
			}
		}
		if sw, err := syslog.New(fac|syslog.LOG_INFO, "ser"); err == nil {
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
