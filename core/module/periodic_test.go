package module

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPeriodic(t *testing.T) {
	var p Periodic
	var calls atomic.Int32
	if err := p.Start(context.Background(), time.Millisecond, func() { calls.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), time.Millisecond, func() {}); !errors.Is(err, ErrStarted) {
		t.Fatalf("second start: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); calls.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	n := calls.Load()
	if n < 3 {
		t.Fatalf("%d calls", n)
	}
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != n {
		t.Fatal("called after Stop")
	}
	p.Stop() // stopping twice is fine
	// Switched off: started, never calls, can be stopped and started again.
	if err := p.Start(context.Background(), 0, func() { t.Error("called") }); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), 0, func() {}); !errors.Is(err, ErrStarted) {
		t.Fatalf("second start: %v", err)
	}
	p.Stop()
}
