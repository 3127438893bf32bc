package core

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"math"
	"os"
	"strings"
	"sync"

	"ser/core/module"
	"ser/core/sipmsg"
)

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

// Log formats (the log_format option).
const (
	LogText = "text" // key=value lines (the default)
	LogJSON = "json" // one JSON object a line
)

// ParseLogFormat checks a log_format value.
func ParseLogFormat(s string) (string, error) {
	switch f := strings.ToLower(s); f {
	case "", LogText:
		return LogText, nil
	case LogJSON:
		return LogJSON, nil
	}
	return "", fmt.Errorf("unknown log format %q (text or json)", s)
}

// LogConfig says where and how the server logs.
type LogConfig struct {
	// Debug is SER's debug level: 0–1 errors and warnings, 2–3 notices
	// and info, 4 and above everything.
	Debug int
	// Stderr logs to stderr (log_stderror, -E) instead of syslog.
	Stderr bool
	// Facility is the syslog facility (log_facility; LOG_DAEMON when
	// empty).
	Facility string
	// Format is LogText or LogJSON (log_format); empty is text.
	Format string
	// SyslogSocket is the syslog daemon's datagram socket; empty means the
	// system's (/dev/log, /var/run/syslog or /var/run/log).
	SyslogSocket string
	// Stderror replaces os.Stderr (tests).
	Stderror io.Writer
}

// NewLogger builds the server's logger: to stderr when log_stderror is on
// (or -E), to syslog (tag "ser", facility log_facility, LOG_DAEMON when
// empty) otherwise; when no syslog daemon can be reached, to stderr with a
// warning. Syslog lines carry the priority of their level (LOG_ERR,
// LOG_WARNING, …, as SER's LOG macro chose it) and no time stamp of their
// own, syslog adds one. Lines logged with module.MsgCtx carry the
// message's Call-ID as call_id.
func NewLogger(c LogConfig) *slog.Logger {
	errw := c.Stderror
	if errw == nil {
		errw = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: threshold(c.Debug), ReplaceAttr: levelNames}
	var w io.Writer = errw
	var sysw *prioWriter
	var sysErr error
	if !c.Stderr {
		fac := syslog.LOG_DAEMON
		if c.Facility != "" {
			if f, err := ParseFacility(c.Facility); err == nil {
				fac = f
			}
		}
		var sw *syslog.Writer
		if c.SyslogSocket != "" {
			sw, sysErr = syslog.Dial("unixgram", c.SyslogSocket, fac|syslog.LOG_INFO, "ser")
		} else {
			sw, sysErr = syslog.New(fac|syslog.LOG_INFO, "ser")
		}
		if sysErr == nil {
			sysw = &prioWriter{w: sw}
			w = sysw
			opts.ReplaceAttr = noTime
		}
	}
	var h slog.Handler
	if strings.EqualFold(c.Format, LogJSON) {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if sysw != nil {
		h = &syslogHandler{Handler: h, w: sysw}
	}
	log := slog.New(callIDHandler{h})
	if sysErr != nil {
		log.Warn("syslog unavailable, logging to stderr", "module", "core", "err", sysErr)
	}
	return log
}

// threshold is the slog level SER's debug level lets through.
func threshold(debug int) slog.Level {
	switch {
	case debug >= module.LDbg:
		return slog.LevelDebug
	case debug >= module.LNotice:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// levelNames names SER's levels slog has no name for.
func levelNames(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(levelName(l))
		}
	}
	return a
}

// noTime drops the time stamp (syslog adds its own) and names the levels.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return levelNames(groups, a)
}

// levels are the log levels from the most severe down: the name lines
// carry and the syslog priority they are sent with (SER's LOG macro's).
var levels = []struct {
	min  slog.Level
	name string
	send func(*syslog.Writer, string) error
}{
	{module.LevelAlert, "ALERT", (*syslog.Writer).Alert},
	{module.LevelCrit, "CRIT", (*syslog.Writer).Crit},
	{slog.LevelError, "ERROR", (*syslog.Writer).Err},
	{slog.LevelWarn, "WARN", (*syslog.Writer).Warning},
	{module.LevelNotice, "NOTICE", (*syslog.Writer).Notice},
	{slog.LevelInfo, "INFO", (*syslog.Writer).Info},
	{math.MinInt, "DEBUG", (*syslog.Writer).Debug},
}

// level returns the index in levels of l.
func level(l slog.Level) int {
	for i, lv := range levels {
		if l >= lv.min {
			return i
		}
	}
	return len(levels) - 1
}

func levelName(l slog.Level) string { return levels[level(l)].name }

// callIDHandler adds the Call-ID module.MsgCtx put in the context.
type callIDHandler struct{ slog.Handler }

func (h callIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := module.CallIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("call_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h callIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return callIDHandler{h.Handler.WithAttrs(as)}
}

func (h callIDHandler) WithGroup(name string) slog.Handler {
	return callIDHandler{h.Handler.WithGroup(name)}
}

// prioWriter sends each formatted line to syslog with the priority of
// the record being written (the handler sets it under mu).
type prioWriter struct {
	mu    sync.Mutex
	level slog.Level
	w     *syslog.Writer
}

func (p *prioWriter) Write(b []byte) (int, error) {
	if err := levels[level(p.level)].send(p.w, strings.TrimSuffix(string(b), "\n")); err != nil {
		return 0, err
	}
	return len(b), nil
}

// syslogHandler tells the writer the level of the record its handler
// formats; the formatting handler writes each record in one Write.
type syslogHandler struct {
	slog.Handler
	w *prioWriter
}

func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	h.w.level = r.Level
	return h.Handler.Handle(ctx, r)
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &syslogHandler{Handler: h.Handler.WithAttrs(as), w: h.w}
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	return &syslogHandler{Handler: h.Handler.WithGroup(name), w: h.w}
}

// Log writes a script log line (log(level, text)) when level is within
// the debug level, with the Call-ID of the message the script runs for.
func (s *Server) Log(m *sipmsg.Msg, level int, text string) {
	if level > s.opts.Debug {
		return
	}
	s.log.Log(module.MsgCtx(m), module.SlogLevel(level), text, "module", "script")
}

// Compile-time check: the server is the modules' Core.
var _ module.Core = (*Server)(nil)
