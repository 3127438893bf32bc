package web

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"time"

	"ser/internal/throttle"
)

// Login limits: throttle.DefaultLogins, shared with the XML-RPC bridge's
// basic authentication. A wrong password (or unknown account) is counted
// for the account at the client address (the pair), for the address once
// per newly failing pair (accounts tried from it), and for the account
// from all addresses. Nothing is locked: the pair and the address back
// off (refused with 429 and nothing checked, so a guess learns nothing),
// and an account under attack from many addresses gets its checks spaced
// out (each login waits for its slot), which delays but never refuses a
// login from an address that has not failed for the account.
var loginPolicy = throttle.DefaultLogins

// newLimiter returns the console's login counts on clock now.
func newLimiter(now func() time.Time) *throttle.Logins { return throttle.NewLogins(loginPolicy, now) }

// loginKeys returns the limiter's keys of account (user@domain) logging
// in from r's client.
func loginKeys(r *http.Request, account string) throttle.LoginKeys {
	return throttle.LoginKeysFor(clientKey(r), account)
}

// refusalMessage words a refused login for the user.
func refusalMessage(no *throttle.Refusal) string {
	switch no.Scope {
	case throttle.ScopeAddr:
		return "Too many failed logins from your address. Try again in " + retryIn(no.Wait) + "."
	case throttle.ScopePair:
		return "Too many failed logins for this account from your address. Try again in " + retryIn(no.Wait) + "."
	case throttle.ScopeAccount:
		return "Too many failed logins for this account. Try again in " + retryIn(no.Wait) + "."
	}
	return "Try again."
}

// retryIn words a wait for the login page.
func retryIn(d time.Duration) string {
	if d < 90*time.Second {
		if n := int(math.Ceil(d.Seconds())); n > 1 {
			return fmt.Sprintf("%d seconds", n)
		}
		return "1 second"
	}
	return fmt.Sprintf("%d minutes", int(math.Ceil(d.Minutes())))
}

// clientIP returns the TCP peer's address (X-Forwarded-For is not
// trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientKey is the limiter's key of the client: its address, an IPv6
// address by its /64 (throttle.AddrKey).
func clientKey(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return throttle.AddrKey(ap.Addr())
	}
	return clientIP(r)
}
