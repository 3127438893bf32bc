package tm

import (
	"runtime"
	"sync"
	"time"
)

// timerShards is how many timer queues a TM runs: one per core the
// process may use (GOMAXPROCS at start, at most 16). With one queue the
// workers of several cores serialised on its lock (two thirds of the
// mutex delay in BenchmarkRelayParallel -cpu 2); on one core there is one
// queue and one timer goroutine, as before.
func timerShards() int {
	return min(max(runtime.GOMAXPROCS(0), 1), 16)
}

// queueOf is the timer queue of x (by its hash, fixed for its life).
func (t *TM) queueOf(x *txn) *timerQueue {
	return &t.tq[x.hash%uint64(len(t.tq))]
}

// timerQueue runs its transactions' timers on one goroutine, as SER's
// timer process did: a min-heap of (deadline, transaction) with one entry
// per transaction at most. A runtime timer per transaction (time.AfterFunc)
// cost a goroutine for every expiry — four per proxied call, competing with
// the workers for the core — and tens of thousands of live runtime timers.
type timerQueue struct {
	mu sync.Mutex
	h  []*txn // min-heap by txn.qAt; txn.qIdx is the index + 1

	// wl is the wait log of the queue's transactions (waitlog.go): its
	// records are deleted by this goroutine once their deadline passed.
	wl *waitLog
	tm *TM

	start   sync.Once
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	stopped bool
}

func (q *timerQueue) init() {
	q.wake = make(chan struct{}, 1)
	q.stop = make(chan struct{})
	q.done = make(chan struct{})
}

// schedule sets x's deadline to at, queueing x or moving its entry.
func (q *timerQueue) schedule(x *txn, at instant) {
	q.start.Do(func() { go q.run() })
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	x.qAt = at
	if x.qIdx == 0 {
		q.h = append(q.h, x)
		x.qIdx = len(q.h)
		q.up(x.qIdx - 1)
	} else {
		q.fix(x.qIdx - 1)
	}
	first := q.h[0] == x
	q.mu.Unlock()
	if first {
		q.poke()
	}
}

// poke makes the goroutine (started if need be) look at its deadlines
// again: an earlier one was queued, or the wait log got its first record.
func (q *timerQueue) poke() {
	q.start.Do(func() { go q.run() })
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// cancel removes x's entry, if any.
func (q *timerQueue) cancel(x *txn) {
	q.mu.Lock()
	if x.qIdx != 0 {
		q.removeAt(x.qIdx - 1)
	}
	q.mu.Unlock()
}

// close stops the goroutine; later schedules are ignored.
func (q *timerQueue) close() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	started := true
	q.start.Do(func() { started = false })
	if started {
		close(q.stop)
		<-q.done
	}
}

// run fires the transactions whose deadline passed, in deadline order,
// deletes the wait log records whose deadline passed, and sleeps until the
// next deadline (or until an earlier one is queued).
func (q *timerQueue) run() {
	defer close(q.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var due []*txn
	for {
		now := clockNow()
		wait := time.Hour
		// The wait log first: on every round, so that a busy heap
		// never holds its deletions up.
		if q.wl != nil {
			if at := q.wl.expire(now, q.tm); !at.IsZero() {
				wait = time.Duration(at - now)
			}
		}
		q.mu.Lock()
		for len(q.h) > 0 && q.h[0].qAt <= now {
			due = append(due, q.h[0])
			q.removeAt(0)
		}
		if len(q.h) > 0 {
			wait = min(wait, time.Duration(q.h[0].qAt-now))
		}
		q.mu.Unlock()
		if len(due) > 0 {
			for i, x := range due {
				x.fire()
				due[i] = nil
			}
			due = due[:0]
			continue
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-q.wake:
		case <-q.stop:
			return
		}
	}
}

// Heap operations (q.mu held); indexes are 0-based here.

func (q *timerQueue) less(i, j int) bool { return q.h[i].qAt < q.h[j].qAt }

func (q *timerQueue) swap(i, j int) {
	q.h[i], q.h[j] = q.h[j], q.h[i]
	q.h[i].qIdx = i + 1
	q.h[j].qIdx = j + 1
}

func (q *timerQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

// down sifts i down and reports whether it moved.
func (q *timerQueue) down(i int) bool {
	start := i
	n := len(q.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.swap(i, m)
		i = m
	}
	return i > start
}

func (q *timerQueue) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q *timerQueue) removeAt(i int) {
	last := len(q.h) - 1
	x := q.h[i]
	if i != last {
		q.swap(i, last)
	}
	q.h[last] = nil
	q.h = q.h[:last]
	x.qIdx = 0
	if i != last {
		q.fix(i)
	}
}
