package script

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/cfg"
	"ser/core/sipmsg"
)

// cond compiles a condition.
func (c *compiler) cond(e cfg.Expr) condFn {
	switch e := e.(type) {
	case *cfg.Not:
		x := c.cond(e.X)
		return func(m *sipmsg.Msg, depth int) int { return -x(m, depth) }
	case *cfg.Logic:
		x, y := c.cond(e.X), c.cond(e.Y)
		if e.Op == cfg.And {
			return func(m *sipmsg.Msg, depth int) int {
				if v := x(m, depth); v <= 0 {
					return v
				}
				return y(m, depth)
			}
		}
		return func(m *sipmsg.Msg, depth int) int {
			if v := x(m, depth); v >= 0 {
				return v
			}
			return y(m, depth)
		}
	case *cfg.Const:
		v := -1
		if e.Value.N != 0 {
			v = 1
		}
		return func(*sipmsg.Msg, int) int { return v }
	case *cfg.Call:
		return c.callCond(e)
	case *cfg.StmtExpr:
		// SER 0.9's exp_stm: the statement's value; drop (or a call
		// that returned 0) stops the script, break and return leave
		// only the condition with their value.
		fn := c.stmt(e.Stmt)
		if fn == nil {
			return condFalse
		}
		return func(m *sipmsg.Msg, depth int) int {
			v, next := fn(m, depth)
			if next == ctlStop {
				return 0
			}
			return v
		}
	case *cfg.Compare:
		if fn := c.compare(e); fn != nil {
			return fn
		}
	}
	return condFalse
}

// truth converts a Go bool to SER's ±1.
func truth(b bool) int {
	if b {
		return 1
	}
	return -1
}

// compare compiles operand op value; it returns nil after reporting an
// error.
func (c *compiler) compare(e *cfg.Compare) condFn {
	switch e.Operand {
	case "method":
		return c.strCompare(e, methodOf, nil)
	case "uri":
		return c.strCompare(e, ruriOf, ruriAddr)
	case "status":
		return c.strCompare(e, statusOf, nil)
	case "from_uri":
		return c.strCompare(e, fromOf, fromAddr)
	case "to_uri":
		return c.strCompare(e, toOf, toAddr)
	case "uri:host":
		return c.strCompare(e, ruriHostOf, ruriAddr)
	case "src_ip":
		return c.ipCompare(e, srcIPOf)
	case "dst_ip":
		return c.ipCompare(e, dstIPOf)
	case "src_port":
		return c.intCompare(e, srcPortOf)
	case "dst_port":
		return c.intCompare(e, dstPortOf)
	case "uri:port":
		return c.intCompare(e, ruriPortOf)
	case "msg:len":
		return c.intCompare(e, msgLenOf)
	case "proto":
		return c.protoCompare(e)
	case "af":
		return c.afCompare(e)
	}
	c.errs.Addf(e.Pos, "unknown operand '%s'", e.Operand)
	return nil
}

// badOp reports an operator an operand does not take.
func (c *compiler) badOp(e *cfg.Compare, valid string) condFn {
	c.errs.Addf(e.OpPos, "operator '%s' cannot be used with '%s' (valid: %s)", e.Op, e.Operand, valid)
	return nil
}

// badValue reports a right-hand side of the wrong type.
func (c *compiler) badValue(e *cfg.Compare, want string) condFn {
	c.errs.Addf(e.Value.Pos, "'%s %s' needs %s, found %s %s", e.Operand, e.Op, want, e.Value.Kind, e.Value)
	return nil
}

// strGetter reads a string operand; ok is false when the message has no
// such value (a reply has no R-URI): the comparison is then false.
type strGetter func(m *sipmsg.Msg) (s string, ok bool)

// uriGetter returns a URI operand for myself comparisons.
type uriGetter func(m *sipmsg.Msg) *sip.Uri

func methodOf(m *sipmsg.Msg) (string, bool) {
	s := m.Method()
	return s, s != ""
}

func ruriOf(m *sipmsg.Msg) (string, bool) {
	if m.Req == nil {
		return "", false
	}
	return m.URIString(), true
}

// statusTexts holds "100" … "699" so that status comparisons do not
// allocate.
var statusTexts = func() []string {
	t := make([]string, 700)
	for i := 100; i < 700; i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// statusOf is SER's "status": the reply code of a reply, the R-URI of a
// request (SER made status a synonym of uri).
func statusOf(m *sipmsg.Msg) (string, bool) {
	if m.Resp != nil {
		if c := m.Resp.StatusCode; c >= 100 && c < 700 {
			return statusTexts[c], true
		}
		return strconv.Itoa(m.Resp.StatusCode), true
	}
	return ruriOf(m)
}

func ruriAddr(m *sipmsg.Msg) *sip.Uri { return m.URI() }

func fromAddr(m *sipmsg.Msg) *sip.Uri {
	if h := m.Message().From(); h != nil {
		return &h.Address
	}
	return nil
}

func toAddr(m *sipmsg.Msg) *sip.Uri {
	if h := m.Message().To(); h != nil {
		return &h.Address
	}
	return nil
}

func fromOf(m *sipmsg.Msg) (string, bool) {
	if u := fromAddr(m); u != nil {
		return u.String(), true
	}
	return "", false
}

func toOf(m *sipmsg.Msg) (string, bool) {
	if u := toAddr(m); u != nil {
		return u.String(), true
	}
	return "", false
}

func ruriHostOf(m *sipmsg.Msg) (string, bool) {
	if m.Req == nil {
		return "", false
	}
	return m.Req.Recipient.Host, true
}

// uriProto returns the transport a URI asks for (ProtoNone when it does
// not say).
func uriProto(u *sip.Uri) sipmsg.Proto {
	if u.UriParams != nil {
		if t, ok := u.UriParams.Get("transport"); ok {
			if p, ok := sipmsg.ParseProto(t); ok {
				return p
			}
		}
	}
	if u.Scheme == "sips" {
		return sipmsg.ProtoTLS
	}
	return sipmsg.ProtoNone
}

// strCompare compiles a comparison of a string operand: == and != (case
// insensitive, as SER's strcasecmp), =~ and !~ (regular expressions), and
// == / != myself when addr is set.
func (c *compiler) strCompare(e *cfg.Compare, get strGetter, addr uriGetter) condFn {
	v := e.Value
	switch e.Op {
	case cfg.Eq, cfg.Ne:
		want := truth(e.Op == cfg.Eq)
		if v.Kind == cfg.IdentValue && v.Text == "myself" {
			if addr == nil {
				return c.badValue(e, "a string")
			}
			core := c.core
			return func(m *sipmsg.Msg, _ int) int {
				u := addr(m)
				if u == nil {
					return -1
				}
				if core.IsMyself(u.Host, u.Port, uriProto(u)) {
					return want
				}
				return -want
			}
		}
		if v.IsNumber() && e.Operand != "status" {
			return c.badValue(e, "a string")
		}
		s := v.Text
		return func(m *sipmsg.Msg, _ int) int {
			x, ok := get(m)
			if !ok {
				return -1
			}
			if strings.EqualFold(x, s) {
				return want
			}
			return -want
		}
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
			x, ok := get(m)
			if !ok {
				return -1
			}
			if re.MatchString(x) {
				return want
			}
			return -want
		}
	}
	return c.badOp(e, "==, !=, =~ or !~")
}

// intGetter reads a numeric operand.
type intGetter func(m *sipmsg.Msg) (n int, ok bool)

func srcPortOf(m *sipmsg.Msg) (int, bool) { return int(m.Rcv.Src.Port()), m.Rcv.Src.IsValid() }

func dstPortOf(m *sipmsg.Msg) (int, bool) {
	if m.Rcv.Sock == nil {
		return 0, false
	}
	return m.Rcv.Sock.Port, true
}

func msgLenOf(m *sipmsg.Msg) (int, bool) { return len(m.Raw), true }

// ruriPortOf is the R-URI's port, or the default port of its transport.
func ruriPortOf(m *sipmsg.Msg) (int, bool) {
	if m.Req == nil {
		return 0, false
	}
	u := &m.Req.Recipient
	if u.Port != 0 {
		return u.Port, true
	}
	if uriProto(u) == sipmsg.ProtoTLS {
		return 5061, true
	}
	return 5060, true
}

// intCompare compiles a comparison of a numeric operand.
func (c *compiler) intCompare(e *cfg.Compare, get intGetter) condFn {
	if e.Op == cfg.Match || e.Op == cfg.NotMatch {
		return c.badOp(e, "==, !=, <, >, <= or >=")
	}
	v := e.Value
	var n int
	switch {
	case v.Kind == cfg.NumberValue:
		n = v.N
	case v.Kind == cfg.IdentValue && v.Text == "max_len" && e.Operand == "msg:len":
		n = sipmsg.MaxMsgLen
	case e.Operand == "msg:len":
		return c.badValue(e, "a number or max_len")
	default:
		return c.badValue(e, "a number")
	}
	op := e.Op
	return func(m *sipmsg.Msg, _ int) int {
		x, ok := get(m)
		if !ok {
			return -1
		}
		switch op {
		case cfg.Eq:
			return truth(x == n)
		case cfg.Ne:
			return truth(x != n)
		case cfg.Lt:
			return truth(x < n)
		case cfg.Gt:
			return truth(x > n)
		case cfg.Le:
			return truth(x <= n)
		}
		return truth(x >= n)
	}
}

// protoCompare compiles proto == udp|tcp|tls.
func (c *compiler) protoCompare(e *cfg.Compare) condFn {
	if e.Op != cfg.Eq && e.Op != cfg.Ne {
		return c.badOp(e, "== or !=")
	}
	var p sipmsg.Proto
	switch v := e.Value; {
	case v.Kind == cfg.IdentValue:
		var ok bool
		if p, ok = sipmsg.ParseProto(v.Text); !ok {
			return c.badValue(e, "a protocol (udp, tcp or tls)")
		}
	case v.Kind == cfg.NumberValue && v.N >= 1 && v.N <= 3:
		p = sipmsg.Proto(v.N)
	default:
		return c.badValue(e, "a protocol (udp, tcp or tls)")
	}
	want := truth(e.Op == cfg.Eq)
	return func(m *sipmsg.Msg, _ int) int {
		if m.Rcv.Proto == p {
			return want
		}
		return -want
	}
}

// afCompare compiles af == inet|inet6. SER's lexer made inet and inet6
// the numbers AF_INET and AF_INET6 (2 and 10 on Linux); those are accepted
// too.
func (c *compiler) afCompare(e *cfg.Compare) condFn {
	if e.Op != cfg.Eq && e.Op != cfg.Ne {
		return c.badOp(e, "== or !=")
	}
	var v6 bool
	switch v := e.Value; {
	case v.Kind == cfg.IdentValue && strings.EqualFold(v.Text, "inet"):
	case v.Kind == cfg.IdentValue && strings.EqualFold(v.Text, "inet6"):
		v6 = true
	case v.Kind == cfg.NumberValue && v.N == 2:
	case v.Kind == cfg.NumberValue && v.N == 10:
		v6 = true
	default:
		return c.badValue(e, "an address family (inet or inet6)")
	}
	want := truth(e.Op == cfg.Eq)
	return func(m *sipmsg.Msg, _ int) int {
		a := m.Rcv.Src.Addr()
		if !a.IsValid() {
			return -1
		}
		if a.Unmap().Is6() == v6 {
			return want
		}
		return -want
	}
}
