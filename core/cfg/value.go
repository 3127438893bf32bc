package cfg

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ValueKind tells how a value was written.
type ValueKind uint8

// Value kinds.
const (
	// NumberValue is a number: 5060, -1, 0x10, 0666 (octal).
	NumberValue ValueKind = iota + 1
	// BoolValue is yes/no/on/off/true/false/enable/disable; N is 1 or 0
	// (SER's lexer makes them numbers).
	BoolValue
	// StringValue is a quoted string; Text holds the unescaped contents.
	StringValue
	// IdentValue is a bare identifier: myself, udp, max_len, eth0.
	IdentValue
	// WordValue is other unquoted text: 192.168.0.1, 10.0.0.0/8,
	// gw.foo.bar, uri:host, udp:127.0.0.1:5060, [::1]:5062.
	WordValue
)

// String names the kind.
func (k ValueKind) String() string {
	switch k {
	case NumberValue:
		return "number"
	case BoolValue:
		return "boolean"
	case StringValue:
		return "string"
	case IdentValue:
		return "identifier"
	case WordValue:
		return "word"
	}
	return "value"
}

// Value is a literal: an option value, a modparam value, a function
// argument or the right-hand side of a comparison.
type Value struct {
	Pos  Pos
	Kind ValueKind
	// Text is the value as written (for strings: the unescaped contents).
	Text string
	// N is the value of a NumberValue or BoolValue.
	N int
}

// IsNumber reports whether the value is a number or a boolean.
func (v Value) IsNumber() bool { return v.Kind == NumberValue || v.Kind == BoolValue }

// String returns the value as source text (strings quoted).
func (v Value) String() string {
	if v.Kind == StringValue {
		return Quote(v.Text)
	}
	return v.Text
}

// Quote returns s as a double-quoted config string, escaping what the lexer
// unescapes.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// boolWords are SER's yes/no spellings.
var boolWords = map[string]int{
	"yes": 1, "true": 1, "on": 1, "enable": 1,
	"no": 0, "false": 0, "off": 0, "disable": 0,
}

// HostPort is an address as written in listen= or alias=: an optional
// protocol, a host (name, IPv4 or IPv6 address, brackets removed) and an
// optional port (0 when absent or written as '*').
type HostPort struct {
	Proto string // "udp", "tcp", "tls" or ""
	Host  string
	Port  int
}

// String returns "proto:host:port" with the parts that are set.
func (h HostPort) String() string {
	var b strings.Builder
	if h.Proto != "" {
		b.WriteString(h.Proto + ":")
	}
	if strings.Contains(h.Host, ":") {
		b.WriteString("[" + h.Host + "]")
	} else {
		b.WriteString(h.Host)
	}
	if h.Port != 0 {
		b.WriteString(":" + strconv.Itoa(h.Port))
	}
	return b.String()
}

// HostPort interprets the value as an address ([proto:]host[:port]). Quoted
// strings, identifiers and words are accepted; numbers are not.
func (v Value) HostPort() (HostPort, error) {
	if v.IsNumber() {
		return HostPort{}, fmt.Errorf("address expected, got number %s", v.Text)
	}
	return ParseHostPort(v.Text)
}

// ParseHostPort parses "[proto:]host[:port]" where host may be a name, an
// IPv4 address or an IPv6 address (bracketed when a port follows) and port
// may be '*' (any).
func ParseHostPort(s string) (HostPort, error) {
	var hp HostPort
	rest := s
	if i := strings.IndexByte(rest, ':'); i > 0 {
		switch p := strings.ToLower(rest[:i]); p {
		case "udp", "tcp", "tls":
			hp.Proto = p
			rest = rest[i+1:]
		}
	}
	if rest == "" {
		return hp, fmt.Errorf("missing host in %q", s)
	}
	if a, err := netip.ParseAddr(rest); err == nil && a.Is6() {
		hp.Host = rest // bare IPv6 address, no port
		return hp, nil
	}
	var port string
	if rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return hp, fmt.Errorf("missing ']' in %q", s)
		}
		hp.Host = rest[1:end]
		if _, err := netip.ParseAddr(hp.Host); err != nil {
			return hp, fmt.Errorf("bad IPv6 address in %q", s)
		}
		rest = rest[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return hp, fmt.Errorf("unexpected %q after ']' in %q", rest, s)
			}
			port = rest[1:]
		}
	} else {
		hp.Host = rest
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			hp.Host, port = rest[:i], rest[i+1:]
		}
		if hp.Host == "" || strings.ContainsAny(hp.Host, ":/[]*") {
			return hp, fmt.Errorf("bad host in %q", s)
		}
	}
	if port != "" && port != "*" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return hp, fmt.Errorf("bad port %q in %q", port, s)
		}
		hp.Port = n
	}
	return hp, nil
}
