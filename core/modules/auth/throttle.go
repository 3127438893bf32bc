package auth

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/internal/throttle"
)

// Defaults of the guessing limits (modparams throttle_*).
const (
	DefaultThrottleFailures     = 5      // per user at one address
	DefaultThrottleAddrUsers    = 10     // distinct users failing from one address
	DefaultThrottleUserFailures = 20     // per user, all addresses
	DefaultThrottleDelay        = 1      // seconds, the first back-off
	DefaultThrottleMaxDelay     = 300    // seconds
	DefaultThrottleForget       = 900    // seconds
	DefaultThrottleEntries      = 65536  // keys per table
	maxThrottleSeconds          = 604800 // a week: no back-off parameter may exceed it
)

// ThrottleConfig holds the guessing limits (modparams throttle_*).
type ThrottleConfig struct {
	// On is throttle: 0 turns the limits off.
	On bool
	// Failures is throttle_failures: wrong answers for one user from one
	// source address before that pair backs off.
	Failures int
	// AddrUsers is throttle_addr_users: distinct users with wrong answers
	// from one address before the address backs off.
	AddrUsers int
	// UserFailures is throttle_user_failures: wrong answers for one user
	// from all addresses before the user backs off at every address that
	// has failed for it (addresses without failures are still checked).
	UserFailures int
	// Delay, MaxDelay and Forget are throttle_delay, throttle_max_delay and
	// throttle_forget in seconds: the first back-off (doubled by each
	// further failure), its cap, and how long counts are kept after the
	// last failure.
	Delay, MaxDelay, Forget int
	// Entries is throttle_entries: the keys kept per table (pairs,
	// addresses, users); the least recently failed key is dropped first.
	Entries int
}

func defaultThrottle() ThrottleConfig {
	return ThrottleConfig{On: true, Failures: DefaultThrottleFailures, AddrUsers: DefaultThrottleAddrUsers,
		UserFailures: DefaultThrottleUserFailures, Delay: DefaultThrottleDelay, MaxDelay: DefaultThrottleMaxDelay,
		Forget: DefaultThrottleForget, Entries: DefaultThrottleEntries}
}

// throttleParams are the module's throttle_* parameters (module.go lists
// them in the export table).
var throttleParams = []module.Param{
	{Name: "throttle", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.Throttle.On = b })},
	{Name: "throttle_failures", Kind: module.Int, Set: throttleInt(1, 1<<20, func(c *ThrottleConfig) *int { return &c.Failures })},
	{Name: "throttle_addr_users", Kind: module.Int, Set: throttleInt(1, 1<<20, func(c *ThrottleConfig) *int { return &c.AddrUsers })},
	{Name: "throttle_user_failures", Kind: module.Int, Set: throttleInt(1, 1<<20, func(c *ThrottleConfig) *int { return &c.UserFailures })},
	{Name: "throttle_delay", Kind: module.Int, Set: throttleInt(1, maxThrottleSeconds, func(c *ThrottleConfig) *int { return &c.Delay })},
	{Name: "throttle_max_delay", Kind: module.Int, Set: throttleInt(1, maxThrottleSeconds, func(c *ThrottleConfig) *int { return &c.MaxDelay })},
	{Name: "throttle_forget", Kind: module.Int, Set: throttleInt(1, maxThrottleSeconds, func(c *ThrottleConfig) *int { return &c.Forget })},
	{Name: "throttle_entries", Kind: module.Int, Set: throttleInt(16, 1<<24, func(c *ThrottleConfig) *int { return &c.Entries })},
}

// throttleInt sets an integer throttle parameter within [lo, hi].
func throttleInt(lo, hi int, field func(*ThrottleConfig) *int) func(any, module.Value) error {
	return module.IntParam(func(m *Module, n int) error {
		if n < lo || n > hi {
			return fmt.Errorf("must be between %d and %d, got %d", lo, hi, n)
		}
		*field(&m.cfg.Throttle) = n
		return nil
	})
}

// guard limits password guessing (pike/fail2ban semantics, without a
// firewall): a wrong answer (wrong password or unknown user) is counted
// for the user at the source address (pair), for the user, and — once
// per newly failing pair — for the address. While a pair or an address
// is backing off, or the user is and the pair has failed before, the
// authorize functions refuse without looking the password up, exactly as
// for a wrong password (-1, no stale flag), so a guess made while
// throttled learns nothing. A correct answer resets its pair only.
type guard struct {
	cfg        ThrottleConfig
	pair, addr *throttle.Table
	user       *throttle.Table
	// mu orders allow's decision with its in-flight count; inflight
	// counts the checks under way per pair (bounded by the workers).
	mu       sync.Mutex
	inflight map[string]int
	// checks counts responses compared with a stored password; refused
	// counts requests refused without a comparison.
	checks, refused atomic.Uint64
}

func newGuard(c ThrottleConfig) *guard {
	pol := func(free int) throttle.Policy {
		return throttle.Policy{Free: free, Delay: time.Duration(c.Delay) * time.Second,
			Max: time.Duration(c.MaxDelay) * time.Second, Forget: time.Duration(c.Forget) * time.Second, Cap: c.Entries}
	}
	return &guard{cfg: c, pair: throttle.New(pol(c.Failures)), addr: throttle.New(pol(c.AddrUsers)),
		user: throttle.New(pol(c.UserFailures)), inflight: map[string]int{}}
}

// throttleKeys are the keys of one authentication attempt: the user as
// it is looked up (lowercase; with use_domain user@domain, the domain
// being the username's or the realm, else the bare user — so that a
// client choosing another realm, which it may with calculate_ha1 and the
// realm taken from the request, still guesses for the same user), the
// source address (without port; an IPv6 address by its /64) and the
// pair.
type throttleKeys struct{ user, addr, pair string }

func keysOf(c *Credentials, src netip.AddrPort, useDomain bool) throttleKeys {
	user := c.User
	if useDomain {
		domain := c.Domain
		if domain == "" {
			domain = c.Realm
		}
		user += "@" + domain
	}
	user = strings.ToLower(user)
	addr := throttle.AddrKey(src.Addr())
	return throttleKeys{user: user, addr: addr, pair: addr + " " + user}
}

// allow reports whether the response may be checked now; when not, it
// says why (for the debug log) and counts the refusal. An allowed check
// must be followed by done once its failure (if any) is counted: checks
// of one pair in flight count against its free failures, so a burst
// sent faster than the workers answer gets no more checks than a slow
// one.
func (g *guard) allow(k throttleKeys, now time.Time) (bool, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	why := ""
	failures := g.pair.Failures(k.pair, now)
	inflight := g.inflight[k.pair]
	switch {
	case g.addr.Blocked(k.addr, now) > 0:
		why = "address backing off"
	case g.pair.Blocked(k.pair, now) > 0:
		why = "user backing off at this address"
	case inflight > 0 && failures+inflight >= g.cfg.Failures:
		why = "user backing off at this address (checks in progress)"
	case g.user.Blocked(k.user, now) > 0 && failures+inflight > 0:
		why = "user backing off at addresses that failed for it"
	}
	if why != "" {
		g.refused.Add(1)
		return false, why
	}
	g.inflight[k.pair]++
	g.checks.Add(1)
	return true, ""
}

// done ends a check allow let through.
func (g *guard) done(k throttleKeys) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inflight[k.pair]--; g.inflight[k.pair] <= 0 {
		delete(g.inflight, k.pair)
	}
}

// fail counts a wrong answer and logs each back-off it starts (one line
// per back-off, not per refused request: fail2ban can match on them).
func (g *guard) fail(k throttleKeys, now time.Time, log *slog.Logger) {
	n, d := g.pair.Fail(k.pair, now)
	if d > 0 {
		log.Warn("auth: too many failures for the user at this address, backing off", "failures", n, "seconds", d.Seconds())
	}
	if n == 1 {
		if n, d := g.addr.Fail(k.addr, now); d > 0 {
			log.Warn("auth: too many users failing from this address, backing off", "users", n, "seconds", d.Seconds())
		}
	}
	if n, d := g.user.Fail(k.user, now); d > 0 {
		log.Warn("auth: too many failures for the user, backing off at addresses that failed for it", "failures", n, "seconds", d.Seconds())
	}
}

// succeed forgets the pair's failures (not the address's or user's).
func (g *guard) succeed(k throttleKeys) { g.pair.Reset(k.pair) }

// ThrottleStats returns how many digest responses were compared with a
// stored password and how many were refused by the guessing limits
// without a comparison.
func (a *Module) ThrottleStats() (checked, refused uint64) {
	if a.guard == nil {
		return 0, 0
	}
	return a.guard.checks.Load(), a.guard.refused.Load()
}
