package tm

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// counters are the t_stats figures.
type counters struct {
	total          atomic.Uint64 // transactions created
	local          atomic.Uint64 // of which local (UAC)
	deleted        atomic.Uint64
	waiting        atomic.Int64 // on the wait timer now
	repliedLocally atomic.Uint64
	timeouts       atomic.Uint64    // branches ended by fr_timer/fr_inv_timer
	completed      [5]atomic.Uint64 // 2xx..6xx
	illegal        atomic.Uint64    // state transitions refused (fsm.go): bugs
	refused        atomic.Uint64    // new transactions refused: max_transactions reached
}

func (c *counters) complete(code int) {
	if code >= 200 && code < 700 {
		c.completed[code/100-2].Add(1)
	}
}

// Stats is a snapshot of tm's counters (TStats gives t_stats' result).
type Stats struct {
	Current, Waiting, Total, Local, RepliedLocally uint64
	// Completed counts transactions by final class: index 0 is 2xx, 4 is
	// 6xx.
	Completed [5]uint64
	// Timeouts counts branches whose final response timer (fr_timer,
	// fr_inv_timer) fired (not part of t_stats' text).
	Timeouts uint64
	// Refused counts new transactions refused because max_transactions
	// were live (not part of t_stats' text).
	Refused uint64
	// Illegal counts state transitions the tables of fsm.go do not allow:
	// bugs in tm, each logged at error level (not part of t_stats' text).
	Illegal uint64
}

// Stats returns the current counters.
func (t *TM) Stats() Stats {
	var s Stats
	s.Total = t.stats.total.Load()
	s.Local = t.stats.local.Load()
	s.Current = uint64(t.table.count.Load())
	if w := t.stats.waiting.Load(); w > 0 {
		s.Waiting = uint64(w)
	}
	s.RepliedLocally = t.stats.repliedLocally.Load()
	for i := range s.Completed {
		s.Completed[i] = t.stats.completed[i].Load()
	}
	s.Timeouts = t.stats.timeouts.Load()
	s.Refused = t.stats.refused.Load()
	s.Illegal = t.stats.illegal.Load()
	return s
}

// HashText is the body of t_hash: a header line, then per bucket its
// number, current and total entries (h_table.c).
func (t *TM) HashText() string {
	var b strings.Builder
	b.Grow(Buckets * 10)
	b.WriteString("\tcurrent\ttotal\n")
	for i := 0; i < Buckets; i++ {
		fmt.Fprintf(&b, "%d.\t%d\t%d\n", i, t.table.cur[i].Load(), t.table.acc[i].Load())
	}
	return b.String()
}

// TStats returns t_stats' result: the counters SER 0.9's t_stats.c
// printed (sercmd.TStats writes its text).
func (s Stats) TStats() sercmd.TStats {
	return sercmd.TStats{Current: s.Current, Waiting: s.Waiting, Total: s.Total, Local: s.Local,
		RepliedLocally: s.RepliedLocally, Completed: s.Completed, Timeouts: s.Timeouts, Refused: s.Refused}
}

func (t *TM) cmdStats(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Typed(req.OK(), t.Stats().TStats())
}

func (t *TM) cmdHash(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Raw(req.OK() + "\n" + t.HashText())
}
