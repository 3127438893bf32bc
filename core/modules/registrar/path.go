package registrar

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// Path modes (path_mode), Kamailio's registrar's.
const (
	// pathModeOff stores the Path and never puts it in the reply.
	pathModeOff = 0
	// pathModeLazy stores the Path and returns it in the 200 when the UA
	// said "Supported: path".
	pathModeLazy = 1
	// pathModeStrict (the default, RFC 3327 §5.3) refuses a REGISTER with
	// a Path whose UA did not say "Supported: path": 420 Bad Extension
	// with "Unsupported: path".
	pathModeStrict = 2
)

// maxPath bounds the stored Path (the location table's path column).
const maxPath = 512

// optionTags returns the option tags of the named headers (Require,
// Supported and its compact form k), lower-cased.
func optionTags(msg *sipmsg.Msg, names ...string) []string {
	var out []string
	for _, name := range names {
		for h := range sipmsg.HeadersNamed(msg.Req, name) {
			for _, t := range strings.Split(h.Value(), ",") {
				if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// supports reports whether the REGISTER's Supported header lists tag.
func supports(msg *sipmsg.Msg, tag string) bool {
	for _, t := range optionTags(msg, "Supported", "k") {
		if t == tag {
			return true
		}
	}
	return false
}

// checkRequire answers a REGISTER that requires an extension the
// registrar does not support (RFC 3261 §8.2.2.3): 420 Bad Extension with
// an Unsupported header listing them. The registrar supports "path" when
// use_path is on.
func (m *Module) checkRequire(msg *sipmsg.Msg) *failure {
	var unsup []string
	for _, t := range optionTags(msg, "Require") {
		if t == "path" && m.usePath {
			continue
		}
		unsup = append(unsup, t)
	}
	if len(unsup) == 0 {
		return nil
	}
	return &failure{code: 420, info: "Unsupported extension required", hdrs: []string{"Unsupported: " + strings.Join(unsup, ", ")}}
}

// pathVector joins the REGISTER's Path header values with "," (as
// Kamailio's build_path_vector) and checks them: every value a name-addr
// with a SIP URI, the first one a loose router, the whole within maxPath.
// It returns "" when there is no Path header, and the first URI's
// received parameter, unescaped, for path_use_received.
func pathVector(msg *sipmsg.Msg) (path, received string, f *failure) {
	var parts []string
	for h := range sipmsg.HeadersNamed(msg.Req, "Path") {
		parts = append(parts, strings.TrimSpace(h.Value()))
	}
	if len(parts) == 0 {
		return "", "", nil
	}
	path = strings.Join(parts, ",")
	if len(path) > maxPath {
		return "", "", errParsePath
	}
	uris, err := splitRoutes(path)
	if err != nil || len(uris) == 0 {
		return "", "", errParsePath
	}
	first := uris[0]
	if isStrict(&first) {
		// Kamailio: "first Path URI is not a loose-router, not supported".
		return "", "", errParsePath
	}
	if v, ok := first.UriParams.Get("received"); ok && v != "" {
		if u, err := url.PathUnescape(v); err == nil {
			received = u
		}
	}
	return path, received, nil
}

// splitRoutes parses a comma-separated list of <uri> route values.
func splitRoutes(s string) ([]sip.Uri, error) {
	var out []sip.Uri
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		if s[0] != '<' {
			// A display name before <…>.
			i := strings.IndexByte(s, '<')
			if i < 0 {
				return nil, fmt.Errorf("route value without <uri>: %q", s)
			}
			s = s[i:]
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, fmt.Errorf("unterminated <uri> in %q", s)
		}
		var u sip.Uri
		if err := sip.ParseUri(s[1:end], &u); err != nil {
			return nil, err
		}
		if u.Host == "" {
			return nil, fmt.Errorf("route %q without host", s[1:end])
		}
		out = append(out, u)
		s = s[end+1:]
		// Header parameters after <uri> up to the next comma.
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[i:]
		} else {
			s = ""
		}
	}
	return out, nil
}

// isStrict reports whether a route URI lacks the lr parameter.
func isStrict(u *sip.Uri) bool {
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, "lr") {
			return false
		}
	}
	return true
}

// firstHop returns the first URI of a stored path, the next hop of
// requests to the contact ("" when the path does not parse).
func firstHop(path string) string {
	uris, err := splitRoutes(path)
	if err != nil || len(uris) == 0 {
		return ""
	}
	return uris[0].String()
}
