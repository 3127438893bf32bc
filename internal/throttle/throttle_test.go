package throttle

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 0)

func TestBackoffDoubles(t *testing.T) {
	tb := New(Policy{Free: 3, Delay: time.Second, Max: 10 * time.Second, Forget: time.Minute, Cap: 10})
	now := t0
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		n, d := tb.Fail("a", now)
		if n != i+1 || d != w {
			t.Fatalf("failure %d: got (%d, %v), want (%d, %v)", i+1, n, d, i+1, w)
		}
		if got := tb.Blocked("a", now); got != w {
			t.Fatalf("failure %d: blocked %v, want %v", i+1, got, w)
		}
		if w > 0 {
			if got := tb.Blocked("a", now.Add(w)); got != 0 {
				t.Fatalf("failure %d: still blocked at the end of the back-off", i+1)
			}
		}
	}
	if tb.Blocked("b", now) != 0 || tb.Failures("b", now) != 0 {
		t.Error("another key is affected")
	}
	// Forgotten a minute after the last failure.
	if tb.Failures("a", now.Add(time.Minute-time.Nanosecond)) != len(want) {
		t.Error("forgotten too early")
	}
	if tb.Failures("a", now.Add(time.Minute)) != 0 || tb.Len() != 0 {
		t.Error("not forgotten after Forget")
	}
	n, d := tb.Fail("a", now.Add(time.Minute))
	if n != 1 || d != 0 {
		t.Errorf("after forgetting: (%d, %v)", n, d)
	}
}

func TestForgetNotBeforeBackoffEnds(t *testing.T) {
	// Forget below Max is raised to Max: a key is never forgotten while
	// it is backing off.
	tb := New(Policy{Free: 1, Delay: time.Hour, Max: time.Hour, Forget: time.Second, Cap: 10})
	tb.Fail("a", t0)
	if tb.Blocked("a", t0.Add(30*time.Minute)) == 0 {
		t.Error("forgotten during its back-off")
	}
	if tb.Policy().Forget != time.Hour {
		t.Errorf("forget %v", tb.Policy().Forget)
	}
}

func TestReset(t *testing.T) {
	tb := New(Policy{Free: 1, Delay: time.Second, Max: time.Second, Forget: time.Minute, Cap: 10})
	tb.Fail("a", t0)
	tb.Reset("a")
	if tb.Blocked("a", t0) != 0 || tb.Len() != 0 {
		t.Error("reset kept the key")
	}
}

func TestBounded(t *testing.T) {
	tb := New(Policy{Free: 2, Delay: time.Second, Max: time.Minute, Forget: time.Hour, Cap: 100})
	tb.Fail("victim", t0)
	tb.Fail("victim", t0)
	for i := 0; i < 1000; i++ {
		tb.Fail(fmt.Sprint("flood", i), t0.Add(time.Duration(i)*time.Millisecond))
		if tb.Len() > 100 {
			t.Fatalf("%d keys held", tb.Len())
		}
	}
	// The least recently failed key went first.
	if tb.Failures("victim", t0) != 0 || tb.Failures("flood999", t0.Add(time.Second)) != 1 {
		t.Error("not least-recently-failed eviction")
	}
	// Forgotten keys are dropped before live ones are evicted.
	later := t0.Add(2 * time.Hour)
	tb.Fail("fresh", later)
	if tb.Len() != 1 {
		t.Errorf("%d keys after expiry", tb.Len())
	}
	// Huge keys are cut.
	huge := strings.Repeat("h", 100000)
	tb.Fail(huge, later)
	if tb.Failures(huge[:MaxKeyLen], later) != 1 {
		t.Error("huge key not cut")
	}
}

func TestReserve(t *testing.T) {
	tb := New(Policy{Free: 2, Delay: time.Second, Max: 4 * time.Second, Forget: time.Hour, Cap: 10})
	if w, ok := tb.Reserve("a", t0, time.Second); w != 0 || !ok {
		t.Errorf("unknown key: (%v, %v)", w, ok)
	}
	tb.Fail("a", t0)
	if w, ok := tb.Reserve("a", t0, time.Second); w != 0 || !ok {
		t.Errorf("within Free: (%v, %v)", w, ok)
	}
	tb.Fail("a", t0) // back-off 1 s: slots 1 s apart
	var got []time.Duration
	for i := 0; i < 4; i++ {
		w, ok := tb.Reserve("a", t0, 2*time.Second)
		if !ok {
			got = append(got, -w)
			continue
		}
		got = append(got, w)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, -3 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slots %v, want %v (negative: refused, wait)", got, want)
		}
	}
	// Slots follow the back-off as it grows.
	tb.Fail("a", t0.Add(10*time.Second)) // 2 s
	if w, _ := tb.Reserve("a", t0.Add(10*time.Second), time.Minute); w != 0 {
		t.Errorf("first slot after a new failure: %v", w)
	}
	if w, _ := tb.Reserve("a", t0.Add(10*time.Second), time.Minute); w != 2*time.Second {
		t.Errorf("second slot: %v, want 2s", w)
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"::1":                  "::/64",
	} {
		if got := AddrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("AddrKey(%s) = %s, want %s", in, got, want)
		}
	}
}
