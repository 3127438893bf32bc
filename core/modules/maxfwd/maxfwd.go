// Package maxfwd is SER's Max-Forwards module (RFC 3261 §16.3 step 2,
// §16.6 step 3): mf_process_maxfwd_header(n) adds "Max-Forwards: n" to a
// request that has none, decrements the value of one that has, and is
// false when the value is already 0 so that the script answers 483.
package maxfwd

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// MaxValue is the largest Max-Forwards value the function accepts as its
// argument and as max_limit.
const MaxValue = 255

// DefaultMaxLimit is max_limit's default (SER 0.9's maxfwd.c).
const DefaultMaxLimit = 16

// Module is one server's maxfwd instance.
type Module struct {
	// MaxLimit caps a received value: a larger one is lowered to
	// MaxLimit before the decrement (so the request leaves with at most
	// MaxLimit). 0 disables the cap.
	MaxLimit int
	log      *slog.Logger
}

// New returns an instance with SER's defaults.
func New() *Module { return &Module{MaxLimit: DefaultMaxLimit, log: slog.Default()} }

func setMaxLimit(m *Module, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return fmt.Errorf("max_limit: %w", err)
	}
	if n < 0 || n > MaxValue {
		return fmt.Errorf("max_limit: %d out of range 0..%d", n, MaxValue)
	}
	m.MaxLimit = n
	return nil
}

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	return nil
}

func fixupProcess(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	n, err := args[0].Int()
	if err != nil {
		return nil, fmt.Errorf("mf_process_maxfwd_header: bad number: %w", err)
	}
	if n < 0 || n > MaxValue {
		return nil, fmt.Errorf("mf_process_maxfwd_header: %d out of range 0..%d", n, MaxValue)
	}
	if m.MaxLimit != 0 && n > m.MaxLimit {
		return nil, fmt.Errorf("mf_process_maxfwd_header: default value %d bigger than max_limit %d", n, m.MaxLimit)
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.Process(msg, n), nil }, nil
}

// Process is mf_process_maxfwd_header(def) for msg: it adds
// "Max-Forwards: def" when the request has no such header and returns 1;
// with a value above 0 it decrements it (after capping it to MaxLimit+1)
// and returns 1; with 0 it returns -1. A value that is not a number makes
// it return -1 after recording 400 "Bad Max-Forwards" for sl_reply_error.
func (m *Module) Process(msg *sipmsg.Msg, def int) int {
	if msg.Req == nil {
		return -1
	}
	first := sipmsg.FirstHeader(msg.Req, "Max-Forwards")
	if first == nil {
		v := sip.MaxForwardsHeader(def)
		sipmsg.PrependHeader(msg.Req, &v)
		return 1
	}
	var val int
	switch h := first.(type) {
	case *sip.MaxForwardsHeader:
		val = int(h.Val())
	default:
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 31)
		if err != nil {
			m.log.WarnContext(module.MsgCtx(msg), "bad Max-Forwards value", "value", h.Value())
			msg.SetError(400, "Bad Max-Forwards")
			return -1
		}
		val = int(n)
	}
	if val == 0 {
		return -1
	}
	if m.MaxLimit != 0 && val > m.MaxLimit {
		val = m.MaxLimit + 1
	}
	setValue(msg.Req, first, val-1)
	return 1
}

// setValue writes the new value into the first Max-Forwards header, in
// place when it is sipgo's typed header.
func setValue(req *sip.Request, h sip.Header, v int) {
	if mf, ok := h.(*sip.MaxForwardsHeader); ok {
		*mf = sip.MaxForwardsHeader(v)
		return
	}
	nv := sip.MaxForwardsHeader(v)
	req.RemoveHeader(h.Name())
	req.PrependHeader(&nv)
}
