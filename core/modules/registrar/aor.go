package registrar

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// maxAORLen is SER's MAX_AOR_LEN: user@host may not be longer.
const maxAORLen = 256

// aor turns a SIP URI into the usrloc key, as SER 0.9's extract_aor: the
// %-unescaped user part, with "@host" when use_domain is set, lower-cased
// unless case_sensitive is set (then only the host part is).
func (m *Module) aor(u *sip.Uri) (string, *failure) {
	if u == nil || u.Host == "" || (!strings.EqualFold(u.Scheme, "sip") && !strings.EqualFold(u.Scheme, "sips")) {
		return "", errAORParse
	}
	user, ok := unescape(u.User)
	if !ok {
		return "", errUnescape
	}
	if len(user)+len(u.Host)+1 > maxAORLen {
		return "", errAORLen
	}
	if !m.useDomain {
		if m.caseSensitive {
			return user, nil
		}
		return lowerASCII(user), nil
	}
	if m.caseSensitive {
		return user + "@" + lowerASCII(u.Host), nil
	}
	return lowerASCII(user + "@" + u.Host), nil
}

// unescape decodes %XX escapes (RFC 3261 §19.1.2); ok is false for a
// malformed escape.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// lowerASCII lower-cases ASCII letters only, as SER's strlower.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
