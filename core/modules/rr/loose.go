package rr

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

func fixupLooseRoute(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) { return m.LooseRoute(msg), nil }, nil
}

func fixupStrictRoute(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) { return StrictRoute(msg), nil }, nil
}

// LooseRoute is loose_route(): Route processing of RFC 3261 §16.4 with
// SER's rr semantics. It returns -1 when the request has no Route header,
// and 1 when it was routed by its Route set:
//
//   - The Request-URI is ours and the top Route is not: the previous hop
//     was a strict router that put our Record-Route into the Request-URI
//     (only inside a dialog, i.e. with a To tag; a request without one is
//     refused with -1). The last Route becomes the Request-URI and is
//     removed; if the top Route is a loose router it becomes the next hop
//     (DstURI), else it becomes the Request-URI itself.
//   - The top Route is ours: it is removed. If none remains the request
//     goes to the Request-URI — except when the Request-URI is ours too
//     (a preloaded route to this proxy on an initial request): then -1, so
//     that the script processes the request as one for our domain.
//   - The next Route (the top one when it is not ours) is the next hop: a
//     loose router (;lr) becomes DstURI with the Request-URI unchanged; for
//     a strict router the Request-URI is appended as the last Route and the
//     strict router's URI becomes the Request-URI (§16.6 step 6).
func (m *Module) LooseRoute(msg *sipmsg.Msg) int {
	ours, ret := m.looseRoute(msg)
	if ret == 1 && ours != nil {
		for _, f := range m.callbacks {
			f(msg, ours)
		}
	}
	return ret
}

// Callback is run by loose_route after it routed a request by a Route of
// ours (Kamailio's rr callbacks): ours is that Route's URI (the R-URI
// when the previous hop was a strict router), whose parameters the
// callback may act on — the path module's use_received sends the request
// to the address in its received parameter.
type Callback func(msg *sipmsg.Msg, ours *sip.Uri)

// AddCallback registers a callback (modules call it from their init).
func (m *Module) AddCallback(f Callback) { m.callbacks = append(m.callbacks, f) }

// looseRoute is LooseRoute without the callbacks; it also returns the
// URI of ours it routed by, if any.
func (m *Module) looseRoute(msg *sipmsg.Msg) (*sip.Uri, int) {
	req := msg.Req
	if req == nil {
		return nil, -1
	}
	rs := routes(req)
	if len(rs) == 0 {
		return nil, -1
	}
	ruriMe := m.isMyself(&req.Recipient)
	topMe := m.isMyself(&rs[0].Address)
	if ruriMe {
		inDialog := hasToTag(req)
		if inDialog {
			return m.kept(&req.Recipient), afterStrict(msg, topMe)
		}
		if topMe {
			return m.kept(&rs[0].Address), m.afterLoose(msg, true, true)
		}
		m.log.WarnContext(module.MsgCtx(msg), "loose_route: pre-loaded strict routing?!", "ruri", msg.URIString())
		return nil, -1
	}
	var ours *sip.Uri
	if topMe {
		ours = m.kept(&rs[0].Address)
	}
	return ours, m.afterLoose(msg, topMe, false)
}

// kept is a copy of u for the callbacks, nil when there are none (the
// copy is all loose_route would allocate it for).
func (m *Module) kept(u *sip.Uri) *sip.Uri {
	if len(m.callbacks) == 0 {
		return nil
	}
	return u.Clone()
}

// afterStrict recovers from a strict router on the previous hop: the
// Request-URI holds our Record-Route, the remote target is the last Route.
// When the top Route is ours as well (topMe) it is the other half of a
// double Record-Route and is removed first, as SER did.
func afterStrict(msg *sipmsg.Msg, topMe bool) int {
	req := msg.Req
	if topMe {
		removeRoute(req, 0)
	}
	rs := routes(req)
	if len(rs) == 0 {
		return -1
	}
	top := rs[0]
	if isStrict(&top.Address) {
		// The next hop is a strict router too: behave like one.
		setURI(msg, &top.Address)
		removeRoute(req, 0)
		return 1
	}
	msg.DstURI = sipmsg.URIString(&top.Address)
	last := len(rs) - 1
	setURI(msg, &rs[last].Address)
	removeRoute(req, last)
	return 1
}

// afterLoose handles a request from a loose router: it drops our own
// Route (routeMe) — and, with enable_double_rr, the one below it when ours
// carries ";r2" (the two headers of a double Record-Route) — and sends the
// request to the next one.
func (m *Module) afterLoose(msg *sipmsg.Msg, routeMe, ruriMe bool) int {
	req := msg.Req
	if routeMe {
		n := 1
		if m.DoubleRR && hasParam(&firstRoute(req).Address, "r2") {
			n = 2
		}
		for ; n > 0; n-- {
			removeRoute(req, 0)
			if firstRoute(req) == nil {
				if ruriMe {
					return -1
				}
				return 1
			}
		}
	}
	next := firstRoute(req)
	if isStrict(&next.Address) {
		appendRoute(req, &req.Recipient)
		setURI(msg, &next.Address)
		removeRoute(req, 0)
		return 1
	}
	msg.DstURI = sipmsg.URIString(&next.Address)
	return 1
}

// StrictRoute is rewriteFromRoute() (SER 0.8) and strict_route(): the
// first Route URI becomes the Request-URI and is removed from the Route
// set. It returns -1 when there is no Route header.
func StrictRoute(msg *sipmsg.Msg) int {
	if msg.Req == nil {
		return -1
	}
	rs := routes(msg.Req)
	if len(rs) == 0 {
		return -1
	}
	setURI(msg, &rs[0].Address)
	removeRoute(msg.Req, 0)
	return 1
}

// isMyself asks the core whether u names this server: host, port (0 when
// absent: the core's default) and the transport parameter (any protocol
// when absent, TLS for a sips URI).
func (m *Module) isMyself(u *sip.Uri) bool {
	if m.core == nil {
		return false
	}
	proto := sipmsg.ProtoNone
	if u.IsEncrypted() {
		proto = sipmsg.ProtoTLS
	}
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, "transport") {
			if p, ok := sipmsg.ParseProto(kv.V); ok {
				proto = p
			}
		}
	}
	return m.core.IsMyself(u.Host, u.Port, proto)
}

// isStrict reports whether a route URI lacks the lr parameter (an RFC
// 2543 strict router). Any value of lr counts (;lr=on).
func isStrict(u *sip.Uri) bool { return !hasParam(u, "lr") }

// hasParam reports whether u has the URI parameter name, with any value.
func hasParam(u *sip.Uri, name string) bool {
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, name) {
			return true
		}
	}
	return false
}

func hasToTag(req *sip.Request) bool {
	to := req.To()
	if to == nil {
		return false
	}
	tag, _ := to.Params.Get("tag")
	return tag != ""
}

// routes returns the Route header values in order, one per URI (sipgo
// splits comma-separated values into separate headers).
func routes(req *sip.Request) []*sip.RouteHeader {
	n := 0
	for _, h := range req.Headers() {
		if _, ok := h.(*sip.RouteHeader); ok {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	rs := make([]*sip.RouteHeader, 0, n)
	for _, h := range req.Headers() {
		if r, ok := h.(*sip.RouteHeader); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// firstRoute is routes(req)[0], or nil.
func firstRoute(req *sip.Request) *sip.RouteHeader {
	for _, h := range req.Headers() {
		if r, ok := h.(*sip.RouteHeader); ok {
			return r
		}
	}
	return nil
}

// removeRoute deletes the i-th Route value. sipgo removes only the first
// header of a name, so the values above i move down one header first.
func removeRoute(req *sip.Request, i int) {
	if i > 0 {
		rs := routes(req)
		for ; i > 0; i-- {
			rs[i].Address = rs[i-1].Address
		}
	}
	req.RemoveHeader("Route")
}

// appendRoute adds u as the last Route value (after the last Route
// header, or at the end of the header when there is none).
func appendRoute(req *sip.Request, u *sip.Uri) {
	req.AppendHeaderAfter(&sip.RouteHeader{Address: *u.Clone()}, "Route")
}

func setURI(msg *sipmsg.Msg, u *sip.Uri) {
	msg.Req.Recipient = *u.Clone()
	msg.URIChanged()
}
