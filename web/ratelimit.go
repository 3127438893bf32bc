package web

import (
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Login rate limits: failed logins are counted per client address and per
// user name in fixed windows; past the limit, logins from that address or
// for that name are refused until the window ends (even with the right
// password, so guessing cannot go on in the background).
const (
	loginWindow      = 15 * time.Minute
	maxFailuresIP    = 20
	maxFailuresUser  = 5
	maxLimiterKeys   = 10000
	maxLimiterKeyLen = 200
	limiterPruneSize = maxLimiterKeys / 2
)

// window counts failures from its start.
type window struct {
	start    time.Time
	failures int
}

// limiter holds the failure counters.
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	ip   map[string]*window
	user map[string]*window
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, ip: map[string]*window{}, user: map[string]*window{}}
}

// blocked reports whether a login from ip for user must be refused, and
// for how long.
func (l *limiter) blocked(ip, user string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, c := range []struct {
		m   map[string]*window
		key string
		max int
	}{{l.ip, ip, maxFailuresIP}, {l.user, userKey(user), maxFailuresUser}} {
		w := c.m[c.key]
		if w == nil {
			continue
		}
		if now.Sub(w.start) >= loginWindow {
			delete(c.m, c.key)
			continue
		}
		if w.failures >= c.max {
			wait = max(wait, w.start.Add(loginWindow).Sub(now))
		}
	}
	return wait, wait > 0
}

// fail counts a failed login.
func (l *limiter) fail(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, c := range []struct {
		m   map[string]*window
		key string
	}{{l.ip, ip}, {l.user, userKey(user)}} {
		w := c.m[c.key]
		if w == nil || now.Sub(w.start) >= loginWindow {
			if len(c.m) >= maxLimiterKeys {
				prune(c.m, now)
			}
			w = &window{start: now}
			c.m[c.key] = w
		}
		w.failures++
	}
}

// success forgets the failures of a user name after a good login.
func (l *limiter) success(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.user, userKey(user))
}

// userKey is the map key of a login name: lowercase, at most
// maxLimiterKeyLen bytes (a name cannot be longer in the database, and a
// flood of huge names must not cost memory).
func userKey(user string) string {
	return strings.ToLower(user[:min(len(user), maxLimiterKeyLen)])
}

// prune drops ended windows and, if that is not enough, the oldest ones,
// so a flood of names cannot grow the maps without bound.
func prune(m map[string]*window, now time.Time) {
	for k, w := range m {
		if now.Sub(w.start) >= loginWindow {
			delete(m, k)
		}
	}
	if len(m) <= limiterPruneSize {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]].start.Before(m[keys[j]].start) })
	for _, k := range keys[:len(keys)-limiterPruneSize] {
		delete(m, k)
	}
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
