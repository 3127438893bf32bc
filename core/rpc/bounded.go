package rpc

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
)

// ErrPanicked is returned for a command whose handler panicked (the
// panic is logged with its stack; the server keeps running).
var ErrPanicked = errors.New("rpc: command panicked")

// ErrNoFreeSlot marks a call whose context ended while it waited for a
// free slot (joined with the context's error).
var ErrNoFreeSlot = errors.New("waiting for a free slot")

// Bounded runs commands through an Executor with at most a fixed number in
// flight, for the network bridges (XML-RPC, JSON-RPC). Each command runs
// in its own goroutine, so that a stuck command cannot hold its caller
// past the context's deadline; it keeps its slot until it really returns,
// so stuck commands still count against the limit.
type Bounded struct {
	exec  Executor
	slots chan struct{}
	log   *slog.Logger
}

// NewBounded returns exec limited to n commands in flight (n > 0).
func NewBounded(exec Executor, n int, log *slog.Logger) *Bounded {
	return &Bounded{exec: exec, slots: make(chan struct{}, n), log: log}
}

// Execute runs cmd. It returns ctx's error when ctx ends first (joined
// with ErrNoFreeSlot while still waiting for a slot), and ErrPanicked
// when the handler panicked.
func (b *Bounded) Execute(ctx context.Context, cmd string, params []string) (*Reply, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, errors.Join(ErrNoFreeSlot, ctx.Err())
	}
	type result struct {
		rep *Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-b.slots }()
		defer func() {
			if p := recover(); p != nil { // an in-process handler must not kill ser
				b.log.Error("command panicked", "command", cmd, "panic", p, "stack", string(debug.Stack()))
				done <- result{err: ErrPanicked}
			}
		}()
		rep, err := b.exec.Execute(ctx, cmd, params)
		done <- result{rep, err}
	}()
	select {
	case res := <-done:
		return res.rep, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
