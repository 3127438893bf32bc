// Package throttle counts failures per key (a client address, a user
// name, a user at an address) with exponential back-off, in a table of
// bounded size: the password-guessing limits of the auth module (SIP
// digest) are built on it, and Logins, the limits of HTTP logins (the web
// console's and the XML-RPC bridge's basic authentication).
//
// A key may fail Policy.Free times freely; the Free-th failure and every
// one after it starts a back-off of Delay, 2·Delay, 4·Delay, … up to Max,
// counted from that failure. A key without a failure for Forget (and past
// its back-off) is forgotten. When the table holds Cap keys, the key that
// failed least recently is dropped to make room.
package throttle

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// MaxKeyLen bounds the bytes of a key kept in the table: longer keys are
// cut (a flood of huge user names must not cost memory).
const MaxKeyLen = 256

// Policy is how one table counts.
type Policy struct {
	// Free is the number of failures before back-off starts (at least 1).
	Free int
	// Delay is the first back-off; each further failure doubles it.
	Delay time.Duration
	// Max caps the back-off.
	Max time.Duration
	// Forget is how long a key is kept after its last failure (at least
	// Max).
	Forget time.Duration
	// Cap is the number of keys kept (at least 1).
	Cap int
}

// Table holds the failure counts of one kind of key. It is safe for
// concurrent use.
type Table struct {
	p   Policy
	mu  sync.Mutex
	m   map[string]*list.Element
	lru list.List // *entry, most recent failure first
}

type entry struct {
	key      string
	failures int
	last     time.Time // the last failure
	until    time.Time // end of the back-off (zero: none)
	next     time.Time // the next free slot (Reserve)
}

// New returns an empty table counting by p (out-of-range fields are
// raised to their minimum).
func New(p Policy) *Table {
	p.Free = max(p.Free, 1)
	p.Cap = max(p.Cap, 1)
	p.Delay = max(p.Delay, 0)
	p.Max = max(p.Max, p.Delay)
	p.Forget = max(p.Forget, p.Max)
	return &Table{p: p, m: map[string]*list.Element{}}
}

// Policy returns the table's policy after New's adjustments.
func (t *Table) Policy() Policy { return t.p }

// cut shortens a key to MaxKeyLen bytes.
func cut(key string) string { return key[:min(len(key), MaxKeyLen)] }

// get returns the live entry of key (dropping it when forgotten).
func (t *Table) get(key string, now time.Time) *entry {
	el := t.m[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*entry)
	if t.forgotten(e, now) {
		t.lru.Remove(el)
		delete(t.m, key)
		return nil
	}
	return e
}

func (t *Table) forgotten(e *entry, now time.Time) bool {
	return !now.Before(e.last.Add(t.p.Forget)) && !now.Before(e.until)
}

// Blocked returns how long key is still backing off (0 when it is not).
func (t *Table) Blocked(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.get(cut(key), now); e != nil && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// Failures returns the failures counted for key (0 for a forgotten or
// unknown key).
func (t *Table) Failures(key string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.get(cut(key), now); e != nil {
		return e.failures
	}
	return 0
}

// Fail counts a failure of key at now and returns the failures counted
// and the back-off it started (0 while still within Free).
func (t *Table) Fail(key string, now time.Time) (int, time.Duration) {
	key = cut(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, now)
	if e == nil {
		t.expire(now)
		for len(t.m) >= t.p.Cap {
			t.drop(t.lru.Back())
		}
		e = &entry{key: key}
		t.m[key] = t.lru.PushFront(e)
	} else {
		t.lru.MoveToFront(t.m[key])
	}
	e.failures++
	e.last = now
	d := t.backoff(e.failures)
	if d > 0 {
		e.until = now.Add(d)
	}
	return e.failures, d
}

// backoff is the back-off after the n-th failure.
func (t *Table) backoff(n int) time.Duration {
	if n < t.p.Free {
		return 0
	}
	d := t.p.Delay
	for i := t.p.Free; i < n && d < t.p.Max; i++ {
		d *= 2
	}
	return min(d, t.p.Max)
}

// expire drops forgotten keys from the least recent end (their last
// failures are the oldest, so the scan stops at the first live one).
func (t *Table) expire(now time.Time) {
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		e := el.Value.(*entry)
		if !t.forgotten(e, now) {
			// A key forgotten later may sit behind one with a longer
			// back-off; it is dropped when it is looked up or evicted.
			return
		}
		t.drop(el)
	}
}

func (t *Table) drop(el *list.Element) {
	delete(t.m, el.Value.(*entry).key)
	t.lru.Remove(el)
}

// Reserve spaces out the attempts of a key that has failed Free times or
// more: each gets its own slot, the current back-off after the previous
// one, instead of all of them running when the back-off ends. It returns
// how long the caller must wait for its slot; when that is more than
// maxWait no slot is taken and ok is false. A key within Free needs no
// slot (0, true).
func (t *Table) Reserve(key string, now time.Time, maxWait time.Duration) (wait time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(cut(key), now)
	if e == nil || e.failures < t.p.Free {
		return 0, true
	}
	slot := now
	if e.next.After(slot) {
		slot = e.next
	}
	if wait = slot.Sub(now); wait > maxWait {
		return wait, false
	}
	e.next = slot.Add(t.backoff(e.failures))
	return wait, true
}

// Reset forgets key (after a success).
func (t *Table) Reset(key string) {
	key = cut(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.m[key]; el != nil {
		t.drop(el)
	}
}

// Len returns the number of keys held.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// AddrKey is the key of a client address: an IPv4 address as such, an
// IPv6 address by its /64 prefix (one subscriber line usually gets a
// whole /64, so counting single IPv6 addresses would let a client start
// afresh from each of them). IPv4-mapped IPv6 addresses count as IPv4.
func AddrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() || !a.IsValid() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
