package acc

import (
	"bytes"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// rawHeader returns the body of the first header called name (or its
// compact form) in a message's bytes as received, trimmed, with folded
// lines joined — what SER's hdr_field.body held. ok is false when the
// header is absent.
func rawHeader(raw []byte, name, compact string) (string, bool) {
	// Skip the start line.
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return "", false
	}
	rest := raw[i+1:]
	for len(rest) > 0 {
		var line []byte
		line, rest = cutLine(rest)
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return "", false // end of headers
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		hn := strings.TrimSpace(string(line[:colon]))
		if !strings.EqualFold(hn, name) && (compact == "" || !strings.EqualFold(hn, compact)) {
			continue
		}
		body := strings.TrimSpace(string(line[colon+1:]))
		// Folded continuation lines start with white space.
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			var cont []byte
			cont, rest = cutLine(rest)
			body += " " + strings.TrimSpace(string(cont))
		}
		return body, true
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

// headerBody returns a header's body from the request as received, or
// from the parsed message when there are no raw bytes.
func headerBody(m *sipmsg.Msg, name, compact string) string {
	if len(m.Raw) > 0 {
		if v, ok := rawHeader(m.Raw, name, compact); ok {
			return v
		}
		return ""
	}
	return m.Header(name)
}

// requestURIAsReceived returns the Request-URI of the start line as
// received (SER's first_line.u.request.uri).
func requestURIAsReceived(m *sipmsg.Msg) string {
	if len(m.Raw) > 0 {
		line, _ := cutLine(m.Raw)
		f := strings.Fields(string(line))
		if len(f) == 3 {
			return f[1]
		}
	}
	return m.OrigURI().String()
}

// nameAddrURI extracts the URI of a From/To body: inside <…> when present,
// otherwise up to the first ';' (header parameters).
func nameAddrURI(body string) string {
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

// tagParam returns the tag parameter of a From/To body ("" when none).
func tagParam(body string) string {
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

// uriParts returns the user and host of a SIP URI ("" when unparsable).
func uriParts(uri string) (user, host string) {
	if uri == "" {
		return "", ""
	}
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return "", ""
	}
	return u.User, u.Host
}

// digestUser returns the username of the request's digest credentials
// (Proxy-Authorization first, then Authorization), or "".
func digestUser(m *sipmsg.Msg) string {
	for _, h := range []string{"Proxy-Authorization", "Authorization"} {
		if u := digestParam(headerBody(m, h, ""), "username"); u != "" {
			return u
		}
	}
	return ""
}

// digestParam returns a parameter of a "Digest a=b, c="d"" credentials
// body.
func digestParam(body, name string) string {
	if body == "" {
		return ""
	}
	if sp := strings.IndexAny(body, " \t"); sp >= 0 {
		body = body[sp+1:]
	}
	for _, p := range splitParams(body) {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), "\"")
		}
	}
	return ""
}

// splitParams splits a credentials parameter list at commas outside
// quotes.
func splitParams(s string) []string {
	var (
		out   []string
		quote bool
		start int
	)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quote = !quote
		case ',':
			if !quote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
