package xmlrpc

import (
	"fmt"
	"mime"
	"net/http"
)

// A web page must not be able to drive the bridge: without credentials
// (the default) any page open in a browser on the server's host could
// otherwise POST ul_add or t_uac_dlg to http://127.0.0.1:5080/xmlrpc as a
// "simple" cross-site request, and DNS rebinding would let it read the
// answers. Three checks stop that while leaving scripts alone:
//
//   - the Host header must name this server (internal/hostcheck, the web
//     console's check too): a rebound name is not one of them;
//   - a request a browser marks as coming from another site
//     (Sec-Fetch-Site, else an Origin that is not the Host) is refused,
//     as the web console refuses it (net/http's CrossOriginProtection);
//   - the body must be declared XML (contentTypeRefused): text/plain and
//     multipart/form-data, the other types a page may send without a
//     CORS preflight, are refused.

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
