package lcr

import (
	"fmt"
	"net/netip"
	"strings"

	"ser/core/module"
	"ser/core/sipmsg"
)

// stateKey is the per-message slot holding the gateways load_gws found.
// tm copies it (the pointer) into failure routes, so next_gw there goes
// on where the previous call stopped.
var stateKey = sipmsg.NewKey()

// gwState is the result of load_gws for one request.
type gwState struct {
	// user is the Request-URI user the targets are tried with (without
	// any gateway prefix): the user at load_gws, updated by the first
	// next_gw in a request route.
	user    string
	targets []Target
	next    int
	started bool
}

// fixupLoadGWs binds load_gws([caps]).
func fixupLoadGWs(l *LCR, _ *module.Env, args []module.Value) (module.Handler, error) {
	caps := 0
	if len(args) == 1 {
		n, err := args[0].Int()
		if err != nil {
			return nil, fmt.Errorf("load_gws: capability: %w", err)
		}
		if n < 0 {
			return nil, fmt.Errorf("load_gws: capability %d is negative", n)
		}
		caps = n
	}
	return func(m *sipmsg.Msg) (int, error) { return l.LoadGWs(m, caps), nil }, nil
}

// LoadGWs is load_gws: it selects the targets for m's Request-URI user
// and From URI and keeps them in m for next_gw. It returns 1 (also when
// no gateway matched: next_gw then fails, as in SER) or -1 when the
// request has no From URI.
func (l *LCR) LoadGWs(m *sipmsg.Msg, caps int) int {
	if m.Req == nil {
		return -1
	}
	f := m.Req.From()
	if f == nil {
		l.log.ErrorContext(module.MsgCtx(m), "lcr: load_gws: From header field not found")
		return -1
	}
	user := m.URI().User
	targets := l.Select(user, f.Address.String(), caps)
	m.Set(stateKey, &gwState{user: user, targets: targets})
	return 1
}

// fixupNextGW binds next_gw().
func fixupNextGW(l *LCR, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return l.NextGW(m), nil }, nil
}

// inFailureRoute reports whether m is the request of a failure route.
func (l *LCR) inFailureRoute(m *sipmsg.Msg) bool {
	if l.tm == nil {
		return false
	}
	_, code := l.tm.FailureReply(m)
	return code != 0
}

// NextGW is next_gw: in a request route it rewrites the Request-URI to
// the next target, in a failure route it appends the next target as a
// new branch (SER's lcr), for the t_relay that follows. It returns -1
// when load_gws was not called or no target is left.
func (l *LCR) NextGW(m *sipmsg.Msg) int {
	st, _ := m.Get(stateKey).(*gwState)
	if st == nil || m.Req == nil || st.next >= len(st.targets) {
		return -1
	}
	failure := l.inFailureRoute(m)
	if !failure && !st.started {
		// The user part may have been changed since load_gws.
		st.user = m.URI().User
	}
	t := st.targets[st.next]
	st.next++
	st.started = true
	uri := t.URI(st.user)
	if failure {
		m.AppendBranch(sipmsg.Branch{URI: uri, Q: -1})
		return 1
	}
	if err := m.SetURI(uri); err != nil {
		l.log.ErrorContext(module.MsgCtx(m), "lcr: next_gw: cannot set the Request-URI", "uri", uri, "err", err)
		return -1
	}
	return 1
}

// fixupFromGW binds from_gw(): true when the request's source address is
// a gateway's.
func fixupFromGW(l *LCR, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if l.IsGateway(m.Rcv.Src.Addr()) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// fixupToGW binds to_gw(): true when the Request-URI host is a gateway's
// IP address.
func fixupToGW(l *LCR, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		ip, err := netip.ParseAddr(strings.Trim(m.URI().Host, "[]"))
		if err == nil && l.IsGateway(ip) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// IsGateway reports whether ip is the address of a gateway in the gw
// table.
func (l *LCR) IsGateway(ip netip.Addr) bool {
	return ip.IsValid() && l.tab.Load().ips[ip.Unmap()]
}
