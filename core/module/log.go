package module

import (
	"context"
	"log/slog"

	"ser/core/sipmsg"
)

// SER's log levels (dprint.h): log(level, text) in the script and the
// modules' log_level parameters use them.
const (
	LAlert  = -3
	LCrit   = -2
	LErr    = -1
	LWarn   = 1
	LNotice = 2
	LInfo   = 3
	LDbg    = 4
)

// The slog levels of SER's levels that slog has no name for. The server's
// logger prints them as NOTICE, CRIT and ALERT and sends them to syslog
// with those priorities.
const (
	LevelNotice = slog.LevelInfo + 2
	LevelCrit   = slog.LevelError + 4
	LevelAlert  = slog.LevelError + 8
)

// SlogLevel maps a SER level onto slog: -3 alert, -2 crit, -1 error,
// 0 and 1 warning, 2 notice, 3 info, 4 and above debug.
func SlogLevel(l int) slog.Level {
	switch {
	case l <= LAlert:
		return LevelAlert
	case l == LCrit:
		return LevelCrit
	case l == LErr:
		return slog.LevelError
	case l <= LWarn:
		return slog.LevelWarn
	case l == LNotice:
		return LevelNotice
	case l == LInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

type callIDKey struct{}

// MsgCtx returns the context to log about m with: the server's logger adds
// the message's Call-ID to every line logged with it (as call_id), e.g.
//
//	x.log.WarnContext(module.MsgCtx(m), "t_reply failed", "err", err)
func MsgCtx(m *sipmsg.Msg) context.Context {
	if m == nil {
		return context.Background()
	}
	return CallIDCtx(m.CallID())
}

// CallIDCtx is MsgCtx for code that has a Call-ID but no message (a
// transaction's timer, a reply matched to it).
func CallIDCtx(callID string) context.Context {
	if callID == "" {
		return context.Background()
	}
	return context.WithValue(context.Background(), callIDKey{}, callID)
}

// CallIDFrom returns the Call-ID MsgCtx or CallIDCtx put in ctx, or "".
func CallIDFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	s, _ := ctx.Value(callIDKey{}).(string)
	return s
}
