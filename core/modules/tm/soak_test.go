package tm

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// countCore is the modtest fake with sending replaced by counters (the
// soak test sends too much to record).
type countCore struct {
	*modtest.Core
	sent, replies atomic.Int64
}

func (c *countCore) Send(sipmsg.Dest, []byte) error { c.sent.Add(1); return nil }

func (c *countCore) SendReply(sipmsg.RcvInfo, *sip.Response) error { c.replies.Add(1); return nil }

func (c *countCore) Forward(*sipmsg.Msg, sipmsg.Dest) error { c.sent.Add(1); return nil }

func newCountTM(tb testing.TB) (*TM, *countCore, *module.Env) {
	tb.Helper()
	cc := &countCore{Core: modtest.NewCore()}
	env := &module.Env{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RPC: rpc.NewRegistry(), Core: cc,
		Instance: func(string) any { return nil }}
	inst, err := modtest.LoadEnv(Exports, env, nil)
	if err != nil {
		tb.Fatal(err)
	}
	t := inst.(*TM)
	tb.Cleanup(t.Stop)
	return t, cc, env
}

// replyTo builds a reply to branch idx of the transaction m created, as
// the next hop would send it.
func replyTo(tb testing.TB, m *sipmsg.Msg, idx, code int) *sipmsg.Msg {
	tb.Helper()
	x := state(m).txn
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d R\r\n", code)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n", branchID(x.hash, idx))
	for _, v := range m.Req.GetHeaders("Via") {
		b.WriteString("Via: " + v.Value() + "\r\n")
	}
	b.WriteString("From: " + m.Req.From().Value() + "\r\n")
	b.WriteString("To: " + m.Req.To().Value() + ";tag=down\r\n")
	b.WriteString("Call-ID: " + m.CallID() + "\r\n")
	b.WriteString("CSeq: " + m.Req.CSeq().Value() + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return modtest.Parse(tb, b.String(), modtest.From("127.0.0.1:5070"))
}

func soakRequest(tb testing.TB, method string, i int) *sipmsg.Msg {
	return modtest.Request{
		Method: method, URI: "sip:bob@127.0.0.1:5070", CallID: fmt.Sprintf("soak-%d", i),
		Via: []string{fmt.Sprintf("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsoak%d", i)},
	}.Msg(tb)
}

func TestSoakTableReturnsToZero(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	tm, cc, env := newCountTM(t)
	// FR is long enough that a starved machine never fires it between a
	// relay and the reply the loop hands in right after; only the
	// unanswered OPTIONS (case 9) reach it.
	tm.SetTimers(Timers{FR: 2 * time.Second, FRInv: 2 * time.Second, Wait: 50 * time.Millisecond,
		T1: 30 * time.Millisecond, T2: 60 * time.Millisecond})
	bind := func(name string, args ...any) module.Handler { return modtest.Bind(t, Exports, tm, env, name, args...) }
	relay, newtran, reply := bind("t_relay"), bind("t_newtran"), bind("t_reply", 404, "Not Found")
	goroutines := runtime.NumGoroutine()
	const n = 10000
	want := Stats{Total: n}
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 0, 1, 2, 3: // MESSAGE answered 200
			m := soakRequest(t, "MESSAGE", i)
			if r, _ := relay(m); r != 1 {
				t.Fatalf("t_relay %d = %d", i, r)
			}
			tm.HandleReply(replyTo(t, m, 0, 200))
			want.Completed[0]++
		case 4, 5: // INVITE: 180, 486, ACK from upstream
			m := soakRequest(t, "INVITE", i)
			relay(m)
			tm.HandleReply(replyTo(t, m, 0, 180))
			tm.HandleReply(replyTo(t, m, 0, 486))
			ack := soakRequest(t, "ACK", i)
			if r, _ := bind("t_relay")(ack); r != 0 {
				t.Fatalf("ACK not absorbed: %d", r)
			}
			want.Completed[2]++
		case 6, 7: // INVITE answered 200
			m := soakRequest(t, "INVITE", i)
			relay(m)
			tm.HandleReply(replyTo(t, m, 0, 200))
			want.Completed[0]++
		case 8: // stateful UAS
			m := soakRequest(t, "OPTIONS", i)
			newtran(m)
			reply(m)
			want.Completed[2]++
			want.RepliedLocally++
		case 9: // nobody answers: local 408
			m := soakRequest(t, "OPTIONS", i)
			relay(m)
			want.Completed[2]++
			want.RepliedLocally++
			want.Timeouts++
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for tm.Count() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := tm.Stats()
	if got != want {
		t.Errorf("stats %+v\nwant  %+v", got, want)
	}
	if tm.stats.deleted.Load() != n {
		t.Errorf("deleted %d", tm.stats.deleted.Load())
	}
	for i := range tm.table.cur {
		if c := tm.table.cur[i].Load(); c != 0 {
			t.Fatalf("bucket %d has %d entries", i, c)
		}
	}
	runtime.GC()
	if g := runtime.NumGoroutine(); g > goroutines+5 {
		t.Errorf("%d goroutines, %d before", g, goroutines)
	}
	t.Logf("sent %d requests, %d replies", cc.sent.Load(), cc.replies.Load())
}

func BenchmarkRelayMessage(b *testing.B) {
	tm, _, env := newCountTM(b)
	relay := modtest.Bind(b, Exports, tm, env, "t_relay")
	for i := 0; b.Loop(); i++ {
		m := soakRequest(b, "MESSAGE", i)
		relay(m)
		tm.HandleReply(replyTo(b, m, 0, 200))
	}
}

// BenchmarkRelayParallel is BenchmarkRelayMessage from every
// GOMAXPROCS goroutine at once: run it with -cpu 1,2,4 and -mutexprofile
// to see whether the transaction table, the timer heap or the statistics
// serialise the workers (issue 19: more than one core).
func BenchmarkRelayParallel(b *testing.B) {
	tm, _, env := newCountTM(b)
	relay := modtest.Bind(b, Exports, tm, env, "t_relay")
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			m := soakRequest(b, "MESSAGE", i)
			relay(m)
			tm.HandleReply(replyTo(b, m, 0, 200))
		}
	})
}

// BenchmarkRelayWithLiveTransactions relays and completes MESSAGE
// transactions while 0, 10,000 or 100,000 other transactions (INVITEs
// with no reply yet) are live in the table: the cost per transaction
// must not grow with the table (issue 9: 100k concurrent transactions
// without a throughput collapse).
func BenchmarkRelayWithLiveTransactions(b *testing.B) {
	for _, live := range []int{0, 10000, 100000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			tm, _, env := newCountTM(b)
			tm.SetTimers(Timers{FR: time.Hour, FRInv: time.Hour, Wait: 50 * time.Millisecond, T1: time.Hour, T2: time.Hour})
			relay := modtest.Bind(b, Exports, tm, env, "t_relay")
			for i := 0; i < live; i++ {
				relay(soakRequest(b, "INVITE", 1_000_000+i))
			}
			if got := tm.Stats().Current; got < uint64(live) {
				b.Fatalf("%d live transactions, want %d", got, live)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				m := soakRequest(b, "MESSAGE", i)
				relay(m)
				tm.HandleReply(replyTo(b, m, 0, 200))
			}
		})
	}
}

// BenchmarkGCWithWaitingTransactions measures a full garbage collection
// while 30,000 completed INVITE transactions wait out the wait timer —
// the live heap at 3,000 calls/s (two transactions a call, 5 s wait):
// what the collector must mark, on the core the workers need, every
// cycle under load (issue 9's p99).
func BenchmarkGCWithWaitingTransactions(b *testing.B) {
	var before, ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tm, _, env := newCountTM(b)
	tm.SetTimers(Timers{FR: time.Hour, FRInv: time.Hour, Wait: time.Hour, T1: time.Hour, T2: time.Hour})
	relay := modtest.Bind(b, Exports, tm, env, "t_relay")
	const n = 30000
	for i := 0; i < n; i++ {
		m := soakRequest(b, "INVITE", i)
		relay(m)
		tm.HandleReply(replyTo(b, m, 0, 200))
	}
	if got := tm.Stats().Waiting; got != n {
		b.Fatalf("%d waiting transactions, want %d", got, n)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(ms.HeapAlloc-before.HeapAlloc)/n, "heap-B/txn")
}

// TestTxnFitsSmallObject guards the size of a transaction: objects up to
// 512 bytes are allocated without a malloc header and scanned from the
// span's pointer bitmap; above that every transaction waiting out the
// wait timer costs the collector about twice as much
// (BenchmarkGCWithWaitingTransactions: 28 ms with the 568-byte txn of
// time.Time deadlines, 15 ms at 456 bytes; a 744-byte txn with its first
// branch inline took 26 ms).
func TestTxnFitsSmallObject(t *testing.T) {
	if n := unsafe.Sizeof(txn{}); n > 512 {
		t.Errorf("txn is %d bytes, more than 512", n)
	}
	if n := unsafe.Sizeof(branch{}); n > 512 {
		t.Errorf("branch is %d bytes, more than 512", n)
	}
}
