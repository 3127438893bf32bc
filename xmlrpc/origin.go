package xmlrpc

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// A web page must not be able to drive the bridge: without credentials
// (the default) any page open in a browser on the server's host could
// otherwise POST ul_add or t_uac_dlg to http://127.0.0.1:5080/xmlrpc as a
// "simple" cross-site request, and DNS rebinding would let it read the
// answers. Three checks stop that while leaving scripts alone:
//
//   - the Host header must name this server (hostAllowed): a rebound name
//     is not one of them;
//   - a request a browser marks as coming from another site
//     (Sec-Fetch-Site, else an Origin that is not the Host) is refused,
//     as the web console refuses it (net/http's CrossOriginProtection);
//   - the body must be declared XML (contentTypeRefused): text/plain and
//     multipart/form-data, the other types a page may send without a
//     CORS preflight, are refused.

// hostName is one Options.Hosts entry.
type hostName struct {
	name string
	port string // "" = any port
}

// parseHostName parses "name", "name:port", "[v6]" or "[v6]:port".
func parseHostName(s string) (hostName, error) {
	if s == "" {
		return hostName{}, fmt.Errorf("xmlrpc: host: empty name")
	}
	name, port := splitHost(s)
	if name == "" || strings.ContainsAny(name, "/ @") {
		return hostName{}, fmt.Errorf("xmlrpc: host %q: not a host name", s)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return hostName{}, fmt.Errorf("xmlrpc: host %q: bad port", s)
		}
	}
	return hostName{name: strings.ToLower(name), port: port}, nil
}

// splitHost splits a Host header value into its name (brackets of an
// IPv6 literal removed, trailing dot dropped) and port ("" when absent).
func splitHost(h string) (name, port string) {
	if host, p, err := net.SplitHostPort(h); err == nil {
		name, port = host, p
	} else {
		name = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	return strings.TrimSuffix(name, "."), port
}

// hostAllowed reports whether the Host header names this server: a name
// from Options.Hosts, or — with the port of the listener the request came
// in on — localhost, a loopback address or the address the client
// connected to.
func (s *Server) hostAllowed(r *http.Request) bool {
	if s.anyHost {
		return true
	}
	name, port := splitHost(r.Host)
	name = strings.ToLower(name)
	for _, h := range s.hosts {
		if h.name == name && (h.port == "" || h.port == port) {
			return true
		}
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	var localAP netip.AddrPort
	if ta, ok := local.(*net.TCPAddr); ok {
		localAP = ta.AddrPort()
	}
	if localAP.IsValid() {
		want := strconv.Itoa(int(localAP.Port()))
		defPort := (r.TLS == nil && want == "80") || (r.TLS != nil && want == "443")
		if port != want && !(port == "" && defPort) {
			return false
		}
	}
	if name == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || (localAP.IsValid() && ip == localAP.Addr().Unmap())
}

// contentTypeRefused returns why the request's Content-Type is refused,
// or "". text/xml (XML-RPC's type; Python's xmlrpc.client, kolo/xmlrpc)
// and application/xml are taken with any parameters. curl sends a string
// given to CURLOPT_POSTFIELDS — Granig's PHP script — as
// application/x-www-form-urlencoded, so that type, and a missing one,
// are taken from clients that are not browsers (no Origin or Sec-Fetch-*
// header); a browser gets 415 for them as for everything else.
func contentTypeRefused(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	mt := ""
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return fmt.Sprintf("unsupported media type %q: XML-RPC takes text/xml", ct)
		}
	}
	switch mt {
	case "text/xml", "application/xml":
		return ""
	case "", "application/x-www-form-urlencoded":
		if !fromBrowser(r) {
			return ""
		}
	}
	return fmt.Sprintf("unsupported media type %q: XML-RPC takes text/xml", ct)
}

// fromBrowser reports whether a browser sent the request: browsers add
// Origin to cross-origin POSTs (and to every POST, in Chromium) and
// Sec-Fetch-* to every request to a secure or loopback origin.
func fromBrowser(r *http.Request) bool {
	h := r.Header
	return h.Get("Origin") != "" || h.Get("Sec-Fetch-Site") != "" || h.Get("Sec-Fetch-Mode") != "" || h.Get("Sec-Fetch-Dest") != ""
}
