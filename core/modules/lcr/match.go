package lcr

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"ser/core/store"
)

// Target is one gateway trunk load_gws selected: the gateway, and with
// capabilities the gw_cap trunk, with the keys that ordered it.
type Target struct {
	Gateway *store.Gateway
	// Trunk is nil when load_gws was called without capabilities.
	Trunk *store.Trunk
	// PrefixLen and RulePriority come from the matching lcr rule,
	// TrunkPriority from gw_cap (0 without capabilities).
	PrefixLen, RulePriority, TrunkPriority int
	rnd                                    uint64
}

// Prefix is what the target puts in front of the Request-URI user: the
// trunk's prefix, then the gateway's.
func (t Target) Prefix() string {
	p := t.Gateway.Prefix
	if t.Trunk != nil {
		p = t.Trunk.Prefix + p
	}
	return p
}

// URI is the Request-URI for trying the target with the given user:
// scheme:prefix+user@ip[:port][;transport=x] (SER's load_gws format; no
// "@" when the user and prefix are empty).
func (t Target) URI(user string) string {
	g := t.Gateway
	var b strings.Builder
	if g.Scheme == store.SchemeSIPS {
		b.WriteString("sips:")
	} else {
		b.WriteString("sip:")
	}
	if u := t.Prefix() + user; u != "" {
		b.WriteString(u)
		b.WriteByte('@')
	}
	b.WriteString(g.IP.String())
	if g.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(g.Port))
	}
	switch g.Transport {
	case store.TransportUDP:
		b.WriteString(";transport=udp")
	case store.TransportTCP:
		b.WriteString(";transport=tcp")
	case store.TransportTLS:
		b.WriteString(";transport=tls")
	}
	return b.String()
}

// Select returns the targets for a Request-URI user and From URI: every
// gateway of every lcr rule whose prefix starts user and whose from_uri
// pattern (SQL LIKE: % any string, _ one character, ASCII case ignored)
// matches from; with caps != 0 one target per gw_cap trunk whose
// capability shares a bit with caps (gateways without such a trunk are
// left out), with caps 0 one target per gateway.
//
// Order: longest rule prefix first, then lower rule priority, then lower
// trunk priority; targets equal in all three keys are in uniformly random
// order (each gets a 64-bit random key). A gateway (or gateway trunk)
// selected by several rules appears once, at its best place.
func (l *LCR) Select(user, from string, caps int) []Target {
	tab := l.tab.Load()
	var out []Target
	for ri := range tab.rules {
		r := &tab.rules[ri]
		if !strings.HasPrefix(user, r.Prefix) || !like(from, r.FromURI) {
			continue
		}
		for _, gi := range tab.byGroup[r.GroupID] {
			g := &tab.gws[gi]
			if caps == 0 {
				out = append(out, Target{Gateway: g, PrefixLen: len(r.Prefix), RulePriority: r.Priority, rnd: l.rnd()})
				continue
			}
			for ti := range g.Trunks {
				tr := &g.Trunks[ti]
				if tr.Cap&caps == 0 {
					continue
				}
				out = append(out, Target{Gateway: g, Trunk: tr, PrefixLen: len(r.Prefix), RulePriority: r.Priority,
					TrunkPriority: tr.Priority, rnd: l.rnd()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		switch {
		case a.PrefixLen != b.PrefixLen:
			return a.PrefixLen > b.PrefixLen
		case a.RulePriority != b.RulePriority:
			return a.RulePriority < b.RulePriority
		case a.TrunkPriority != b.TrunkPriority:
			return a.TrunkPriority < b.TrunkPriority
		}
		return a.rnd < b.rnd
	})
	type key struct {
		gw  string
		cap int
	}
	seen := map[key]bool{}
	uniq := out[:0]
	for _, t := range out {
		k := key{t.Gateway.Name, -1}
		if t.Trunk != nil {
			k.cap = t.Trunk.Cap
		}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, t)
		}
	}
	return uniq
}

// like reports whether s matches the SQL LIKE pattern p (% any sequence,
// _ one character, no escape character; ASCII letters compare without
// case, as SQLite and MySQL's default collations do).
func like(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) && p[pi] == '%' {
			star, mark = pi, si
			pi++
			continue
		}
		if pi < len(p) {
			pc, pn := utf8.DecodeRuneInString(p[pi:])
			sc, sn := utf8.DecodeRuneInString(s[si:])
			if pc == '_' || foldEq(pc, sc) {
				pi += pn
				si += sn
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, sn := utf8.DecodeRuneInString(s[mark:])
		mark += sn
		si, pi = mark, star+1
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// foldEq compares two runes ignoring ASCII case.
func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}
