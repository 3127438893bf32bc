package tm

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"ser/core/rpc"
)

// counters are the t_stats figures.
type counters struct {
	total          atomic.Uint64 // transactions created
	local          atomic.Uint64 // of which local (UAC)
	deleted        atomic.Uint64
	waiting        atomic.Int64 // on the wait timer now
	repliedLocally atomic.Uint64
	completed      [5]atomic.Uint64 // 2xx..6xx
	illegal        atomic.Uint64    // state transitions refused (fsm.go): bugs
}

func (c *counters) complete(code int) {
	if code >= 200 && code < 700 {
		c.completed[code/100-2].Add(1)
	}
}

// Stats is a snapshot of tm's counters.
type Stats struct {
	Current, Waiting, Total, Local, RepliedLocally uint64
	// Completed counts transactions by final class: index 0 is 2xx, 4 is
	// 6xx.
	Completed [5]uint64
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
	s.Illegal = t.stats.illegal.Load()
	return s
}

// cleanupEOL is SER's CLEANUP_EOL: six spaces and a newline.
const cleanupEOL = "      \n"

// StatsText is the body of t_stats as SER 0.9 printed it (t_stats.c).
func (s Stats) StatsText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Current: %d (%d waiting) Total: %d (%d local) "+cleanupEOL, s.Current, s.Waiting, s.Total, s.Local)
	fmt.Fprintf(&b, "Replied localy: %d"+cleanupEOL, s.RepliedLocally)
	fmt.Fprintf(&b, "Completion status 6xx: %d, 5xx: %d, 4xx: %d, 3xx: %d,2xx: %d"+cleanupEOL,
		s.Completed[4], s.Completed[3], s.Completed[2], s.Completed[1], s.Completed[0])
	return b.String()
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

func (t *TM) cmdStats(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Raw(req.OK() + "\n" + t.Stats().StatsText())
}

func (t *TM) cmdHash(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Raw(req.OK() + "\n" + t.HashText())
}
