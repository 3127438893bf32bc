package sipmsg

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// compactForms maps header names to their compact forms (RFC 3261 §7.3.3
// and the extensions that define one), as SER's header parser knew them.
var compactForms = map[string]string{
	"accept-contact": "a", "referred-by": "b", "content-type": "c",
	"request-disposition": "d", "content-encoding": "e", "from": "f",
	"call-id": "i", "reject-contact": "j", "supported": "k",
	"content-length": "l", "contact": "m", "identity-info": "n",
	"event": "o", "refer-to": "r", "subject": "s", "to": "t",
	"allow-events": "u", "via": "v", "session-expires": "x", "identity": "y",
}

// longForms is compactForms inverted.
var longForms = func() map[string]string {
	m := make(map[string]string, len(compactForms))
	for long, c := range compactForms {
		m[c] = long
	}
	return m
}()

// HeaderNames returns the two spellings of a header name, in lower case:
// the full name and its compact form ("" when it has none). Either may be
// given: HeaderNames("v") and HeaderNames("Via") are ("via", "v").
func HeaderNames(name string) (long, compact string) {
	n := strings.ToLower(name)
	if l, ok := longForms[n]; ok {
		return l, n
	}
	return n, compactForms[n]
}

// RawHeaders returns the bodies of the header lines called name (or its
// compact form, whichever of the two is given) in a message's bytes as
// received, in order, each trimmed and with folded lines joined — what
// SER's hdr_field.body held, one entry per header line (a line with
// several comma-separated values is one entry). max > 0 stops after max
// bodies.
func RawHeaders(raw []byte, name string, max int) []string {
	long, compact := HeaderNames(name)
	var out []string
	i := bytes.IndexByte(raw, '\n') // skip the start line
	if i < 0 {
		return nil
	}
	rest := raw[i+1:]
	for len(rest) > 0 {
		var line []byte
		line, rest = cutLine(rest)
		if len(bytes.TrimRight(line, "\r")) == 0 {
			break // end of headers
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		hn := strings.ToLower(strings.TrimSpace(string(line[:colon])))
		if hn != long && (compact == "" || hn != compact) {
			continue
		}
		body := strings.TrimSpace(string(line[colon+1:]))
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			var cont []byte
			cont, rest = cutLine(rest)
			body += " " + strings.TrimSpace(string(cont))
		}
		out = append(out, body)
		if max > 0 && len(out) == max {
			break
		}
	}
	return out
}

// RawHeader returns the body of the first header line called name (see
// RawHeaders); ok is false when there is none.
func RawHeader(raw []byte, name string) (string, bool) {
	if b := RawHeaders(raw, name, 1); len(b) == 1 {
		return b[0], true
	}
	return "", false
}

// cutLine splits b after its first LF; the line keeps no LF.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// StartLine returns the first line of raw without its line end.
func StartLine(raw []byte) string {
	line, _ := cutLine(raw)
	return string(bytes.TrimRight(line, "\r"))
}

// NameAddrURI extracts the URI of a From/To/Contact-like body: inside <…>
// when present, otherwise up to the first ';' (header parameters).
func NameAddrURI(body string) string {
	s := body
	if strings.HasPrefix(s, "\"") {
		if j := strings.Index(s[1:], "\""); j >= 0 {
			s = s[j+2:]
		}
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return strings.TrimSpace(s[i+1 : i+j])
		}
		return ""
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// TagParam returns the tag parameter of a From/To body ("" when none).
func TagParam(body string) string {
	params := body
	if i := strings.LastIndexByte(body, '>'); i >= 0 {
		params = body[i+1:]
	} else if i := strings.IndexByte(body, ';'); i >= 0 {
		params = body[i:]
	} else {
		return ""
	}
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "tag") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// HeaderBody returns the body of the first header called name in the
// message as received (SER's view: headers added by the script are not
// seen), or from the parsed message when there are no raw bytes; "" when
// absent.
func (m *Msg) HeaderBody(name string) string {
	if len(m.Raw) > 0 {
		v, _ := RawHeader(m.Raw, name)
		return v
	}
	return m.Header(name)
}

// SERAddr writes an IP address as SER's ip_addr2a did: IPv4 dotted, IPv6
// as eight upper-case hex groups without leading zeros and without "::"
// compression (::1 is 0:0:0:0:0:0:0:1). Log lines, xlog's %is and the
// trusted table's src_ip use this form.
func SERAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	if !ip.Is6() {
		return ip.String()
	}
	b := ip.As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strings.ToUpper(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16)))
	}
	return sb.String()
}
