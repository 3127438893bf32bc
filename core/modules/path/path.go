// Package path is Kamailio's path module for ser: an outbound proxy or
// load balancer in front of registrars inserts a Path header into the
// REGISTERs it forwards (RFC 3327), so that the registrar stores it with
// the contact and requests to the contact come back through this proxy —
// the only hop a UA behind NAT can be reached from. add_path_received()
// also records the address the REGISTER came from, and use_received sends
// the requests that come back to that address.
package path

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/rr"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

// Exports is the path module's export table.
var Exports = &module.Exports{
	Name: "path",
	Params: []module.Param{
		{Name: "use_received", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.useReceived = on })},
		{Name: "received_name", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.receivedName = s })},
	},
	Funcs: []module.Func{
		{Name: "add_path", MinArgs: 0, MaxArgs: 1, Routes: module.Request, Fixup: fixup(false)},
		{Name: "add_path_received", MinArgs: 0, MaxArgs: 1, Routes: module.Request, Fixup: fixup(true)},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}

// Module is one server's path instance.
type Module struct {
	useReceived  bool
	receivedName string
	log          *slog.Logger
}

// New returns an instance with Kamailio's defaults.
func New() *Module { return &Module{receivedName: "received", log: slog.Default()} }

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	if m.receivedName == "" || strings.ContainsAny(m.receivedName, ";=<>, \t") {
		return fmt.Errorf("path: received_name %q is not a URI parameter name", m.receivedName)
	}
	if !m.useReceived {
		return nil
	}
	rrm, ok := module.Get[*rr.Module](env, "rr")
	if !ok {
		return fmt.Errorf("path: use_received needs the rr module (loose_route hands it the Route of ours)")
	}
	rrm.AddCallback(m.routed)
	return nil
}

func fixup(received bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
		user := ""
		if len(args) == 1 {
			user = args[0].String()
			if user == "" || strings.ContainsAny(user, " \t\r\n;@<>:,\"?/[]") {
				return nil, fmt.Errorf("path: %q is not a user part", user)
			}
		}
		return func(msg *sipmsg.Msg) (int, error) {
			if err := m.AddPath(msg, user, received); err != nil {
				m.log.ErrorContext(module.MsgCtx(msg), "add_path failed", "err", err)
				return -1, nil
			}
			return 1, nil
		}, nil
	})
}

// AddPath puts this proxy's Path entry on the request in msg:
// "Path: <sip:[user@]address;lr[;received=…]>", with the address of the
// socket the request leaves from (filled in when it is sent), in front of
// the Path headers the request has. With received, the URI carries the
// address the request came from as Kamailio wrote it ("sip:ip:port", with
// an escaped ";transport=tcp" for TCP), which a registrar with
// path_use_received stores as the contact's received address.
func (m *Module) AddPath(msg *sipmsg.Msg, user string, received bool) error {
	if msg.Req == nil {
		return fmt.Errorf("path: not a request")
	}
	p := &sipmsg.PathEntry{Prefix: "sip:", Suffix: ";lr"}
	if user != "" {
		p.Prefix += user + "@"
	}
	if received {
		p.Suffix += ";" + m.receivedName + "=" + receivedValue(msg.Rcv)
	}
	if !msg.SetPathEntry(p) {
		return fmt.Errorf("path: a Path entry was added to this request already")
	}
	return nil
}

// receivedValue is the source of a request as Kamailio's path module
// wrote it into the received parameter.
func receivedValue(rcv sipmsg.RcvInfo) string {
	ip := rcv.Src.Addr().Unmap()
	host := ip.String()
	if ip.Is6() {
		host = "[" + host + "]"
	}
	s := "sip:" + host + ":" + strconv.Itoa(int(rcv.Src.Port()))
	switch rcv.Proto {
	case sipmsg.ProtoTCP:
		s += "%3Btransport%3Dtcp"
	case sipmsg.ProtoTLS:
		s += "%3Btransport%3Dtls"
	}
	return s
}

// routed is the rr callback of use_received: a request routed by a Route
// of ours that carries the received parameter goes to that address.
func (m *Module) routed(msg *sipmsg.Msg, ours *sip.Uri) {
	v, ok := ours.UriParams.Get(m.receivedName)
	if !ok || v == "" {
		return
	}
	dst, err := url.PathUnescape(v)
	if err != nil {
		m.log.WarnContext(module.MsgCtx(msg), "path: bad received parameter in our Route", "received", v, "err", err)
		return
	}
	var u sip.Uri
	if err := sip.ParseUri(dst, &u); err != nil {
		m.log.WarnContext(module.MsgCtx(msg), "path: bad received parameter in our Route", "received", dst, "err", err)
		return
	}
	msg.DstURI = dst
}
