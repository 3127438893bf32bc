package auth

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/internal/testing/modtest"
)

// throttled is a fixture whose guessing limits are small: 3 failures per
// user at an address, 4 users per address, 6 failures per user; back-off
// 10 s doubling to 100 s.
func throttled(t *testing.T) (*fixture, func(user, pw, src string) (int, bool), *logBuf) {
	f := newFixture(t, map[string]any{"throttle_failures": 3, "throttle_addr_users": 4, "throttle_user_failures": 6,
		"throttle_delay": 10, "throttle_max_delay": 100, "throttle_forget": 300, "throttle_entries": 16}, false)
	h := f.bind("www_authorize", "example.com", "subscriber")
	f.attach()
	logs := &logBuf{}
	f.a.log = slog.New(slog.NewTextHandler(logs, nil))
	send := func(user, pw, src string) (int, bool) {
		f.t.Helper()
		x := answer{Username: user, Realm: "example.com", Password: pw, Nonce: f.nonce(), QOP: "auth"}
		m := modtest.Request{Headers: []string{x.line()}}.Msg(t, modtest.From(src+":5060"))
		r, _ := h(m)
		return r, state(m).stale[www]
	}
	return f, send, logs
}

// logBuf collects log output.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}

// checked returns the responses compared with a password since the last
// call.
func checkedSince(f *fixture, last *uint64) uint64 {
	c, _ := f.a.ThrottleStats()
	d := c - *last
	*last = c
	return d
}

func TestThrottlePair(t *testing.T) {
	f, send, logs := throttled(t)
	var n uint64
	for i := 0; i < 20; i++ {
		if r, stale := send("alice", "guess", "192.0.2.1"); r != -1 || stale {
			t.Fatalf("guess %d: %d stale %v", i, r, stale)
		}
	}
	if got := checkedSince(f, &n); got != 3 {
		t.Errorf("%d of 20 guesses reached the password check, want 3", got)
	}
	if _, refused := f.a.ThrottleStats(); refused != 17 {
		t.Errorf("refused %d, want 17", refused)
	}
	// While backing off, the right password gets the same answer as a
	// wrong one (no stale flag, nothing checked).
	if r, stale := send("alice", "secret", "192.0.2.1"); r != -1 || stale || checkedSince(f, &n) != 0 {
		t.Errorf("right password while backing off: %d stale %v", r, stale)
	}
	// Another address, and another user at the same address, are not
	// affected.
	if r, _ := send("alice", "secret", "192.0.2.2"); r != 1 {
		t.Errorf("alice from another address: %d", r)
	}
	if r, _ := send("bob", "bobpw", "192.0.2.1"); r != 1 {
		t.Errorf("bob from the guessing address: %d", r)
	}
	// After the back-off one more guess is checked; it doubles the back-off.
	f.now = f.now.Add(10 * time.Second)
	send("alice", "guess", "192.0.2.1")
	send("alice", "guess", "192.0.2.1")
	if got := checkedSince(f, &n); got != 3 { // alice elsewhere, bob, one guess
		t.Errorf("after the back-off: %d checked, want 3", got)
	}
	f.now = f.now.Add(10 * time.Second)
	if r, _ := send("alice", "secret", "192.0.2.1"); r != -1 {
		t.Errorf("second back-off ended early: %d", r)
	}
	f.now = f.now.Add(10 * time.Second)
	if r, _ := send("alice", "secret", "192.0.2.1"); r != 1 {
		t.Errorf("after the second back-off: %d", r)
	}
	// The success reset the pair, not the user's count: the pair could
	// fail three times again, but alice's sixth failure in all (two more)
	// starts her back-off at the addresses that failed for her.
	for i := 0; i < 5; i++ {
		send("alice", "guess", "192.0.2.1")
	}
	if got := checkedSince(f, &n); got != 1+2 {
		t.Errorf("after a success: %d checked, want 1+2", got)
	}
	if !logs.contains("auth: too many failures for the user at this address, backing off") {
		t.Error("back-off not logged")
	}
}

func TestThrottleUser(t *testing.T) {
	f, send, logs := throttled(t)
	var n uint64
	// Guesses for bob from two addresses: 3 each, the user's 6th failure
	// starts the user's back-off.
	for _, src := range []string{"192.0.2.3", "192.0.2.4"} {
		for i := 0; i < 5; i++ {
			send("bob", "guess", src)
		}
	}
	if got := checkedSince(f, &n); got != 6 {
		t.Errorf("%d checked, want 6", got)
	}
	// A new address gets one guess; after it fails, that address is
	// refused for bob too.
	send("bob", "guess", "192.0.2.5")
	send("bob", "guess", "192.0.2.5")
	if got := checkedSince(f, &n); got != 1 {
		t.Errorf("new address: %d checked, want 1", got)
	}
	// bob himself, from an address without failures, still gets in.
	if r, _ := send("bob", "bobpw", "192.0.2.6"); r != 1 {
		t.Errorf("bob from a clean address while bob backs off: %d", r)
	}
	if !logs.contains("auth: too many failures for the user, backing off") {
		t.Error("not logged")
	}
}

func TestThrottleAddress(t *testing.T) {
	f, send, logs := throttled(t)
	var n uint64
	// One address trying four users (unknown ones count: the answer does
	// not tell them apart).
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		send(u, "123456", "192.0.2.7")
	}
	if got := checkedSince(f, &n); got != 4 {
		t.Errorf("%d checked, want 4", got)
	}
	if r, _ := send("alice", "secret", "192.0.2.7"); r != -1 {
		t.Errorf("right password from a backing-off address: %d", r)
	}
	if r, _ := send("alice", "secret", "192.0.2.8"); r != 1 {
		t.Errorf("alice elsewhere: %d", r)
	}
	if !logs.contains("auth: too many users failing from this address, backing off") {
		t.Error("not logged")
	}
}

func TestThrottleBounded(t *testing.T) {
	f, send, _ := throttled(t)
	for i := 0; i < 200; i++ {
		send(fmt.Sprint("user", i), "x", fmt.Sprintf("198.51.100.%d", i%250))
	}
	g := f.a.guard
	if g.pair.Len() > 16 || g.addr.Len() > 16 || g.user.Len() > 16 {
		t.Errorf("tables hold %d, %d, %d keys, want at most 16", g.pair.Len(), g.addr.Len(), g.user.Len())
	}
}

func TestThrottleOff(t *testing.T) {
	f := newFixture(t, map[string]any{"throttle": 0}, false)
	h := f.bind("www_authorize", "example.com", "subscriber")
	f.attach()
	for i := 0; i < 30; i++ {
		x := answer{Username: "alice", Realm: "example.com", Password: "guess", Nonce: f.nonce()}
		h(modtest.Request{Headers: []string{x.line()}}.Msg(t))
	}
	x := answer{Username: "alice", Realm: "example.com", Password: "secret", Nonce: f.nonce()}
	if r, _ := h(modtest.Request{Headers: []string{x.line()}}.Msg(t)); r != 1 {
		t.Errorf("throttle 0: %d", r)
	}
}

func TestThrottleParams(t *testing.T) {
	for _, p := range []map[string]any{
		{"throttle_failures": 0}, {"throttle_delay": 0}, {"throttle_max_delay": 700000}, {"throttle_entries": 3},
	} {
		if _, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), map[string]any{}), p); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}

func TestThrottleIPv6Prefix(t *testing.T) {
	// Addresses of one /64 are one address for the limits.
	f, send, _ := throttled(t)
	var n uint64
	for i := 1; i <= 10; i++ {
		send("alice", "guess", fmt.Sprintf("[2001:db8:1:2::%x]", i))
	}
	if got := checkedSince(f, &n); got != 3 {
		t.Errorf("%d guesses from one /64 checked, want 3", got)
	}
	if r, _ := send("alice", "secret", "[2001:db8:1:3::1]"); r != 1 {
		t.Errorf("alice from another /64: %d", r)
	}
}

func TestThrottleRealmDoesNotMatter(t *testing.T) {
	// With calculate_ha1 and the realm taken from the request any realm
	// works for the right password; guesses in other realms still count
	// for the same user.
	f := newFixture(t, map[string]any{"calculate_ha1": 1, "throttle_failures": 3}, false)
	h := f.bind("proxy_authorize", "", "subscriber")
	f.attach()
	for i := 0; i < 10; i++ {
		realm := fmt.Sprintf("realm%d.example", i)
		x := answer{Header: "Proxy-Authorization", Username: "alice", Realm: realm, Password: "guess", Nonce: f.nonce()}
		m := modtest.Request{From: "<sip:alice@" + realm + ">;tag=1", Headers: []string{x.line()}}.Msg(t)
		h(m)
	}
	if c, _ := f.a.ThrottleStats(); c != 3 {
		t.Errorf("%d guesses over ten realms checked, want 3", c)
	}
}
