package tm

import (
	"math/rand"
	"testing"
	"time"
)

// TestTimerQueueHeap schedules, moves and cancels transactions in random
// order (deadlines an hour away, so nothing fires) and checks the heap
// after every step: ordered, indexes in step, one entry per transaction.
func TestTimerQueueHeap(t *testing.T) {
	var q timerQueue
	q.init()
	defer q.close()
	rng := rand.New(rand.NewSource(1))
	txns := make([]*txn, 200)
	for i := range txns {
		txns[i] = &txn{}
	}
	queued := map[*txn]bool{}
	base := clockNow().Add(time.Hour)
	for step := 0; step < 5000; step++ {
		x := txns[rng.Intn(len(txns))]
		if rng.Intn(3) == 0 {
			q.cancel(x)
			delete(queued, x)
		} else {
			q.schedule(x, base.Add(time.Duration(rng.Intn(1000))*time.Millisecond))
			queued[x] = true
		}
		q.mu.Lock()
		if len(q.h) != len(queued) {
			t.Fatalf("step %d: %d queued, want %d", step, len(q.h), len(queued))
		}
		for i, y := range q.h {
			if y.qIdx != i+1 || !queued[y] {
				t.Fatalf("step %d: entry %d has index %d", step, i, y.qIdx)
			}
			if i > 0 && q.h[(i-1)/2].qAt > y.qAt {
				t.Fatalf("step %d: heap order broken at %d", step, i)
			}
		}
		q.mu.Unlock()
	}
}
