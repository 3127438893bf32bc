package auth

import (
	"strings"
	"sync"
	"time"
)

// DefaultNCEntries bounds the nonce-count table of one server.
const DefaultNCEntries = 65536

// ncTracker remembers, per nonce, the highest nonce count (nc) this server
// accepted with qop, so that a captured qop=auth request cannot be
// replayed with the same nc, and the nonces used without qop (as count
// 0), so that such a nonce answers one request only. A retransmission
// (the same request, byte for byte) is still accepted. The table is per
// server: a nonce answered at two servers sharing the secret is tracked
// by each separately.
type ncTracker struct {
	mu      sync.Mutex
	max     int
	entries map[string]*ncEntry
}

type ncEntry struct {
	nc      uint32
	txn     string // requestKey of the request that used nc
	expires int64  // Unix seconds: the nonce's expiry
}

func newNCTracker(max int) *ncTracker {
	return &ncTracker{max: max, entries: map[string]*ncEntry{}}
}

// use records that the request txn (its requestKey) used nonce with count
// nc (0 without qop) and reports whether that is allowed: nc above the
// last one accepted, or the same nc from the same request.
func (t *ncTracker) use(nonce string, nc uint32, txn string, expires, now time.Time) bool {
	key := strings.ToLower(nonce)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.entries[key]; ok {
		switch {
		case nc > e.nc:
			e.nc, e.txn = nc, txn
			return true
		case nc == e.nc && txn == e.txn:
			return true
		}
		return false
	}
	if len(t.entries) >= t.max {
		t.prune(now)
	}
	// Cloned: the nonce points into the request's bytes (sipmsg.Parse).
	t.entries[strings.Clone(key)] = &ncEntry{nc: nc, txn: txn, expires: expires.Unix()}
	return true
}

// prune drops expired entries and, when the table is still full, enough
// arbitrary ones to get back to three quarters (their nonces lose replay
// protection, never validity).
func (t *ncTracker) prune(now time.Time) {
	n := now.Unix()
	for k, e := range t.entries {
		if e.expires < n {
			delete(t.entries, k)
		}
	}
	for k := range t.entries {
		if len(t.entries) < t.max*3/4 {
			break
		}
		delete(t.entries, k)
	}
}

// size returns the number of nonces tracked.
func (t *ncTracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
