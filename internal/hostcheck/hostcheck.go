// Package hostcheck is the Host header check of ser's HTTP listener (anti
// DNS rebinding), shared by the XML-RPC bridge and the web console.
//
// A page on a site the attacker controls can make its own name resolve to
// 127.0.0.1 (DNS rebinding) and then read answers from a server on the
// victim's loopback as if it were same-origin. The browser still sends the
// attacker's name in Host, so a request whose Host does not name this
// server is refused.
//
// A Host header is accepted when it is a name of the Checker's list
// ("name" with any port, or "name:port"), or — with the port of the
// listener the request came in on (none for 80 over HTTP, 443 over
// HTTPS) — localhost, a loopback address or the address the client
// connected to. The list entry "*" turns the check off (behind a reverse
// proxy that rewrites Host).
package hostcheck

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Checker holds the names accepted besides the listener's own. The zero
// value, and a nil *Checker, accept only the listener's own names.
type Checker struct {
	names []name
	any   bool
}

// name is one list entry.
type name struct {
	host string
	port string // "" = any port
}

// New parses a list of names: "name", "name:port", "[v6]" or
// "[v6]:port"; "*" turns the check off. Blank entries are skipped.
func New(list []string) (*Checker, error) {
	c := &Checker{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		switch s {
		case "":
			continue
		case "*":
			c.any = true
			continue
		}
		host, port := split(s)
		if host == "" || strings.ContainsAny(host, "/ @") {
			return nil, fmt.Errorf("host %q: not a host name", s)
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("host %q: bad port", s)
			}
		}
		c.names = append(c.names, name{host: strings.ToLower(host), port: port})
	}
	return c, nil
}

// Off reports whether the check is off ("*").
func (c *Checker) Off() bool { return c != nil && c.any }

// split splits a Host header value into its name (brackets of an IPv6
// literal removed, trailing dot dropped) and port ("" when absent).
func split(h string) (host, port string) {
	if hh, p, err := net.SplitHostPort(h); err == nil {
		host, port = hh, p
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	return strings.TrimSuffix(host, "."), port
}

// Allowed reports whether r's Host header names this server.
func (c *Checker) Allowed(r *http.Request) bool {
	if c.Off() {
		return true
	}
	host, port := split(r.Host)
	host = strings.ToLower(host)
	if c != nil {
		for _, n := range c.names {
			if n.host == host && (n.port == "" || n.port == port) {
				return true
			}
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
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || (localAP.IsValid() && ip == localAP.Addr().Unmap())
}

// Status is the HTTP status of a refused Host: 403 Forbidden, as every
// other access refusal of the listener.
const Status = http.StatusForbidden

// Reason is the text of a refusal; option names the setting that adds
// names (xmlrpc_host).
func Reason(r *http.Request, option string) string {
	return fmt.Sprintf("forbidden: Host %q is not a name of this server (see %s)", r.Host, option)
}

// Handler refuses requests whose Host does not name this server with
// Status and a plain-text Reason, logging a warning to log (when not
// nil), before next sees them.
func (c *Checker) Handler(next http.Handler, option string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.Allowed(r) {
			why := Reason(r, option)
			if log != nil {
				log.Warn("request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "status", Status, "reason", why)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, fmt.Sprintf("%d %s", Status, why), Status)
			return
		}
		next.ServeHTTP(w, r)
	})
}
