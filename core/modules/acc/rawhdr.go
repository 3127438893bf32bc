package acc

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// requestURIAsReceived returns the Request-URI of the start line as
// received (SER's first_line.u.request.uri).
func requestURIAsReceived(m *sipmsg.Msg) string {
	if len(m.Raw) > 0 {
		f := strings.Fields(sipmsg.StartLine(m.Raw))
		if len(f) == 3 {
			return f[1]
		}
	}
	return m.OrigURI().String()
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
		if u := digestParam(m.HeaderBody(h), "username"); u != "" {
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
