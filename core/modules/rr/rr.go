// Package rr is SER's Route/Record-Route module: record_route() puts this
// proxy on the route set of dialogs it relays (RFC 3261 §16.6 step 4),
// loose_route() processes the Route header of requests inside such dialogs
// (§16.4, §16.6 step 6, interoperating with RFC 2543 strict routers), and
// rewriteFromRoute() / strict_route() do SER 0.8's strict routing.
package rr

import (
	"fmt"
	"log/slog"
	"strings"

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

	core module.Core
	log  *slog.Logger
}

// recorded marks a message that record_route already handled.
var recorded = sipmsg.NewKey()

// New returns an instance with SER 0.9's defaults.
func New() *Module { return &Module{AppendFromTag: true, log: slog.Default()} }

func boolParam(name string, v module.Value) (bool, error) {
	n, err := v.Int()
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return n != 0, nil
}

func setFullLR(inst any, v module.Value) (err error) {
	inst.(*Module).FullLR, err = boolParam("enable_full_lr", v)
	return err
}

func setAppendFromTag(inst any, v module.Value) (err error) {
	inst.(*Module).AppendFromTag, err = boolParam("append_fromtag", v)
	return err
}

// setDoubleRR accepts only 0: double record-routing (two Record-Routes
// when the request leaves through another socket) is not implemented.
func setDoubleRR(inst any, v module.Value) error {
	on, err := boolParam("enable_double_rr", v)
	if err != nil {
		return err
	}
	if on {
		return fmt.Errorf("enable_double_rr: double record-routing is not supported; set it to 0")
	}
	return nil
}

func initModule(inst any, env *module.Env) error {
	m := inst.(*Module)
	m.core = env.Core
	if env.Log != nil {
		m.log = env.Log
	}
	return nil
}

func fixupRecordRoute(inst any, env *module.Env, args []module.Value) (module.Handler, error) {
	m := inst.(*Module)
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.RecordRoute(msg); err != nil {
			m.log.Error("record_route failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupRecordRoutePreset(inst any, env *module.Env, args []module.Value) (module.Handler, error) {
	m := inst.(*Module)
	data := args[0].String()
	if data == "" {
		return nil, fmt.Errorf("record_route_preset: empty address")
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.RecordRoutePreset(msg, data); err != nil {
			m.log.Error("record_route_preset failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// RecordRoute inserts this proxy's Record-Route header in front of the
// request's others: <sip:[user@]addr:port[;transport=tcp][;ftag=tag];lr>
// with the address and port of the socket the request arrived on, the
// user part of the Request-URI (SER's get_username), the transport when
// it is not UDP and the From tag when append_fromtag is on. It refuses a
// second call for the same message.
func (m *Module) RecordRoute(msg *sipmsg.Msg) error {
	if msg.Req == nil {
		return fmt.Errorf("rr: record_route: not a request")
	}
	if msg.Get(recorded) != nil {
		return fmt.Errorf("rr: record_route: double attempt to record-route")
	}
	sock := msg.Rcv.Sock
	if sock == nil {
		return fmt.Errorf("rr: record_route: unknown receiving socket")
	}
	addr := sock.HostPort()
	proto := msg.Rcv.Proto
	if proto == sipmsg.ProtoNone {
		proto = sock.Proto
	}
	if proto != sipmsg.ProtoUDP && proto != sipmsg.ProtoNone {
		addr += ";transport=" + proto.String()
	}
	if err := m.insert(msg, addr); err != nil {
		return err
	}
	msg.Set(recorded, true)
	return nil
}

// RecordRoutePreset inserts "Record-Route: <sip:[user@]data[;ftag=tag];lr>"
// (record_route_preset): data is the address part, e.g. "1.2.3.4:5090".
func (m *Module) RecordRoutePreset(msg *sipmsg.Msg, data string) error {
	if msg.Req == nil {
		return fmt.Errorf("rr: record_route_preset: not a request")
	}
	return m.insert(msg, data)
}

// insert builds the Record-Route URI around addr and prepends the header.
func (m *Module) insert(msg *sipmsg.Msg, addr string) error {
	var b strings.Builder
	b.WriteString("sip:")
	if u := username(msg); u != "" {
		b.WriteString(u)
		b.WriteByte('@')
	}
	b.WriteString(addr)
	if m.AppendFromTag {
		if f := msg.Req.From(); f != nil {
			if tag, _ := f.Params.Get("tag"); tag != "" {
				b.WriteString(";ftag=")
				b.WriteString(tag)
			}
		}
	}
	if m.FullLR {
		b.WriteString(";lr=on")
	} else {
		b.WriteString(";lr")
	}
	var u sip.Uri
	if err := sip.ParseUri(b.String(), &u); err != nil {
		return fmt.Errorf("rr: record-route uri %q: %w", b.String(), err)
	}
	msg.Req.PrependHeader(&sip.RecordRouteHeader{Address: u})
	return nil
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
