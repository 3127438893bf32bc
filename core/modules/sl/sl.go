// Package sl is SER's stateless reply module: sl_send_reply(code, reason)
// answers the current request without creating a transaction, and
// sl_reply_error() answers with the reason the last failed action gave.
// Replies carry a stable To-tag (a per-server MD5 prefix and a CRC over the
// top Via), so a retransmitted request gets a byte-identical reply and the
// ACK to a local negative reply can be recognised and absorbed. The
// module counts its replies for the FIFO command sl_stats.
package sl

import (
	"fmt"
	"log/slog"
	"strconv"

	"ser/core/module"
	"ser/core/sipmsg"
)

// DefaultErrorReason is the reason sl_reply_error sends (with 500) when no
// action recorded why it failed; SER's err2reason_phrase wording for
// E_UNSPEC.
const DefaultErrorReason = "I'm terribly sorry, server error occurred (1/SL)"

// Module is one server's sl instance.
type Module struct {
	core  module.Core
	log   *slog.Logger
	tag   tagGen
	stats counters
}

// New returns an sl instance. It needs Init (env.Core) before it can
// reply.
func New() *Module { return &Module{log: slog.Default()} }

func initModule(m *Module, env *module.Env) error {
	m.core = env.Core
	if env.Log != nil {
		m.log = env.Log
	}
	m.tag.sockets = env.Core.Sockets
	return nil
}

// Reply sends a stateless reply to the request in msg: the Go-level API
// for the core and tm. A 3xx lists the destination set in Contact headers;
// a reply above 100 to a request whose To has no tag gets the module's
// stable To-tag. Replies to ACK are refused. Every reply is counted for
// sl_stats (success by code, failure as failures).
func (m *Module) Reply(msg *sipmsg.Msg, code int, reason string) error {
	if err := m.reply(msg, code, reason); err != nil {
		m.stats.failure()
		return err
	}
	m.stats.count(code)
	return nil
}

func (m *Module) reply(msg *sipmsg.Msg, code int, reason string) error {
	if m.core == nil {
		return fmt.Errorf("sl: reply: module not initialised")
	}
	if !msg.IsRequest() {
		return fmt.Errorf("sl: reply: not a request")
	}
	if msg.Req.IsAck() {
		return fmt.Errorf("sl: reply: will not reply to ACK")
	}
	var o module.ReplyOpts
	if code >= 300 && code < 400 {
		o.Headers = ContactLines(msg)
	}
	if code > 100 {
		o.ToTag = m.ToTag(msg)
	}
	if err := m.core.Reply(msg, code, reason, o); err != nil {
		return fmt.Errorf("sl: send %d reply: %w", code, err)
	}
	return nil
}

// ReplyError answers with msg.ErrCode/ErrReason when an action recorded
// them (sipmsg.Msg.SetError), else with 500 and DefaultErrorReason.
func (m *Module) ReplyError(msg *sipmsg.Msg) error {
	code, reason := ErrorReply(msg)
	return m.Reply(msg, code, reason)
}

// ErrorReply returns the status sl_reply_error sends for msg.
func ErrorReply(msg *sipmsg.Msg) (int, string) {
	code, reason := msg.ErrCode, msg.ErrReason
	if code < 100 || code > 699 {
		return 500, DefaultErrorReason
	}
	if reason == "" {
		reason = phrase(code)
	}
	return code, reason
}

// Count records a reply the core sent itself (for example its 400 to a
// malformed request) in the sl_stats counters.
func (m *Module) Count(code int) { m.stats.count(code) }

// CountFailure records a reply that could not be built or sent.
func (m *Module) CountFailure() { m.stats.failure() }

func fixupSendReply(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	code, err := args[0].Int()
	if err != nil {
		return nil, fmt.Errorf("sl_send_reply: bad reply code: %w", err)
	}
	if code < 100 || code > 699 {
		return nil, fmt.Errorf("sl_send_reply: reply code %d out of range 100..699", code)
	}
	reason := args[1].String()
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.Reply(msg, code, reason); err != nil {
			m.log.WarnContext(module.MsgCtx(msg), "sl_send_reply failed", "code", code, "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupReplyError(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) {
		code, reason := ErrorReply(msg)
		m.log.ErrorContext(module.MsgCtx(msg), "sl_reply_error used", "code", code, "reason", reason)
		if err := m.Reply(msg, code, reason); err != nil {
			m.log.WarnContext(module.MsgCtx(msg), "sl_reply_error failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// phrase is the RFC 3261 §21 reason phrase for code, or a class default.
func phrase(code int) string {
	if p, ok := phrases[code]; ok {
		return p
	}
	switch code / 100 {
	case 1:
		return "Trying"
	case 2:
		return "OK"
	case 3:
		return "Redirect"
	case 4:
		return "Client Error"
	case 5:
		return "Server Error"
	}
	return "Global Failure " + strconv.Itoa(code)
}

var phrases = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
	183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
	301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
	380: "Alternative Service", 400: "Bad Request", 401: "Unauthorized",
	402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
	413: "Request Entity Too Large", 414: "Request-URI Too Long",
	415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
	420: "Bad Extension", 421: "Extension Required", 423: "Interval Too Brief",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
	482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
	485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
	488: "Not Acceptable Here", 491: "Request Pending", 493: "Undecipherable",
	500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
	513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
	604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}
