// Package rr is SER's Route/Record-Route module: record_route() puts this
// proxy on the route set of dialogs it relays (RFC 3261 §16.6 step 4),
// loose_route() processes the Route header of requests inside such dialogs
// (§16.4, §16.6 step 6, interoperating with RFC 2543 strict routers), and
// rewriteFromRoute() / strict_route() do SER 0.8's strict routing.
package rr

import (
	"fmt"
	"log/slog"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// Module is one server's rr instance.
type Module struct {
	// FullLR writes ";lr=on" instead of ";lr" (enable_full_lr), for user
	// agents that drop a bare ;lr.
	FullLR bool
	// AppendFromTag adds ";ftag=<From tag>" to Record-Route
	// (append_fromtag, default on).
	AppendFromTag bool
	// AddUsername puts the Request-URI's user part into record_route()'s
	// Record-Route URI (add_username; off by default, as in SER 0.9).
	AddUsername bool
	// DoubleRR is enable_double_rr (default on, as SER): a request that
	// leaves through another socket than it came in on gets two
	// Record-Route headers marked ";r2=on", and loose_route removes both.
	DoubleRR bool

	callbacks []Callback
	core      module.Core
	log       *slog.Logger
}

// New returns an instance with SER 0.9's defaults.
func New() *Module { return &Module{AppendFromTag: true, DoubleRR: true, log: slog.Default()} }

func boolParam(name string, v module.Value) (bool, error) {
	n, err := v.Int()
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return n != 0, nil
}

func setFullLR(m *Module, v module.Value) (err error) {
	m.FullLR, err = boolParam("enable_full_lr", v)
	return err
}

func setAppendFromTag(m *Module, v module.Value) (err error) {
	m.AppendFromTag, err = boolParam("append_fromtag", v)
	return err
}

func setAddUsername(m *Module, v module.Value) (err error) {
	m.AddUsername, err = boolParam("add_username", v)
	return err
}

func setDoubleRR(m *Module, v module.Value) (err error) {
	m.DoubleRR, err = boolParam("enable_double_rr", v)
	return err
}

func initModule(m *Module, env *module.Env) error {
	m.core = env.Core
	if env.Log != nil {
		m.log = env.Log
	}
	return nil
}

func fixupRecordRoute(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.RecordRoute(msg); err != nil {
			m.log.ErrorContext(module.MsgCtx(msg), "record_route failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupRecordRoutePreset(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	data := args[0].String()
	if data == "" {
		return nil, fmt.Errorf("record_route_preset: empty address")
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.RecordRoutePreset(msg, data); err != nil {
			m.log.ErrorContext(module.MsgCtx(msg), "record_route_preset failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// RecordRoute inserts this proxy's Record-Route header in front of the
// request's others: <sip:[user@]addr[:port][;transport=tcp][;ftag=tag];lr>
// with the address of the socket the request arrived on (sipmsg.RouteAddr),
// the user part of the Request-URI (SER's get_username) when add_username
// is on and the From tag when append_fromtag is on. With enable_double_rr the core turns it into
// two headers when the request leaves through another socket
// (sipmsg.RecordRoute). It refuses a second call for the same message.
func (m *Module) RecordRoute(msg *sipmsg.Msg) error {
	if msg.Req == nil {
		return fmt.Errorf("rr: record_route: not a request")
	}
	if msg.RecordRouted() != nil {
		return fmt.Errorf("rr: record_route: double attempt to record-route")
	}
	sock := msg.Rcv.Sock
	if sock == nil {
		return fmt.Errorf("rr: record_route: unknown receiving socket")
	}
	// One buffer, one string: the prefix and suffix kept for a double
	// Record-Route are parts of the header's text.
	var buf [192]byte
	b := m.appendPrefix(buf[:0], msg, m.AddUsername)
	np := len(b)
	b = sipmsg.AppendRouteAddr(b, sock, msg.Rcv.Proto)
	ns := len(b)
	text := string(m.appendSuffix(b, msg))
	uri, err := insert(msg, text)
	if err != nil {
		return err
	}
	msg.SetRecordRoute(&sipmsg.RecordRoute{URI: uri, Prefix: text[:np], Suffix: text[ns:], Double: m.DoubleRR})
	return nil
}

// RecordRoutePreset inserts "Record-Route: <sip:[user@]data[;ftag=tag];lr>"
// (record_route_preset): data is the address part, e.g. "1.2.3.4:5090".
// The user part is always added, whatever add_username says (SER 0.9).
func (m *Module) RecordRoutePreset(msg *sipmsg.Msg, data string) error {
	if msg.Req == nil {
		return fmt.Errorf("rr: record_route_preset: not a request")
	}
	var buf [192]byte
	b := m.appendPrefix(buf[:0], msg, true)
	b = append(b, data...)
	_, err := insert(msg, string(m.appendSuffix(b, msg)))
	return err
}

// appendPrefix appends what goes before the address in a Record-Route
// URI: "sip:" and, with user, "user@".
func (m *Module) appendPrefix(b []byte, msg *sipmsg.Msg, user bool) []byte {
	b = append(b, "sip:"...)
	if !user {
		return b
	}
	if u := username(msg); u != "" {
		b = append(b, u...)
		b = append(b, '@')
	}
	return b
}

// appendSuffix appends what goes after the address: ";ftag=tag" (with
// append_fromtag) and ";lr" or ";lr=on".
func (m *Module) appendSuffix(b []byte, msg *sipmsg.Msg) []byte {
	if m.AppendFromTag {
		if f := msg.Req.From(); f != nil {
			if tag, _ := f.Params.Get("tag"); tag != "" {
				b = append(b, ";ftag="...)
				b = append(b, tag...)
			}
		}
	}
	if m.FullLR {
		return append(b, ";lr=on"...)
	}
	return append(b, ";lr"...)
}

// insert prepends the header "Record-Route: <text>" and returns its URI
// as serialised (text itself when that is the same).
func insert(msg *sipmsg.Msg, text string) (string, error) {
	h := &sip.RecordRouteHeader{}
	if err := sip.ParseUri(text, &h.Address); err != nil {
		return "", fmt.Errorf("rr: record-route uri %q: %w", text, err)
	}
	sipmsg.PrependHeader(msg.Req, h)
	var buf [192]byte
	if b := sipmsg.AppendURI(buf[:0], &h.Address); string(b) != text {
		return string(b), nil
	}
	return text, nil
}

// username is the user part of the Request-URI as received, or of the
// current one when the received had none (SER's get_username: a request
// to a bare host whose user came from a preloaded route).
func username(msg *sipmsg.Msg) string {
	if u := msg.OrigURI().User; u != "" {
		return u
	}
	if cur := msg.URI(); cur != nil {
		return cur.User
	}
	return ""
}
