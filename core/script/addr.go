package script

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"ser/core/cfg"
	"ser/core/sipmsg"
)

// lookupHost resolves a host name of a src_ip/dst_ip comparison, once,
// when the script is compiled. Tests replace it.
var lookupHost = func(host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// ipGetter reads an address operand.
type ipGetter func(m *sipmsg.Msg) (netip.Addr, bool)

func srcIPOf(m *sipmsg.Msg) (netip.Addr, bool) {
	a := m.Rcv.Src.Addr()
	return a.Unmap(), a.IsValid()
}

func dstIPOf(m *sipmsg.Msg) (netip.Addr, bool) {
	if m.Rcv.Sock == nil || !m.Rcv.Sock.IP.IsValid() {
		return netip.Addr{}, false
	}
	return m.Rcv.Sock.IP.Unmap(), true
}

// parseNet parses an address or a network as SER wrote them: 10.0.0.1,
// [::1], 10.0.0.0/8, 192.168.0.0/255.255.0.0. isAddr is false when s is
// not written as an address at all (a host name).
func parseNet(s string) (p netip.Prefix, isAddr bool, err error) {
	addrPart, mask, hasMask := strings.Cut(s, "/")
	addrPart = strings.TrimSuffix(strings.TrimPrefix(addrPart, "["), "]")
	looksIP := strings.Contains(addrPart, ":") || strings.Trim(addrPart, "0123456789.") == ""
	if !looksIP && !hasMask {
		return p, false, nil
	}
	a, err := netip.ParseAddr(addrPart)
	if err != nil {
		return p, true, fmt.Errorf("bad IP address '%s'", addrPart)
	}
	a = a.Unmap()
	bits := a.BitLen()
	if hasMask {
		if n, ok := atoiStrict(mask); ok {
			if n > a.BitLen() {
				return p, true, fmt.Errorf("bad network '%s': mask length %d out of range", s, n)
			}
			bits = n
		} else {
			m, err := netip.ParseAddr(mask)
			if err != nil || m.BitLen() != a.BitLen() {
				return p, true, fmt.Errorf("bad network '%s': netmask expected after '/'", s)
			}
			ones, ok := maskBits(m.AsSlice())
			if !ok {
				return p, true, fmt.Errorf("bad network '%s': netmask %s is not contiguous", s, mask)
			}
			bits = ones
		}
	}
	return netip.PrefixFrom(a, bits).Masked(), true, nil
}

// atoiStrict parses a small decimal number.
func atoiStrict(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// maskBits counts the leading ones of a netmask; ok is false when the
// mask has holes.
func maskBits(b []byte) (int, bool) {
	n, done := 0, false
	for _, x := range b {
		for bit := 7; bit >= 0; bit-- {
			one := x&(1<<bit) != 0
			switch {
			case one && done:
				return 0, false
			case one:
				n++
			default:
				done = true
			}
		}
	}
	return n, true
}

// validHost reports whether s looks like a host name.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// ipCompare compiles src_ip/dst_ip == IP | network | host name | myself,
// and =~ / !~ on the address text. A host name is resolved once, here; if
// that fails the comparison is always false (a warning is logged).
func (c *compiler) ipCompare(e *cfg.Compare, get ipGetter) condFn {
	v := e.Value
	switch e.Op {
	case cfg.Match, cfg.NotMatch:
		if v.IsNumber() {
			return c.badValue(e, "a regular expression")
		}
		re := c.regexp(v)
		if re == nil {
			return nil
		}
		want := truth(e.Op == cfg.Match)
		return func(m *sipmsg.Msg, _ int) int {
			a, ok := get(m)
			if !ok {
				return -1
			}
			if re.MatchString(a.String()) {
				return want
			}
			return -want
		}
	case cfg.Eq, cfg.Ne:
	default:
		return c.badOp(e, "==, !=, =~ or !~")
	}
	want := truth(e.Op == cfg.Eq)
	if v.IsNumber() {
		return c.badValue(e, "an IP address, a network, a host name or myself")
	}
	if v.Kind == cfg.IdentValue && v.Text == "myself" {
		core := c.core
		return func(m *sipmsg.Msg, _ int) int {
			a, ok := get(m)
			if !ok {
				return -1
			}
			if core.IsMyselfIP(a) {
				return want
			}
			return -want
		}
	}
	var nets []netip.Prefix
	p, isAddr, err := parseNet(v.Text)
	switch {
	case err != nil:
		c.errs.Addf(v.Pos, "%s %s: %v", e.Operand, e.Op, err)
		return nil
	case isAddr:
		nets = []netip.Prefix{p}
	case !validHost(v.Text):
		c.errs.Addf(v.Pos, "%s %s: bad host name '%s'", e.Operand, e.Op, v.Text)
		return nil
	case c.check:
		// ser -c sends no DNS queries: the name's syntax is checked, the
		// program is never run.
		return func(*sipmsg.Msg, int) int { return -1 }
	default:
		addrs, err := lookupHost(v.Text)
		if err != nil || len(addrs) == 0 {
			c.log.Warn("cannot resolve host name; the comparison is always false",
				"host", v.Text, "pos", v.Pos.String(), "err", err)
			return func(*sipmsg.Msg, int) int { return -1 }
		}
		for _, a := range addrs {
			a = a.Unmap()
			nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	if len(nets) == 1 {
		n := nets[0]
		return func(m *sipmsg.Msg, _ int) int {
			a, ok := get(m)
			if !ok {
				return -1
			}
			if n.Contains(a) {
				return want
			}
			return -want
		}
	}
	return func(m *sipmsg.Msg, _ int) int {
		a, ok := get(m)
		if !ok {
			return -1
		}
		for _, n := range nets {
			if n.Contains(a) {
				return want
			}
		}
		return -want
	}
}
