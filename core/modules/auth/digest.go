package auth

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Credentials are the digest credentials of one Authorization or
// Proxy-Authorization header (RFC 2617 §3.2.2).
type Credentials struct {
	// Username is the username directive as sent; User and Domain are its
	// parts before and after the first '@' (Domain is "" without an '@'
	// and for a trailing one, which TrailingAt reports).
	Username, User, Domain string
	TrailingAt             bool

	Realm, Nonce, URI, Response string
	// Algorithm is "" (MD5), "MD5" or "MD5-sess" as sent.
	Algorithm string
	// QOP is "", "auth" or "auth-int"; CNonce and NC go with it.
	QOP, CNonce, NC string
	Opaque          string

	// Proxy is true for credentials from a Proxy-Authorization header.
	Proxy bool
	// header is the header the credentials came from (consume_credentials).
	header sip.Header
}

// Errors of ParseCredentials.
var (
	// ErrNotDigest is returned for a header of another scheme (Basic, …):
	// such credentials are not for the digest functions and are skipped.
	ErrNotDigest = errors.New("auth: not digest credentials")
	// ErrMalformed is wrapped by every other parse error: the header is
	// digest credentials but not well-formed (SER answers 400).
	ErrMalformed = errors.New("auth: malformed digest credentials")
)

// ParseCredentials parses the value of an Authorization or
// Proxy-Authorization header: "Digest" followed by comma-separated
// name=value directives, values being tokens or quoted strings. Unknown
// directives are ignored; a known one given twice, an unterminated quoted
// string or a directive without '=' is malformed.
func ParseCredentials(value string) (*Credentials, error) {
	s := strings.TrimLeft(value, " \t")
	scheme := s
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		scheme, s = s[:i], s[i:]
	} else {
		s = ""
	}
	if !strings.EqualFold(scheme, "Digest") {
		return nil, ErrNotDigest
	}
	c := &Credentials{}
	seen := map[string]bool{}
	for {
		s = strings.TrimLeft(s, " \t\r\n,")
		if s == "" {
			break
		}
		i := strings.IndexAny(s, "= \t,")
		if i <= 0 {
			return nil, fmt.Errorf("%w: directive %q has no value", ErrMalformed, cut(s))
		}
		name := strings.ToLower(s[:i])
		s = strings.TrimLeft(s[i:], " \t")
		if s == "" || s[0] != '=' {
			return nil, fmt.Errorf("%w: directive %q has no value", ErrMalformed, name)
		}
		s = strings.TrimLeft(s[1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			v, rest, err := quoted(s)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
			}
			val, s = v, rest
		} else {
			j := strings.IndexAny(s, " \t,")
			if j < 0 {
				j = len(s)
			}
			val, s = s[:j], s[j:]
		}
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return nil, fmt.Errorf("%w: junk after directive %s", ErrMalformed, name)
		}
		dst := c.field(name)
		if dst == nil {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: directive %s given twice", ErrMalformed, name)
		}
		seen[name] = true
		*dst = val
	}
	c.User, c.Domain = c.Username, ""
	if i := strings.IndexByte(c.Username, '@'); i >= 0 {
		c.User, c.Domain = c.Username[:i], c.Username[i+1:]
		c.TrailingAt = c.Domain == ""
	}
	return c, nil
}

// field returns where the directive name is stored, nil for unknown ones.
func (c *Credentials) field(name string) *string {
	switch name {
	case "username":
		return &c.Username
	case "realm":
		return &c.Realm
	case "nonce":
		return &c.Nonce
	case "uri":
		return &c.URI
	case "response":
		return &c.Response
	case "algorithm":
		return &c.Algorithm
	case "qop":
		return &c.QOP
	case "cnonce":
		return &c.CNonce
	case "nc":
		return &c.NC
	case "opaque":
		return &c.Opaque
	}
	return nil
}

// quoted reads a quoted-string at the start of s (RFC 3261 §25.1, with
// quoted-pairs) and returns its content and the rest of s.
func quoted(s string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return "", "", errors.New("unterminated quoted string")
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// cut shortens s for an error message.
func cut(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// Check verifies that the credentials carry what a digest response needs
// (SER's check_dig_cred): username, realm, nonce, uri and a 32-digit hex
// response; with qop also cnonce and an 8-digit hex nc; qop must be
// "auth" or "auth-int". It returns an error wrapping ErrMalformed.
func (c *Credentials) Check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce},
		{"uri", c.URI}, {"response", c.Response},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if c.QOP != "" {
		if c.CNonce == "" {
			missing = append(missing, "cnonce")
		}
		if c.NC == "" {
			missing = append(missing, "nc")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrMalformed, strings.Join(missing, ", "))
	}
	if len(c.Response) != 32 || !isHex(c.Response) {
		return fmt.Errorf("%w: response is not 32 hex digits", ErrMalformed)
	}
	switch strings.ToLower(c.QOP) {
	case "", "auth", "auth-int":
	default:
		return fmt.Errorf("%w: unsupported qop %q", ErrMalformed, c.QOP)
	}
	if c.QOP != "" && (len(c.NC) != 8 || !isHex(c.NC)) {
		return fmt.Errorf("%w: nc is not 8 hex digits", ErrMalformed)
	}
	return nil
}

// SupportedAlgorithm reports whether the algorithm directive is one this
// server computes: absent, MD5 or MD5-sess (any case).
func (c *Credentials) SupportedAlgorithm() bool {
	switch strings.ToLower(c.Algorithm) {
	case "", "md5", "md5-sess":
		return true
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9', b >= 'a' && b <= 'f', b >= 'A' && b <= 'F':
		default:
			return false
		}
	}
	return true
}

// md5hex returns the lowercase hex MD5 of the parts joined with ':'.
func md5hex(parts ...string) string {
	h := md5.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HA1 returns MD5(username:realm:password) in lowercase hex, the value of
// the subscriber table's ha1 column (with username "user@domain": ha1b).
func HA1(username, realm, password string) string { return md5hex(username, realm, password) }

// ExpectedResponse computes the digest response (RFC 2617 §3.2.2.1) that
// credentials c must carry for a request with the given method and body,
// from the user's HA1 (MD5(username:realm:password), hex). MD5-sess and
// qop auth-int are handled.
func ExpectedResponse(ha1 string, c *Credentials, method string, body []byte) string {
	ha1 = strings.ToLower(ha1)
	if strings.EqualFold(c.Algorithm, "MD5-sess") {
		ha1 = md5hex(ha1, c.Nonce, c.CNonce)
	}
	qop := strings.ToLower(c.QOP)
	var ha2 string
	if qop == "auth-int" {
		sum := md5.Sum(body)
		ha2 = md5hex(method, c.URI, hex.EncodeToString(sum[:]))
	} else {
		ha2 = md5hex(method, c.URI)
	}
	if qop == "" {
		return md5hex(ha1, c.Nonce, ha2)
	}
	return md5hex(ha1, c.Nonce, c.NC, c.CNonce, qop, ha2)
}

// ResponseMatches reports whether c's response equals the expected one
// (hex digits compared case-insensitively, in constant time).
func ResponseMatches(ha1 string, c *Credentials, method string, body []byte) bool {
	want := ExpectedResponse(ha1, c, method, body)
	got := strings.ToLower(c.Response)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
