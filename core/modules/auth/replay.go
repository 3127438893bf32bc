package auth

import (
	"bytes"
	"crypto/sha256"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// receivedURI returns the Request-URI as the request line carried it
// (what the client hashed), or the parsed original when the raw bytes are
// not at hand.
func receivedURI(m *sipmsg.Msg) string {
	line := m.Raw
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if f := strings.Fields(string(line)); len(f) == 3 {
		return f[1]
	}
	return m.OrigURI().String()
}

// digestURIMatches reports whether the digest uri directive names the
// resource of the Request-URI the request arrived with (RFC 2617
// §3.2.2.5; a script's rewrites do not count): the same text, or SIP URIs
// equal by RFC 3261 §19.1.4 — scheme, user and password as sent (after
// %-unescaping), host case-insensitively, the parameters transport, user,
// ttl, method and maddr present in both or neither with equal values,
// other parameters equal where both have them, the same headers. An
// absent port equals the scheme's default port (5060, or 5061 for sips)
// here, where RFC 3261 would tell them apart: some clients drop or add
// ":5060" in one of the two.
func digestURIMatches(digestURI, ruri string) bool {
	if digestURI == ruri {
		return true
	}
	var a, b sip.Uri
	if sip.ParseUri(digestURI, &a) != nil || sip.ParseUri(ruri, &b) != nil {
		return false
	}
	if !isSIP(a.Scheme) || !strings.EqualFold(a.Scheme, b.Scheme) || a.Raw() != "" || b.Raw() != "" {
		return false
	}
	return unescape(a.User) == unescape(b.User) && unescape(a.Password) == unescape(b.Password) &&
		strings.EqualFold(a.Host, b.Host) && port(&a) == port(&b) &&
		sameParams(a.UriParams, b.UriParams, true) && sameParams(a.Headers, b.Headers, false)
}

func isSIP(scheme string) bool {
	return strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips")
}

func port(u *sip.Uri) int {
	switch {
	case u.Port != 0:
		return u.Port
	case strings.EqualFold(u.Scheme, "sips"):
		return 5061
	}
	return 5060
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// mustMatch are the URI parameters that must be in both URIs or in
// neither (RFC 3261 §19.1.4).
var mustMatch = map[string]bool{"transport": true, "user": true, "ttl": true, "method": true, "maddr": true}

// sameParams compares URI parameters (uri true: by §19.1.4's rules,
// names and values case-insensitively) or headers (every one in both).
func sameParams(a, b sip.HeaderParams, uri bool) bool {
	find := func(ps sip.HeaderParams, k string) (string, bool) {
		for _, p := range ps {
			if strings.EqualFold(p.K, k) {
				return p.V, true
			}
		}
		return "", false
	}
	check := func(x, y sip.HeaderParams) bool {
		for _, p := range x {
			v, ok := find(y, p.K)
			if !ok {
				if !uri || mustMatch[strings.ToLower(p.K)] {
					return false
				}
				continue
			}
			if uri && !strings.EqualFold(unescape(v), unescape(p.V)) || !uri && unescape(v) != unescape(p.V) {
				return false
			}
		}
		return true
	}
	return check(a, b) && check(b, a)
}

// requestKey identifies m exactly (a hash of the request as received):
// a UDP retransmission has the same key, any other request — even one
// with the same Call-ID and CSeq — has another, so that credentials
// accepted once cannot be moved to a different request (another Contact)
// under the cover of a retransmission.
func requestKey(m *sipmsg.Msg) string {
	if len(m.Raw) == 0 {
		cseq := ""
		if h := m.Req.CSeq(); h != nil {
			cseq = h.Value()
		}
		return m.CallID() + "\x00" + cseq
	}
	sum := sha256.Sum256(m.Raw)
	return string(sum[:16])
}
