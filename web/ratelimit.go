package web

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"ser/internal/throttle"
)

// Login limits. A wrong password (or unknown account) is counted for the
// account at the client address (the pair), for the address once per
// newly failing pair (accounts tried from it), and for the account from
// all addresses. Nothing is locked: the pair and the address back off
// (refused with 429 and nothing checked, so a guess learns nothing), and
// an account under attack from many addresses gets its checks spaced out
// (each login waits for its slot), which delays but never refuses a login
// from an address that has not failed for the account.
const (
	pairFailures    = 5                // failures of an account at one address before the pair backs off
	addrAccounts    = 20               // accounts failing from one address before the address backs off
	accountFailures = 10               // failures of an account before its checks are spaced out
	loginDelay      = time.Second      // first back-off, doubled by each further failure
	loginMaxDelay   = 15 * time.Minute // cap of the pair and address back-off
	accountMaxSlot  = time.Minute      // cap of the spacing of an account's checks
	maxLoginWait    = 5 * time.Second  // longest a login waits for its slot
	loginForget     = time.Hour        // a count is dropped this long after its last failure
	maxLimiterKeys  = 10000            // keys per table
)

// limiter holds the login failure counts.
type limiter struct {
	now                 func() time.Time
	sleep               func(context.Context, time.Duration) error
	pair, addr, account *throttle.Table
}

func newLimiter(now func() time.Time) *limiter {
	pol := func(free int, max time.Duration) throttle.Policy {
		return throttle.Policy{Free: free, Delay: loginDelay, Max: max, Forget: loginForget, Cap: maxLimiterKeys}
	}
	return &limiter{now: now, sleep: sleepCtx,
		pair: throttle.New(pol(pairFailures, loginMaxDelay)), addr: throttle.New(pol(addrAccounts, loginMaxDelay)),
		account: throttle.New(pol(accountFailures, accountMaxSlot))}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loginKeys are the limiter's keys of a login: the account (lowercase
// user@domain), the client address and the pair.
type loginKeys struct{ account, addr, pair string }

func keysFor(ip, account string) loginKeys {
	account = strings.ToLower(account)
	return loginKeys{account: account, addr: ip, pair: ip + " " + account}
}

// refusal says why a login was not checked and when to try again.
type refusal struct {
	why  string // for the log
	msg  string // for the user
	wait time.Duration
}

// admit decides whether a login may be checked, waiting for the
// account's slot when the account is under attack; nil means go ahead.
func (l *limiter) admit(ctx context.Context, k loginKeys) *refusal {
	now := l.now()
	if w := l.addr.Blocked(k.addr, now); w > 0 {
		return &refusal{"address backing off", "Too many failed logins from your address.", w}
	}
	if w := l.pair.Blocked(k.pair, now); w > 0 {
		return &refusal{"account backing off at this address", "Too many failed logins for this account from your address.", w}
	}
	wait, ok := l.account.Reserve(k.account, now, maxLoginWait)
	if !ok {
		if l.pair.Failures(k.pair, now) > 0 {
			return &refusal{"account under attack, no slot", "Too many failed logins for this account.", wait}
		}
		// An address that has not failed for the account is never
		// refused: it waits the longest, then is checked.
		wait = maxLoginWait
	}
	if err := l.sleep(ctx, wait); err != nil {
		return &refusal{"client went away while waiting", "Try again.", 0}
	}
	return nil
}

// fail counts a wrong password and returns the back-offs it started (for
// the log).
func (l *limiter) fail(k loginKeys) []string {
	now := l.now()
	var started []string
	n, d := l.pair.Fail(k.pair, now)
	if d > 0 {
		started = append(started, fmt.Sprintf("account at this address backs off %v after %d failures", d, n))
	}
	if n == 1 {
		if n, d := l.addr.Fail(k.addr, now); d > 0 {
			started = append(started, fmt.Sprintf("address backs off %v after %d accounts failed", d, n))
		}
	}
	if n, d := l.account.Fail(k.account, now); d > 0 {
		started = append(started, fmt.Sprintf("account's checks %v apart after %d failures", d, n))
	}
	return started
}

// success forgets the pair's failures (not the address's or account's).
func (l *limiter) success(k loginKeys) { l.pair.Reset(k.pair) }

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
