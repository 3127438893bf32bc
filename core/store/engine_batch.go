package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Coalescing of concurrent statements (MySQL).
//
// On MySQL every statement is a network round trip and every write an
// InnoDB commit, and the server spends as much CPU on a one-row statement
// as on the packet, the parse and the commit around it. When several SIP
// workers run the same hot statement at the same moment (auth_db's
// credentials lookup, usrloc's write-through upsert), the store sends
// them as one statement: a multi-row upsert, or the lookups joined with
// UNION ALL. Nothing waits for a batch to fill: a caller that finds no
// statement of its shape in flight runs its own at once (alone, as
// before); callers arriving while one is in flight queue, and when it
// returns the first of them runs everything queued meanwhile as one
// statement. So one worker, or a light load, sends exactly the statements
// it sent before, and under load the number of round trips and commits
// per request falls as the load grows. Each caller still returns only
// when its own row has been read or written, with its own result or
// error: semantics are those of the single statements.
//
// At most one statement of a shape is in flight: batches run in arrival
// order, so two writes of one key (usrloc serialises an AOR's writes
// anyway) reach the database in the order they were made.

// batcher coalesces the concurrent calls of one statement shape. exec
// runs qs as one statement and returns one result and one error per
// element (all set even when the statement fails: exec reports each
// call's own outcome, e.g. by running the calls one by one after a
// failed batch).
type batcher[Q, R any] struct {
	max  int
	exec func(ctx context.Context, qs []Q) ([]R, []error)

	mu    sync.Mutex
	busy  bool // a statement is in flight, or a caller is about to run one
	queue []*batchCall[Q, R]
}

// batchCall is one caller's request and, once wake fires, its outcome
// or its turn to run the next batch (lead).
type batchCall[Q, R any] struct {
	ctx  context.Context
	q    Q
	r    R
	err  error
	lead bool          // guarded by batcher.mu
	wake chan struct{} // one send: the outcome is set, or lead
}

func newBatcher[Q, R any](max int, exec func(context.Context, []Q) ([]R, []error)) *batcher[Q, R] {
	return &batcher[Q, R]{max: max, exec: exec}
}

// do runs q, alone or together with concurrent calls, and returns its
// result. When ctx ends while q waits in the queue, do returns ctx's
// error and q is not run; when it ends while q's batch is in flight, do
// returns ctx's error at once and the batch finishes without it.
func (b *batcher[Q, R]) do(ctx context.Context, q Q) (R, error) {
	c := &batchCall[Q, R]{ctx: ctx, q: q}
	b.mu.Lock()
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		return b.run(c)
	}
	c.wake = make(chan struct{}, 1)
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.wake:
	case <-ctx.Done():
		b.mu.Lock()
		for i, o := range b.queue {
			if o == c {
				b.queue = append(b.queue[:i], b.queue[i+1:]...)
				b.mu.Unlock()
				var zero R
				return zero, ctx.Err()
			}
		}
		lead := c.lead
		b.mu.Unlock()
		if !lead {
			// In a batch in flight, which goes on without us.
			var zero R
			return zero, ctx.Err()
		}
		<-c.wake
	}
	if c.lead {
		return b.run(c)
	}
	return c.r, c.err
}

// run executes c together with the calls queued now (up to max), hands
// every other call its outcome, then passes the turn to the first call
// queued meanwhile, if any. Should exec panic (the SIP workers recover
// from panics), the other calls get errPanicked and the turn is passed
// on all the same, so that the batcher is never left busy.
func (b *batcher[Q, R]) run(c *batchCall[Q, R]) (R, error) {
	b.mu.Lock()
	n := min(len(b.queue), b.max-1)
	calls := make([]*batchCall[Q, R], 0, n+1)
	calls = append(append(calls, c), b.queue[:n]...)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.mu.Unlock()

	answered := false
	defer func() {
		if !answered {
			for _, o := range calls[1:] {
				o.err = errPanicked
				o.wake <- struct{}{}
			}
		}
		b.mu.Lock()
		if len(b.queue) > 0 {
			next := b.queue[0]
			b.queue = b.queue[1:]
			next.lead = true
			next.wake <- struct{}{}
		} else {
			b.busy = false
		}
		b.mu.Unlock()
	}()

	qs := make([]Q, len(calls))
	for i, o := range calls {
		qs[i] = o.q
	}
	ctx, cancel := batchContext(calls)
	defer cancel()
	rs, errs := b.exec(ctx, qs)
	for i, o := range calls[1:] {
		o.r, o.err = rs[i+1], errs[i+1]
		o.wake <- struct{}{}
	}
	answered = true
	return rs[0], errs[0]
}

// errPanicked is the error of the calls of a batch whose statement
// panicked in another caller's goroutine.
var errPanicked = errors.New("store: the batched statement panicked")

// batchContext is the context a batch runs under: the values of the
// first call's, not cancelled when any one caller gives up, with the
// latest deadline of the calls (none if one of them has none), so that
// no call's statement is cut shorter than its own context would have.
func batchContext[Q, R any](calls []*batchCall[Q, R]) (context.Context, context.CancelFunc) {
	if len(calls) == 1 {
		return calls[0].ctx, func() {}
	}
	var last time.Time
	for _, c := range calls {
		d, ok := c.ctx.Deadline()
		if !ok {
			return context.WithoutCancel(calls[0].ctx), func() {}
		}
		if d.After(last) {
			last = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(calls[0].ctx), last)
}

// batchers are a store's batchers by statement shape (the query of one
// call).
type batchers[Q, R any] struct {
	mu sync.Mutex
	m  map[string]*batcher[Q, R]
}

// get returns the batcher for key, made with mk on first use.
func (bs *batchers[Q, R]) get(key string, mk func() *batcher[Q, R]) *batcher[Q, R] {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[key]
	if b == nil {
		if bs.m == nil {
			bs.m = map[string]*batcher[Q, R]{}
		}
		b = mk()
		bs.m[key] = b
	}
	return b
}

// writeBatch is the most rows one statement of writeBatcher writes.
const writeBatch = 200

// writeBatcher returns the batcher of the one-row write one (an INSERT or
// upsert of one VALUES row), many(n) being the same statement with n
// VALUES rows: concurrent writes become one multi-row statement, a lone
// one is the prepared one-row statement. When a multi-row statement
// fails, its rows are written one by one, so that each caller gets the
// outcome of its own row.
func (s *Store) writeBatcher(one string, many func(n int) string) *batcher[[]any, struct{}] {
	return s.writes.get(one, func() *batcher[[]any, struct{}] {
		return newBatcher(writeBatch, func(ctx context.Context, rows [][]any) ([]struct{}, []error) {
			errs := make([]error, len(rows))
			if len(rows) > 1 {
				args := make([]any, 0, len(rows)*len(rows[0]))
				for _, r := range rows {
					args = append(args, r...)
				}
				if _, err := s.w.ExecContext(ctx, many(len(rows)), args...); err == nil {
					return make([]struct{}, len(rows)), errs
				}
			}
			for i, r := range rows {
				errs[i] = s.execOne(ctx, one, r)
			}
			return make([]struct{}, len(rows)), errs
		})
	})
}

// execOne runs the write q with args as a prepared statement.
func (s *Store) execOne(ctx context.Context, q string, args []any) error {
	st, err := s.prepared(ctx, s.w, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}
