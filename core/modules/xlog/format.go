package xlog

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"ser/core/sipmsg"
)

// null is what SER printed for a value the message does not have and for
// an unknown specifier.
const null = "<null>"

// getter returns a specifier's value for a message; ok false prints
// "<null>".
type getter func(m *sipmsg.Msg) (string, bool)

// item is literal text followed by a specifier (nil: none).
type item struct {
	text string
	get  getter
}

// Format is a parsed xlog format.
type Format []item

// specs are the two-letter specifiers: SER 0.9's (%ci %cs %ct %fu %ft %is
// %mb %mf %mi %ml %pp %rm %ru %rr %rs %tu %tt %Ts %Tf %ua) and the ones
// the SER line added in 2005 (%br %rt %si %sp %Ri %Rp).
var specs = map[string]getter{
	"ci": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(m.CallID()) },
	"cs": getCSeq,
	"ct": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(m.HeaderBody("Contact")) },
	"fu": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(sipmsg.NameAddrURI(m.HeaderBody("From"))) },
	"ft": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(sipmsg.TagParam(m.HeaderBody("From"))) },
	"tu": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(sipmsg.NameAddrURI(m.HeaderBody("To"))) },
	"tt": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(sipmsg.TagParam(m.HeaderBody("To"))) },
	"is": getSrcIP,
	"si": getSrcIP,
	"sp": func(m *sipmsg.Msg) (string, bool) { return strconv.Itoa(int(m.Rcv.Src.Port())), true },
	"Ri": func(m *sipmsg.Msg) (string, bool) {
		if m.Rcv.Sock == nil {
			return "", false
		}
		return sipmsg.SERAddr(m.Rcv.Sock.IP), true
	},
	"Rp": func(m *sipmsg.Msg) (string, bool) {
		if m.Rcv.Sock == nil {
			return "", false
		}
		return strconv.Itoa(m.Rcv.Sock.Port), true
	},
	"mb": func(m *sipmsg.Msg) (string, bool) { return string(rawBytes(m)), true },
	"ml": func(m *sipmsg.Msg) (string, bool) { return strconv.Itoa(len(rawBytes(m))), true },
	"mf": func(m *sipmsg.Msg) (string, bool) { return strconv.FormatUint(uint64(m.Flags), 10), true },
	"mi": func(m *sipmsg.Msg) (string, bool) { return strconv.FormatUint(stamp(m).id, 10), true },
	"pp": func(*sipmsg.Msg) (string, bool) { return strconv.Itoa(os.Getpid()), true },
	"rm": func(m *sipmsg.Msg) (string, bool) {
		if m.Req == nil {
			return "", false
		}
		return string(m.Req.Method), true
	},
	"ru": func(m *sipmsg.Msg) (string, bool) {
		if m.Req == nil {
			return "", false
		}
		return m.URIString(), true
	},
	"rs": func(m *sipmsg.Msg) (string, bool) {
		if m.Resp == nil {
			return "", false
		}
		return strconv.Itoa(m.Resp.StatusCode), true
	},
	"rr": func(m *sipmsg.Msg) (string, bool) {
		if m.Resp == nil {
			return "", false
		}
		return m.Resp.Reason, true
	},
	"rt": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(sipmsg.NameAddrURI(m.HeaderBody("Refer-To"))) },
	"br": func(m *sipmsg.Msg) (string, bool) {
		if m.Req == nil || len(m.Branches) == 0 {
			return "", false
		}
		return m.Branches[0].URI, true
	},
	"Ts": func(m *sipmsg.Msg) (string, bool) { return strconv.FormatInt(stamp(m).t.Unix(), 10), true },
	// ctime(3) without its newline.
	"Tf": func(m *sipmsg.Msg) (string, bool) { return stamp(m).t.Format("Mon Jan _2 15:04:05 2006"), true },
	"ua": func(m *sipmsg.Msg) (string, bool) { return nonEmpty(m.HeaderBody("User-Agent")) },
}

// specFirst are the letters a two-letter specifier starts with: SER's
// parser took the second letter only after one of these.
var specFirst = func() map[byte]bool {
	f := map[byte]bool{}
	for k := range specs {
		f[k[0]] = true
	}
	return f
}()

func nonEmpty(s string) (string, bool) { return s, s != "" }

func getSrcIP(m *sipmsg.Msg) (string, bool) {
	if !m.Rcv.Src.IsValid() {
		return "", false
	}
	return sipmsg.SERAddr(m.Rcv.Src.Addr()), true
}

func getCSeq(m *sipmsg.Msg) (string, bool) {
	num, _, _ := strings.Cut(m.HeaderBody("CSeq"), " ")
	return nonEmpty(strings.TrimSpace(num))
}

func rawBytes(m *sipmsg.Msg) []byte {
	if len(m.Raw) > 0 {
		return m.Raw
	}
	return m.Bytes()
}

// Parse compiles an xlog format the way SER's xl_parse_format read it:
// "%%" is a percent sign; a specifier is '%' and one or two letters, an
// unknown one prints "<null>"; "%{name}" / "%{name[N]}" is the body of the
// first / the Nth (from 0; -1 the last; * all, comma-separated) header
// line called name or its compact form. A malformed %{…} is an error.
func Parse(s string) (Format, error) {
	var f Format
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			if s != "" {
				f = append(f, item{text: s})
			}
			return f, nil
		}
		it := item{text: s[:i]}
		s = s[i+1:]
		switch {
		case s == "":
			it.get = nullGetter
		case s[0] == '%':
			it.get = func(*sipmsg.Msg) (string, bool) { return "%", true }
			s = s[1:]
		case s[0] == '{':
			g, rest, err := parseHeader(s[1:])
			if err != nil {
				return nil, err
			}
			it.get, s = g, rest
		case specFirst[s[0]]:
			if len(s) < 2 {
				it.get, s = nullGetter, ""
				break
			}
			if g, ok := specs[s[:2]]; ok {
				it.get = g
			} else {
				it.get = nullGetter
			}
			s = s[2:]
		default:
			it.get = nullGetter
			s = s[1:]
		}
		f = append(f, it)
	}
}

func nullGetter(*sipmsg.Msg) (string, bool) { return "", false }

// parseHeader reads "name[N]}" after "%{".
func parseHeader(s string) (getter, string, error) {
	if s == "" || !isLetter(s[0]) {
		return nil, "", fmt.Errorf("xlog: header specifier %%{ must start with a letter")
	}
	end := strings.IndexAny(s, "}[")
	if end < 0 {
		return nil, "", fmt.Errorf("xlog: expecting '}' after %%{%s", s)
	}
	name := s[:end]
	index, all := 0, false
	s = s[end:]
	if s[0] == '[' {
		close := strings.IndexByte(s, ']')
		if close < 0 {
			return nil, "", fmt.Errorf("xlog: expecting ']' in %%{%s", name+s)
		}
		idx := s[1:close]
		switch {
		case idx == "*":
			all = true
		case idx == "-1":
			index = -1
		case strings.HasPrefix(idx, "-"):
			return nil, "", fmt.Errorf("xlog: only -1 is accepted as a negative header index in %%{%s", name+s)
		default:
			n, err := strconv.Atoi(idx)
			if err != nil && idx != "" {
				return nil, "", fmt.Errorf("xlog: bad header index %q in %%{%s", idx, name+s)
			}
			index = n
		}
		s = s[close+1:]
	}
	if s == "" || s[0] != '}' {
		return nil, "", fmt.Errorf("xlog: expecting '}' after %%{%s", name)
	}
	return headerGetter(name, index, all), s[1:], nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func headerGetter(name string, index int, all bool) getter {
	return func(m *sipmsg.Msg) (string, bool) {
		bodies := headerBodies(m, name)
		switch {
		case len(bodies) == 0:
			return "", false
		case all:
			return strings.Join(bodies, ", "), true
		case index == -1:
			return bodies[len(bodies)-1], true
		case index < len(bodies):
			return bodies[index], true
		}
		return "", false
	}
}

// headerBodies returns the bodies of the header lines called name as
// received, or from the parsed message when there are no raw bytes.
func headerBodies(m *sipmsg.Msg, name string) []string {
	if len(m.Raw) > 0 {
		return sipmsg.RawHeaders(m.Raw, name, 0)
	}
	var out []string
	for _, h := range m.Message().GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

// Print renders the format for m. ok is false when the line would be
// longer than max bytes (SER's buf_size): SER logged nothing then.
func (f Format) Print(m *sipmsg.Msg, max int) (string, bool) {
	var b strings.Builder
	for _, it := range f {
		b.WriteString(it.text)
		if it.get != nil {
			v, ok := it.get(m)
			if !ok {
				v = null
			}
			b.WriteString(v)
		}
		if b.Len() >= max {
			return "", false
		}
	}
	return b.String(), true
}
