package throttle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LoginPolicy is the password-guessing limit of an HTTP login (the web
// console's login form and password page, the XML-RPC bridge's basic
// authentication). A wrong password (or unknown account) is counted for
// the account at the client address (the pair), for the address once per
// newly failing pair (accounts tried from it: spraying), and for the
// account from all addresses. Nothing is locked: the pair and the address
// back off (refused without checking the password, so a guess learns
// nothing), and an account under attack from many addresses gets its
// checks spaced out (each waits for its slot), which delays but never
// refuses a login from an address that has not failed for the account.
type LoginPolicy struct {
	// PairFailures are the failures of an account at one address before
	// the pair backs off.
	PairFailures int
	// AddrAccounts are the accounts failing from one address before the
	// address backs off.
	AddrAccounts int
	// AccountFailures are the failures of an account (any address)
	// before its checks are spaced out.
	AccountFailures int
	// Delay is the first back-off, doubled by each further failure, up
	// to MaxDelay for pairs and addresses and AccountMaxSlot for the
	// spacing of an account's checks.
	Delay, MaxDelay, AccountMaxSlot time.Duration
	// MaxWait is the longest a login waits for its slot.
	MaxWait time.Duration
	// Forget drops a count this long after its last failure.
	Forget time.Duration
	// Cap bounds the keys of each table (pairs, addresses, accounts).
	Cap int
}

// DefaultLogins is the policy of the web console and the XML-RPC bridge.
var DefaultLogins = LoginPolicy{
	PairFailures: 5, AddrAccounts: 20, AccountFailures: 10,
	Delay: time.Second, MaxDelay: 15 * time.Minute, AccountMaxSlot: time.Minute,
	MaxWait: 5 * time.Second, Forget: time.Hour, Cap: 10000,
}

// Logins holds the failure counts of one login service. It is safe for
// concurrent use.
type Logins struct {
	p LoginPolicy
	// Now is the clock (time.Now by default) and Sleep the wait for a
	// slot (a timer that ends with ctx by default); tests replace them.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error

	pair, addr, account *Table
	// mu orders a check's admission with its in-flight count: checks of
	// one pair under way count against its free failures, so a burst of
	// concurrent guesses gets no more checks than a sequence would.
	mu       sync.Mutex
	inflight map[string]int
}

// NewLogins returns empty counts under p; now may be nil (time.Now).
func NewLogins(p LoginPolicy, now func() time.Time) *Logins {
	if now == nil {
		now = time.Now
	}
	pol := func(free int, max time.Duration) Policy {
		return Policy{Free: free, Delay: p.Delay, Max: max, Forget: p.Forget, Cap: p.Cap}
	}
	return &Logins{p: p, Now: now, Sleep: SleepCtx, inflight: map[string]int{},
		pair: New(pol(p.PairFailures, p.MaxDelay)), addr: New(pol(p.AddrAccounts, p.MaxDelay)),
		account: New(pol(p.AccountFailures, p.AccountMaxSlot))}
}

// Policy returns the policy.
func (l *Logins) Policy() LoginPolicy { return l.p }

// SleepCtx waits for d or until ctx ends.
func SleepCtx(ctx context.Context, d time.Duration) error {
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

// LoginKeys are the keys of a login: the account (lower case), the
// client address (AddrKey) and the pair.
type LoginKeys struct{ Account, Addr, Pair string }

// LoginKeysFor returns the keys of account logging in from addr (an
// AddrKey).
func LoginKeysFor(addr, account string) LoginKeys {
	account = strings.ToLower(account)
	return LoginKeys{Account: account, Addr: addr, Pair: addr + " " + account}
}

// Scope says which count refused a login.
type Scope int

const (
	// ScopeAddr: the address is backing off (spraying).
	ScopeAddr Scope = iota + 1
	// ScopePair: the account is backing off at this address.
	ScopePair
	// ScopeAccount: the account is under attack and this address has
	// failed for it; its next slot is more than MaxWait away.
	ScopeAccount
	// ScopeGone: the client went away while waiting for its slot.
	ScopeGone
)

// Refusal says why a login was not checked and when to try again.
type Refusal struct {
	Scope Scope
	Why   string // for the log
	Wait  time.Duration
}

// Outcome is the end of a login attempt.
type Outcome struct {
	// OK: the password was checked and right.
	OK bool
	// Refused is set when the password was not checked.
	Refused *Refusal
	// Backoffs describes the back-offs a failure started (for the log).
	Backoffs []string
}

// Check runs check (the password comparison) for a login unless the
// counts refuse it, waiting for the account's slot when the account is
// under attack, and counts its result: a failure for the pair, the
// address and the account, a success clears the pair. An error of check
// counts nothing and is returned.
func (l *Logins) Check(ctx context.Context, k LoginKeys, check func() (bool, error)) (Outcome, error) {
	wait, no := l.admit(k)
	if no != nil {
		return Outcome{Refused: no}, nil
	}
	defer l.done(k)
	if err := l.Sleep(ctx, wait); err != nil {
		return Outcome{Refused: &Refusal{Scope: ScopeGone, Why: "client went away while waiting"}}, nil
	}
	ok, err := check()
	if err != nil {
		return Outcome{}, err
	}
	if ok {
		l.pair.Reset(k.Pair)
		return Outcome{OK: true}, nil
	}
	return Outcome{Backoffs: l.fail(k)}, nil
}

// admit decides whether a login may be checked and how long it waits for
// its slot; an admitted login is in flight until done.
func (l *Logins) admit(k LoginKeys) (time.Duration, *Refusal) {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.addr.Blocked(k.Addr, now); w > 0 {
		return 0, &Refusal{ScopeAddr, "address backing off", w}
	}
	if w := l.pair.Blocked(k.Pair, now); w > 0 {
		return 0, &Refusal{ScopePair, "account backing off at this address", w}
	}
	failures, inflight := l.pair.Failures(k.Pair, now), l.inflight[k.Pair]
	if inflight > 0 && failures+inflight >= l.p.PairFailures {
		return 0, &Refusal{ScopePair, "account backing off at this address (checks in progress)", l.p.Delay}
	}
	wait, ok := l.account.Reserve(k.Account, now, l.p.MaxWait)
	if !ok {
		if failures > 0 {
			return 0, &Refusal{ScopeAccount, "account under attack, no slot", wait}
		}
		// An address that has not failed for the account is never
		// refused: it waits the longest, then is checked.
		wait = l.p.MaxWait
	}
	l.inflight[k.Pair]++
	return wait, nil
}

// done ends a check admit let through.
func (l *Logins) done(k LoginKeys) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight[k.Pair]--; l.inflight[k.Pair] <= 0 {
		delete(l.inflight, k.Pair)
	}
}

// fail counts a wrong password and returns the back-offs it started.
func (l *Logins) fail(k LoginKeys) []string {
	now := l.Now()
	var started []string
	n, d := l.pair.Fail(k.Pair, now)
	if d > 0 {
		started = append(started, fmt.Sprintf("account at this address backs off %v after %d failures", d, n))
	}
	if n == 1 {
		if n, d := l.addr.Fail(k.Addr, now); d > 0 {
			started = append(started, fmt.Sprintf("address backs off %v after %d accounts failed", d, n))
		}
	}
	if n, d := l.account.Fail(k.Account, now); d > 0 {
		started = append(started, fmt.Sprintf("account's checks %v apart after %d failures", d, n))
	}
	return started
}

// Len returns the keys held by the pair, address and account tables.
func (l *Logins) Len() (pairs, addrs, accounts int) {
	return l.pair.Len(), l.addr.Len(), l.account.Len()
}

// Failures returns the failures counted for an account (all addresses).
func (l *Logins) Failures(account string) int {
	return l.account.Failures(strings.ToLower(account), l.Now())
}
