package dispatcher

import (
	"fmt"
	"strings"

	"ser/core/module"
	"ser/core/sipmsg"
)

// selKey is the per-message slot holding the destinations ds_select_dst
// chose from. tm copies it (the pointer) into failure routes, so
// ds_next_dst there goes on after the destination that failed.
var selKey = sipmsg.NewKey()

// selection is the result of ds_select_dst / ds_select_domain for one
// request.
type selection struct {
	// order is the destinations in the order they are tried: the
	// selected one, then the others of the set after it (wrapping
	// around), the default destination last (use_default). Without
	// failover (flags 2) only the selected one.
	order []*dest
	// cur indexes the destination in use.
	cur int
}

// intArg converts a numeric function argument at load time.
func intArg(fname, what string, v module.Value) (int, error) {
	n, err := v.Int()
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", fname, what, err)
	}
	return n, nil
}

// fixupSelect binds ds_select_dst(set, alg) and ds_select_domain(set, alg).
func fixupSelect(fname string, domain bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(d *Dispatcher, _ *module.Env, args []module.Value) (module.Handler, error) {
		setID, err := intArg(fname, "set", args[0])
		if err != nil {
			return nil, err
		}
		if setID < 0 {
			return nil, fmt.Errorf("%s: set %d is negative", fname, setID)
		}
		alg, err := intArg(fname, "algorithm", args[1])
		if err != nil {
			return nil, err
		}
		if !validAlg(alg) {
			return nil, fmt.Errorf("%s: algorithm %d is not supported (%s)", fname, alg, algNames)
		}
		if d.tab.Load().sets[setID] == nil {
			d.log.Warn("dispatcher: the script selects from a set that is not loaded (yet)", "function", fname, "set", setID)
		}
		return func(m *sipmsg.Msg) (int, error) { return d.Select(m, setID, alg, domain), nil }, nil
	})
}

// Select is ds_select_dst (domain false: the destination becomes the next
// hop, m.DstURI, the R-URI is unchanged) and ds_select_domain (domain
// true: the destination's host and port replace the R-URI's). It returns
// 1, or -1 when the set does not exist, every destination of it is down,
// the request lacks what the algorithm hashes, or (force_dst 0) a next
// hop is already set.
func (d *Dispatcher) Select(m *sipmsg.Msg, setID, alg int, domain bool) int {
	if m.Req == nil {
		return -1
	}
	s := d.tab.Load().sets[setID]
	if s == nil || len(s.dests) == 0 {
		d.log.ErrorContext(module.MsgCtx(m), "dispatcher: destination set not found", "set", setID)
		return -1
	}
	if !domain && !d.forceDst && m.DstURI != "" {
		d.log.ErrorContext(module.MsgCtx(m), "dispatcher: destination already set (force_dst is 0)", "dst_uri", m.DstURI)
		return -1
	}
	n := len(s.dests)
	cand := n // destinations selection rotates over
	if d.useDefault && n > 1 {
		cand = n - 1
	}
	var h uint32
	switch alg {
	case AlgCallID:
		h = callIDHash(m.CallID())
	case AlgFromURI:
		f := m.Req.From()
		if f == nil {
			d.log.ErrorContext(module.MsgCtx(m), "dispatcher: cannot hash: no From header")
			return -1
		}
		h = uriHash(&f.Address, d.flags&FlagHashUserOnly != 0)
	case AlgToURI:
		t := m.Req.To()
		if t == nil {
			d.log.ErrorContext(module.MsgCtx(m), "dispatcher: cannot hash: no To header")
			return -1
		}
		h = uriHash(&t.Address, d.flags&FlagHashUserOnly != 0)
	case AlgRURI:
		h = uriHash(m.URI(), d.flags&FlagHashUserOnly != 0)
	case AlgRoundRobin:
		h = s.rr.Add(1) - 1
	case AlgRandom:
		h = uint32(d.rnd() >> 32)
	case AlgFirst:
		h = 0
	}
	idx := int(h % uint32(cand))
	for i := 0; !s.dests[idx].usable(); i++ {
		if i == cand-1 {
			if cand < n && s.dests[n-1].usable() {
				idx = n - 1
				break
			}
			d.log.ErrorContext(module.MsgCtx(m), "dispatcher: all destinations of the set are down", "set", setID)
			return -1
		}
		idx = (idx + 1) % cand
	}
	sel := &selection{order: []*dest{s.dests[idx]}}
	if d.flags&FlagFailover != 0 && idx < cand {
		for i := 1; i < cand; i++ {
			sel.order = append(sel.order, s.dests[(idx+i)%cand])
		}
		if cand < n {
			sel.order = append(sel.order, s.dests[n-1])
		}
	}
	apply(m, sel.order[0], domain)
	m.Set(selKey, sel)
	return 1
}

// apply makes ds the request's next hop, or (domain) puts its host and
// port into the R-URI.
func apply(m *sipmsg.Msg, ds *dest, domain bool) {
	if !domain {
		m.DstURI = ds.uri
		return
	}
	u := m.URI()
	u.Host, u.Port = ds.parsed.Host, ds.parsed.Port
	m.URIChanged()
}

// fixupNext binds ds_next_dst() and ds_next_domain(); both need failover
// support (flags 2), checked at load time.
func fixupNext(fname string, domain bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(d *Dispatcher, _ *module.Env, _ []module.Value) (module.Handler, error) {
		if d.flags&FlagFailover == 0 {
			return nil, fmt.Errorf("%s: needs failover support: set modparam(\"dispatcher\", \"flags\", 2)", fname)
		}
		return func(m *sipmsg.Msg) (int, error) { return d.Next(m, domain), nil }, nil
	})
}

// Next is ds_next_dst / ds_next_domain: it moves to the next destination
// of the selection that is up now — in a failure route, the next one
// after the destination that failed — and applies it as Select did. It
// returns -1 when nothing was selected or no destination is left.
func (d *Dispatcher) Next(m *sipmsg.Msg, domain bool) int {
	sel, _ := m.Get(selKey).(*selection)
	if sel == nil || m.Req == nil {
		return -1
	}
	for i := sel.cur + 1; i < len(sel.order); i++ {
		if sel.order[i].usable() {
			sel.cur = i
			apply(m, sel.order[i], domain)
			return 1
		}
	}
	sel.cur = len(sel.order)
	return -1
}

// fixupMark binds ds_mark_dst([state]).
func fixupMark(d *Dispatcher, _ *module.Env, args []module.Value) (module.Handler, error) {
	state := StateInactive | StateProbing
	if len(args) == 1 {
		st, err := parseMarkState(args[0].String())
		if err != nil {
			return nil, fmt.Errorf("ds_mark_dst: %w", err)
		}
		state = st
	}
	return func(m *sipmsg.Msg) (int, error) { return d.Mark(m, state), nil }, nil
}

// parseMarkState reads a ds_mark_dst state: a or 1 (active), i or 0
// (inactive), t (trying: counted against ds_probing_threshold), d
// (disabled), each optionally followed by p (probing); a lone p is "ip"
// (Kamailio 1.x).
func parseMarkState(s string) (uint32, error) {
	if strings.EqualFold(s, "p") {
		return StateInactive | StateProbing, nil
	}
	return parseState(s)
}

// parseState reads a state as ds_set_state takes it: a (or 1), i (or 0),
// t or d, optionally followed by p.
func parseState(s string) (uint32, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 2 || len(s) == 2 && s[1] != 'p' {
		return 0, fmt.Errorf("bad state %q: want a, i, t or d, optionally followed by p", s)
	}
	var st uint32
	switch s[0] {
	case 'a', '1':
	case 'i', '0':
		st = StateInactive
	case 't':
		st = StateTrying
	case 'd':
		st = StateDisabled
	default:
		return 0, fmt.Errorf("bad state %q: want a, i, t or d, optionally followed by p", s)
	}
	if len(s) == 2 {
		st |= StateProbing
	}
	return st, nil
}

// Mark is ds_mark_dst: it sets the state of the destination in use (the
// one that failed, in a failure route). The trying state counts towards
// ds_probing_threshold, after which the destination becomes inactive.
// It returns -1 when nothing was selected.
func (d *Dispatcher) Mark(m *sipmsg.Msg, state uint32) int {
	sel, _ := m.Get(selKey).(*selection)
	if sel == nil || sel.cur >= len(sel.order) {
		return -1
	}
	d.update(sel.order[sel.cur], state, "ds_mark_dst")
	return 1
}

// fixupIsFromList binds ds_is_from_list([group]).
func fixupIsFromList(d *Dispatcher, _ *module.Env, args []module.Value) (module.Handler, error) {
	group := -1
	if len(args) == 1 {
		n, err := intArg("ds_is_from_list", "group", args[0])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("ds_is_from_list: group %d is negative", n)
		}
		group = n
	}
	return func(m *sipmsg.Msg) (int, error) {
		if d.IsFromList(m.Rcv, group) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// IsFromList reports whether a message received as rcv comes from a
// destination of set group (-1: of any set): same IP address, and the
// same port and transport when the destination URI gives them.
func (d *Dispatcher) IsFromList(rcv sipmsg.RcvInfo, group int) bool {
	tab := d.tab.Load()
	src := rcv.Src.Addr().Unmap()
	match := func(s *set) bool {
		for _, ds := range s.dests {
			if ds.ip.IsValid() && ds.ip == src &&
				(ds.port == 0 || ds.port == int(rcv.Src.Port())) &&
				(ds.proto == sipmsg.ProtoNone || ds.proto == rcv.Proto) {
				return true
			}
		}
		return false
	}
	if group >= 0 {
		s := tab.sets[group]
		return s != nil && match(s)
	}
	for _, s := range tab.sets {
		if match(s) {
			return true
		}
	}
	return false
}
