package module

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStarted is returned by Periodic.Start on a timer already running.
var ErrStarted = errors.New("already started")

// Periodic is a module's timer: one goroutine calling a function at a
// fixed interval (usrloc's flush and expiry, dispatcher's probes,
// nathelper's NAT pings) until Stop. The zero value is ready to use.
type Periodic struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start calls f every interval until ctx ends or Stop is called. With an
// interval of zero or less it only records that it was started (a timer
// switched off by configuration). It returns ErrStarted when running.
func (p *Periodic) Start(ctx context.Context, every time.Duration, f func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		return ErrStarted
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	p.cancel, p.done = cancel, done
	if every <= 0 {
		close(done)
		return nil
	}
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			}
		}
	}()
	return nil
}

// Stop ends the timer and waits for a call of f in progress; it does
// nothing when the timer is not running.
func (p *Periodic) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel, p.done = nil, nil
	}
}
