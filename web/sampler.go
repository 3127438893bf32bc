package web

import (
	"context"
	"sync"
	"time"

	"ser/core/rpc/sercmd"
)

// sample is one reading of the server's counters. A command that failed
// (module not loaded, server down) leaves its part unset.
type sample struct {
	T          time.Time
	HasT       bool
	TM         sercmd.TStats
	HasSL      bool
	SLReplies  uint64
	SLFailures uint64
	HasUL      bool
	Registered int64 // registered AORs of the location table
}

// history keeps the samples of the last keep duration, oldest first.
type history struct {
	mu       sync.Mutex
	keep     time.Duration
	interval time.Duration
	samples  []sample
}

func newHistory(keep, interval time.Duration) *history {
	return &history{keep: keep, interval: interval}
}

// add appends s and drops samples older than keep before s.
func (h *history) add(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, s)
	cut := 0
	for cut < len(h.samples) && s.T.Sub(h.samples[cut].T) > h.keep {
		cut++
	}
	if cut > 0 {
		h.samples = append(h.samples[:0], h.samples[cut:]...)
	}
}

// since returns a copy of the samples taken at or after t.
func (h *history) since(t time.Time) []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sample
	for _, s := range h.samples {
		if !s.T.Before(t) {
			out = append(out, s)
		}
	}
	return out
}

// sample reads t_stats, sl_stats and ul_stats (as serctl monitor and
// serweb's monitoring cron job did) and records them.
func (a *App) sample(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, 10*time.Second)
	defer cancel()
	s := sample{T: a.now()}
	if ts, err := a.ser.TStats(ctx); err == nil {
		s.HasT, s.TM = true, ts
	}
	if sl, err := a.ser.SLStats(ctx); err == nil {
		s.HasSL, s.SLReplies, s.SLFailures = true, sl.Replies(), sl.Failures
	}
	if ul, err := a.ser.ULStats(ctx); err == nil {
		for _, t := range ul {
			if t.Table == a.opts.LocationTable {
				s.HasUL, s.Registered = true, t.Registered
			}
		}
	} else if ctx.Err() == nil {
		a.log.Debug("statistics sample incomplete", "err", err)
	}
	if parent.Err() != nil {
		return // stopping: the figures are incomplete
	}
	a.stats.add(s)
}
