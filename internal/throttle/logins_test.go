package throttle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var loginT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// wrong is a check that fails, counting its runs.
func wrong(n *atomic.Int64) func() (bool, error) {
	return func() (bool, error) { n.Add(1); return false, nil }
}

func TestLoginsBounded(t *testing.T) {
	l := NewLogins(DefaultLogins, func() time.Time { return loginT0 })
	ctx := context.Background()
	var n atomic.Int64
	for i := 0; i < DefaultLogins.Cap+10; i++ {
		l.Check(ctx, LoginKeysFor(fmt.Sprint("198.51.100.", i%250), fmt.Sprint("flood", i)), wrong(&n))
	}
	if p, a, acc := l.Len(); p > DefaultLogins.Cap || a > DefaultLogins.Cap || acc > DefaultLogins.Cap {
		t.Errorf("%d pairs, %d addresses, %d accounts kept", p, a, acc)
	}
	huge := strings.Repeat("h", 60000)
	l.Check(ctx, LoginKeysFor("198.51.100.251", huge), wrong(&n))
	if l.Failures(huge[:MaxKeyLen]) != 1 {
		t.Error("a huge account name is not cut")
	}
}

// TestLoginsPair: a pair is checked PairFailures times, then refused
// without a check; the right password from it is refused too; another
// address and another account from the same address are checked.
func TestLoginsPair(t *testing.T) {
	l := NewLogins(DefaultLogins, func() time.Time { return loginT0 })
	ctx := context.Background()
	var n atomic.Int64
	k := LoginKeysFor("192.0.2.1", "Alice@Example.com")
	for i := 0; i < 10; i++ {
		out, err := l.Check(ctx, k, wrong(&n))
		if err != nil {
			t.Fatal(err)
		}
		if (i < DefaultLogins.PairFailures) != (out.Refused == nil) {
			t.Fatalf("attempt %d: %+v", i+1, out)
		}
		if i >= DefaultLogins.PairFailures && out.Refused.Scope != ScopePair {
			t.Fatalf("attempt %d: scope %v", i+1, out.Refused.Scope)
		}
	}
	if n.Load() != int64(DefaultLogins.PairFailures) {
		t.Fatalf("%d checks", n.Load())
	}
	right := func() (bool, error) { n.Add(1); return true, nil }
	if out, _ := l.Check(ctx, k, right); out.Refused == nil {
		t.Fatal("the right password checked while the pair backs off")
	}
	if out, _ := l.Check(ctx, LoginKeysFor("192.0.2.2", "alice@example.com"), right); !out.OK {
		t.Fatalf("owner from another address: %+v", out)
	}
	if out, _ := l.Check(ctx, LoginKeysFor("192.0.2.1", "bob@example.com"), right); !out.OK {
		t.Fatalf("bob from the same address: %+v", out)
	}
}

// TestLoginsConcurrent: a burst of concurrent guesses from one pair gets
// no more checks than a sequence would.
func TestLoginsConcurrent(t *testing.T) {
	l := NewLogins(DefaultLogins, func() time.Time { return loginT0 })
	var n atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	k := LoginKeysFor("192.0.2.1", "alice")
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l.Check(context.Background(), k, func() (bool, error) {
				n.Add(1)
				time.Sleep(time.Millisecond)
				return false, nil
			})
		}()
	}
	close(start)
	wg.Wait()
	if got := n.Load(); got > int64(DefaultLogins.PairFailures) {
		t.Fatalf("%d of 50 concurrent guesses checked, want at most %d", got, DefaultLogins.PairFailures)
	}
}

// TestLoginsError: an error of the check counts nothing.
func TestLoginsError(t *testing.T) {
	l := NewLogins(DefaultLogins, func() time.Time { return loginT0 })
	k := LoginKeysFor("192.0.2.1", "alice")
	for i := 0; i < 20; i++ {
		if _, err := l.Check(context.Background(), k, func() (bool, error) { return false, fmt.Errorf("db down") }); err == nil {
			t.Fatal("error lost")
		}
	}
	if l.Failures("alice") != 0 {
		t.Fatal("errors counted as failures")
	}
}
