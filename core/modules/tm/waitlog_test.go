package tm

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// waitLogged is the number of transactions in the wait logs.
func (t *TM) waitLogged() int {
	n := 0
	for i := range t.table.wait {
		n += t.table.wait[i].count()
	}
	return n
}

// inTable is the number of transactions in the table proper.
func (t *TM) inTable() int { return len(t.table.all()) }

// eventually polls cond until it holds (failing after d).
func eventually(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// keepTxns relays every request and keeps each transaction by method.
func keepTxns(nc *netCore) *sync.Map {
	var txns sync.Map
	relay := nc.bind("t_relay")
	nc.setScript(func(m *sipmsg.Msg) {
		relay(m)
		if st := peekState(m); st != nil && st.txn != nil {
			txns.Store(m.Method(), st.txn)
		}
	})
	return &txns
}

func isMoved(x *txn) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.moved() && x.terminated()
}

// TestWaitLogCall follows a call whose INVITE and BYE transactions wait
// out wt_timer in the wait log: retransmitted requests get the last reply
// from the record (the transactions stay there); a retransmitted 2xx from
// the callee is relayed upstream again (the INVITE transaction is revived
// into the table for that, and answers from there).
func TestWaitLogCall(t *testing.T) {
	nc := newNetCore(t, nil)
	tt := testTimers
	tt.Wait = time.Hour // Stop clears them
	nc.tm.SetTimers(tt)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	txns := keepTxns(nc)

	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "wl-1", branch: "z9hG4bKwl1", from: caller}
	caller.send(nc.addr(), inv.text())
	caller.expectReply(100, wait)
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b1")
	caller.expectReply(180, wait)
	contact := "Contact: <" + callee.uri("bob") + ">"
	callee.reply(req, 200, "OK", "b1", contact)
	first := caller.expectReply(200, wait)
	eventually(t, "INVITE in the wait log", wait, func() bool { return nc.tm.waitLogged() == 1 && nc.tm.inTable() == 0 })
	x, _ := txns.Load("INVITE")
	if !isMoved(x.(*txn)) {
		t.Error("the *txn of a transaction in the wait log is not marked moved")
	}

	// A retransmitted INVITE gets the 200 again, from the record.
	callee.settle()
	caller.send(nc.addr(), inv.text())
	again := caller.expectReply(200, wait)
	if again.String() != first.String() {
		t.Errorf("retransmitted 200 differs:\n%s\nfirst:\n%s", again, first)
	}
	callee.quiet("INVITE retransmission forwarded", 100*time.Millisecond, isReq("INVITE"))

	// A CANCEL of the completed INVITE is answered and cancels nothing;
	// its own transaction waits in the log too and answers again.
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	if r := caller.expectReply(200, wait); r.CSeq().MethodName != "CANCEL" {
		t.Errorf("CANCEL answered %s", r.CSeq().Value())
	}
	eventually(t, "CANCEL in the wait log", wait, func() bool { return nc.tm.waitLogged() == 2 && nc.tm.inTable() == 0 })
	caller.send(nc.addr(), cancel.text())
	if r := caller.expectReply(200, wait); r.CSeq().MethodName != "CANCEL" {
		t.Errorf("CANCEL retransmission answered %s", r.CSeq().Value())
	}
	callee.quiet("CANCEL forwarded", 100*time.Millisecond, isReq("CANCEL"))
	caller.quiet("487 after the CANCEL", 50*time.Millisecond, isCode(487))

	// The BYE transaction goes to the wait log too.
	bye := call{method: "BYE", ruri: callee.uri("bob"), callID: "wl-1", branch: "z9hG4bKwl1bye", cseq: 2, from: caller,
		extra: []string{"To: <" + callee.uri("bob") + ">;tag=b1"}}
	caller.send(nc.addr(), bye.text())
	breq := callee.expectRequest("BYE", wait)
	callee.reply(breq, 200, "OK", "")
	caller.expectReply(200, wait)
	eventually(t, "BYE in the wait log", wait, func() bool { return nc.tm.waitLogged() == 3 && nc.tm.inTable() == 0 })
	caller.send(nc.addr(), bye.text())
	if r := caller.expectReply(200, wait); r.CSeq().MethodName != "BYE" {
		t.Errorf("BYE retransmission answered %s", r.CSeq().Value())
	}
	callee.quiet("BYE retransmission forwarded", 100*time.Millisecond, isReq("BYE"))
	if n := nc.tm.waitLogged(); n != 3 {
		t.Errorf("%d transactions in the wait log after retransmissions, want 3", n)
	}
	if s := nc.tm.Stats(); s.Current != 3 || s.Waiting != 3 || s.Total != 3 || s.Completed[0] != 3 {
		t.Errorf("stats %+v", s)
	}

	// A 2xx retransmission from the callee is relayed again.
	callee.reply(req, 200, "OK", "b1", contact)
	caller.expectReply(200, wait)
	eventually(t, "INVITE revived", wait, func() bool { return nc.tm.inTable() == 1 && nc.tm.waitLogged() == 2 })
	caller.send(nc.addr(), inv.text())
	caller.expectReply(200, wait)
	callee.quiet("INVITE retransmission forwarded", 100*time.Millisecond, isReq("INVITE"))
	if s := nc.tm.Stats(); s.Current != 3 || s.Waiting != 3 || s.Illegal != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestWaitLogNegativeReply: a negative INVITE reply is retransmitted
// (Timer G) until the ACK, so the transaction moves to the wait log only
// once the ACK came. From there a retransmitted 486 of the callee gets its
// ACK again, a retransmitted ACK of the caller is absorbed and a
// retransmitted INVITE gets the 486.
func TestWaitLogNegativeReply(t *testing.T) {
	nc := newNetCore(t, nil)
	tt := testTimers
	tt.Wait = time.Hour
	nc.tm.SetTimers(tt)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	keepTxns(nc)

	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "wl-2", branch: "z9hG4bKwl2", from: caller}
	caller.send(nc.addr(), inv.text())
	caller.expectReply(100, wait)
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 486, "Busy Here", "b2")
	callee.expectRequest("ACK", wait)
	r := caller.expectReply(486, wait)
	caller.expectReply(486, wait) // Timer G
	if n := nc.tm.waitLogged(); n != 0 {
		t.Fatalf("%d in the wait log before the ACK", n)
	}
	ack := inv
	ack.method = "ACK"
	tag, _ := r.To().Params.Get("tag")
	ack.extra = []string{"To: <" + callee.uri("bob") + ">;tag=" + tag}
	caller.send(nc.addr(), ack.text())
	eventually(t, "acknowledged INVITE in the wait log", wait, func() bool { return nc.tm.waitLogged() == 1 && nc.tm.inTable() == 0 })
	caller.settle()
	callee.settle()

	callee.reply(req, 486, "Busy Here", "b2")
	a := callee.expectRequest("ACK", wait)
	if tg, _ := a.To().Params.Get("tag"); tg != "b2" {
		t.Errorf("ACK To-tag %q", tg)
	}
	caller.quiet("486 relayed again", 100*time.Millisecond, isCode(486))

	caller.send(nc.addr(), ack.text())
	callee.quiet("ACK forwarded", 100*time.Millisecond, isReq("ACK"))

	caller.send(nc.addr(), inv.text())
	caller.expectReply(486, wait)
	callee.quiet("INVITE forwarded", 100*time.Millisecond, isReq("INVITE"))
	if n := nc.tm.waitLogged(); n != 1 {
		t.Errorf("%d in the wait log, want 1 (nothing revived)", n)
	}
	if s := nc.tm.Stats(); s.Current != 1 || s.Waiting != 1 || s.Completed[2] != 1 || s.Illegal != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestWaitLogLateBranchReply: a branch cancelled before its first
// provisional ends here (487) and its CANCEL waits; the transaction,
// answered 200 by the other branch, moves to the wait log with that
// branch's request. The late provisional then gets the CANCEL, the late
// 487 its ACK.
func TestWaitLogLateBranchReply(t *testing.T) {
	nc := newNetCore(t, nil)
	tt := testTimers
	tt.Wait = time.Hour
	nc.tm.SetTimers(tt)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	forkScript(nc, b)
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "wl-3", branch: "z9hG4bKwl3", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	a.reply(ra, 200, "OK", "ta")
	caller.expectReply(200, wait)
	eventually(t, "INVITE in the wait log", wait, func() bool { return nc.tm.waitLogged() == 1 })
	b.settle()
	b.quiet("CANCEL before a provisional", 50*time.Millisecond, isReq("CANCEL"))

	b.reply(rb, 180, "Ringing", "tb")
	c := b.expectRequest("CANCEL", wait)
	if br, _ := c.Via().Params.Get("branch"); br == "" || c.CallID().Value() != "wl-3" {
		t.Errorf("CANCEL %s", c)
	}
	b.reply(c, 200, "OK", "tb")
	b.reply(rb, 487, "Request Terminated", "tb")
	b.expectRequest("ACK", wait)
	caller.quiet("180 or 487 relayed", 100*time.Millisecond, func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && (r.StatusCode == 180 || r.StatusCode == 487)
	})
	if s := nc.tm.Stats(); s.Current != 1 || s.Illegal != 0 || s.Completed[0] != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestWaitLogExpiry: a transaction in the wait log is deleted after
// wt_timer like one in the table (deleted counter, t_stats, t_hash); a
// retransmission after that is a new transaction.
func TestWaitLogExpiry(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	txns := keepTxns(nc)
	msg := call{method: "MESSAGE", ruri: callee.uri("bob"), callID: "wl-4", branch: "z9hG4bKwl4", from: caller}
	caller.send(nc.addr(), msg.text())
	req := callee.expectRequest("MESSAGE", wait)
	callee.reply(req, 200, "OK", "b4")
	caller.expectReply(200, wait)
	x, _ := txns.Load("MESSAGE")
	eventually(t, "deleted", wait, func() bool { return nc.tm.Count() == 0 })
	if !isMoved(x.(*txn)) {
		t.Error("the transaction did not go through the wait log")
	}
	if d := nc.tm.stats.deleted.Load(); d != 1 {
		t.Errorf("deleted %d, want 1", d)
	}
	if s := nc.tm.Stats(); s.Waiting != 0 || s.Current != 0 || s.Total != 1 {
		t.Errorf("stats %+v", s)
	}
	for i := range nc.tm.table.cur {
		if c := nc.tm.table.cur[i].Load(); c != 0 {
			t.Errorf("bucket %d has %d entries", i, c)
		}
	}
	caller.send(nc.addr(), msg.text())
	callee.expectRequest("MESSAGE", wait)
	if s := nc.tm.Stats(); s.Total != 2 {
		t.Errorf("stats %+v", s)
	}
}

// viewsFlow runs a mix of transactions through t (a MESSAGE answered 200,
// an INVITE answered 486 and acknowledged, an INVITE answered 200, an
// OPTIONS answered 404 by t_reply, a MESSAGE that times out) and returns
// the messages that created them.
func viewsFlow(tb testing.TB, t *TM, env *module.Env) []*sipmsg.Msg {
	bind := func(name string, args ...any) module.Handler { return modtest.Bind(tb, Exports, t, env, name, args...) }
	relay := bind("t_relay")
	var ms []*sipmsg.Msg
	for i := 0; i < 50; i++ {
		switch i % 5 {
		case 0:
			m := soakRequest(tb, "MESSAGE", i)
			relay(m)
			t.HandleReply(replyTo(tb, m, 0, 200))
			ms = append(ms, m)
		case 1:
			m := soakRequest(tb, "INVITE", i)
			relay(m)
			t.HandleReply(replyTo(tb, m, 0, 180))
			t.HandleReply(replyTo(tb, m, 0, 486))
			if r, _ := relay(soakRequest(tb, "ACK", i)); r != 0 {
				tb.Fatalf("ACK not absorbed: %d", r)
			}
			ms = append(ms, m)
		case 2:
			m := soakRequest(tb, "INVITE", i)
			relay(m)
			t.HandleReply(replyTo(tb, m, 0, 200))
			ms = append(ms, m)
		case 3:
			m := soakRequest(tb, "OPTIONS", i)
			bind("t_newtran")(m)
			bind("t_reply", 404, "Not Found")(m)
			ms = append(ms, m)
		case 4:
			m := soakRequest(tb, "MESSAGE", i)
			relay(m) // fr_timer: a local 408, the branch ended here
			ms = append(ms, m)
		}
	}
	return ms
}

// views is what the management interface and the script functions show
// of a TM after viewsFlow.
func views(tb testing.TB, t *TM, env *module.Env, cc *countCore, ms []*sipmsg.Msg) []string {
	bind := func(name string, args ...any) module.Handler { return modtest.Bind(tb, Exports, t, env, name, args...) }
	out := []string{
		rpc.Typed("200 ok", t.Stats().TStats()).Text,
		t.HashText(),
		fmt.Sprint("count ", t.Count(), " deleted ", t.stats.deleted.Load()),
	}
	for _, m := range ms {
		id, _ := t.TransID(m)
		bucket, label, _ := parseTransID(id)
		e1 := t.ReplyTo(bucket, label, 180, "Ringing", module.ReplyOpts{ToTag: "x"})
		e2 := t.ReplyTo(bucket, label, 200, "OK", module.ReplyOpts{ToTag: "x"})
		c := t.CancelCall(m.CallID(), fmt.Sprint(m.Req.CSeq().SeqNo))
		// The request again, through t_lookup_request, t_check_status and
		// t_retransmit_reply, then as a retransmission.
		sent := cc.sent.Load()
		r := soakRequest(tb, m.Method(), indexOf(m))
		l, _ := bind("t_lookup_request")(r)
		s2, _ := bind("t_check_status", "2[0-9][0-9]")(r)
		s4, _ := bind("t_check_status", "4[0-9][0-9]")(r)
		rr, _ := bind("t_retransmit_reply")(r)
		rel, _ := bind("t_relay")(soakRequest(tb, m.Method(), indexOf(m)))
		out = append(out, fmt.Sprint(id, " ", errText(e1), " ", errText(e2), " ", c, " ", l, s2, s4, rr, rel, " sent ", cc.sent.Load()-sent))
	}
	return out
}

func indexOf(m *sipmsg.Msg) int {
	var i int
	fmt.Sscanf(m.CallID(), "soak-%d", &i)
	return i
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestWaitLogSameViews runs the same transactions through two TMs, one
// keeping completed transactions in the table: t_stats, t_hash, the
// counters, FIFO t_reply and t_uac_cancel, t_lookup_request,
// t_check_status, t_retransmit_reply and retransmissions give the same
// answers while they wait and after wt_timer deleted them.
func TestWaitLogSameViews(t *testing.T) {
	tt := Timers{FR: 100 * time.Millisecond, FRInv: time.Hour, Wait: time.Hour, T1: time.Hour, T2: time.Hour}
	a, ca, ea := newCountTM(t)
	b, cb, eb := newCountTM(t)
	b.keepInTable = true
	a.SetTimers(tt)
	b.SetTimers(tt)
	ma, mb := viewsFlow(t, a, ea), viewsFlow(t, b, eb)
	eventually(t, "timeouts", wait, func() bool { return a.Stats().Timeouts == 10 && b.Stats().Timeouts == 10 })
	eventually(t, "moved", wait, func() bool { return a.waitLogged() == 50 })
	if n := b.waitLogged(); n != 0 {
		t.Fatalf("%d in b's wait log", n)
	}
	va, vb := views(t, a, ea, ca, ma), views(t, b, eb, cb, mb)
	if len(va) != len(vb) {
		t.Fatalf("%d views, %d", len(va), len(vb))
	}
	for i := range va {
		if va[i] != vb[i] {
			t.Errorf("view %d differs:\nwait log: %.300q\ntable:    %.300q", i, va[i], vb[i])
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("t_stats while waiting: %q", va[0])
	t.Logf("%s", va[3:8])

	// After wt_timer.
	tt.Wait = 50 * time.Millisecond
	for _, x := range []*TM{a, b} {
		x.SetTimers(tt)
	}
	// Transactions revived above and the wait log's records keep their
	// one-hour deadline; shorten every one to compare deletions.
	for _, x := range []*TM{a, b} {
		shorten(x)
	}
	eventually(t, "deleted", 2*wait, func() bool { return a.Count() == 0 && b.Count() == 0 })
	sa, sb := rpc.Typed("200 ok", a.Stats().TStats()).Text, rpc.Typed("200 ok", b.Stats().TStats()).Text
	if sa != sb || a.HashText() != b.HashText() || a.stats.deleted.Load() != b.stats.deleted.Load() {
		t.Errorf("after deletion:\n%q deleted %d\n%q deleted %d", sa, a.stats.deleted.Load(), sb, b.stats.deleted.Load())
	}
}

// shorten makes every transaction of t due now: those in the table get a
// deadline now, the wait log's records are revived first.
func shorten(t *TM) {
	for i := range t.table.wait {
		wl := &t.table.wait[i]
		wl.mu.Lock()
		var hs []uint64
		for h := range wl.idx {
			hs = append(hs, h)
		}
		wl.mu.Unlock()
		for _, h := range hs {
			t.revive(h)
		}
	}
	for _, x := range t.table.all() {
		x.mu.Lock()
		if !x.waitAt.IsZero() {
			x.waitAt = clockNow()
		}
		x.unlock()
	}
}

// TestWaitLogWtReload: a reload lowering wt_timer gives new transactions
// a deadline earlier than the wait log's newest: they stay in the table
// and are deleted on time by their own timer, ahead of the older ones.
// Raised again, new transactions go to the wait log.
func TestWaitLogWtReload(t *testing.T) {
	tm, _, env := newCountTM(t)
	relay := modtest.Bind(t, Exports, tm, env, "t_relay")
	var wt *module.Param
	for i := range Exports.Params {
		if Exports.Params[i].Name == "wt_timer" {
			wt = &Exports.Params[i]
		}
	}
	reload := func(secs int) {
		if err := wt.Reload(tm, module.Value{N: secs, IsInt: true}); err != nil {
			t.Fatal(err)
		}
		if got := tm.Timers().Wait; got != time.Duration(secs)*time.Second {
			t.Fatalf("wt_timer %v after reload to %d", got, secs)
		}
	}
	// Records expire in the order of their own wait log (one per timer
	// queue): the three transactions below share one.
	logOf := func(i int) *waitLog {
		key, _ := tm.requestKey(soakRequest(t, "MESSAGE", i), "MESSAGE")
		return tm.table.logOf(hashKey(key))
	}
	idx := []int{1}
	for i := 2; len(idx) < 3; i++ {
		if logOf(i) == logOf(1) {
			idx = append(idx, i)
		}
	}
	message := func(n int) {
		m := soakRequest(t, "MESSAGE", idx[n-1])
		if r, _ := relay(m); r != 1 {
			t.Fatalf("t_relay %d", r)
		}
		tm.HandleReply(replyTo(t, m, 0, 200))
	}
	reload(3600)
	message(1)
	if tm.waitLogged() != 1 || tm.inTable() != 0 {
		t.Fatalf("wait log %d, table %d", tm.waitLogged(), tm.inTable())
	}
	reload(1)
	message(2)
	if tm.waitLogged() != 1 || tm.inTable() != 1 {
		t.Fatalf("wait log %d, table %d", tm.waitLogged(), tm.inTable())
	}
	eventually(t, "the second transaction deleted after the new wt_timer", 10*time.Second, func() bool {
		return tm.stats.deleted.Load() == 1
	})
	if tm.Count() != 1 || tm.waitLogged() != 1 || tm.Stats().Waiting != 1 {
		t.Errorf("count %d, wait log %d, stats %+v", tm.Count(), tm.waitLogged(), tm.Stats())
	}
	reload(7200)
	message(3)
	if tm.waitLogged() != 2 || tm.inTable() != 0 {
		t.Errorf("wait log %d, table %d", tm.waitLogged(), tm.inTable())
	}
	tm.Stop()
	if n := tm.waitLogged(); n != 0 {
		t.Errorf("%d in the wait log after Stop", n)
	}
}

// TestWaitLogRace completes INVITE transactions (they move to the wait
// log) while retransmissions of the INVITE and of the 200 look them up
// from other goroutines: each must be answered exactly once, whether it
// found the transaction in the table, moving, moved or revived (run with
// -race).
func TestWaitLogRace(t *testing.T) {
	tm, cc, env := newCountTM(t)
	tm.SetTimers(Timers{FR: time.Hour, FRInv: time.Hour, Wait: time.Hour, T1: time.Hour, T2: time.Hour})
	relay := modtest.Bind(t, Exports, tm, env, "t_relay")
	const n, r = 200, 4
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < n; i++ {
		m := soakRequest(t, "INVITE", i)
		if ret, _ := relay(m); ret != 1 {
			t.Fatalf("t_relay %d", ret)
		}
		ok := replyTo(t, m, 0, 200)
		var retr, oks []*sipmsg.Msg
		for j := 0; j < r; j++ {
			retr = append(retr, soakRequest(t, "INVITE", i))
			oks = append(oks, replyTo(t, m, 0, 200))
		}
		wg.Add(3)
		go func() {
			defer wg.Done()
			if !tm.HandleReply(ok) {
				bad.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			for _, rm := range retr {
				if ret, _ := relay(rm); ret != 0 {
					bad.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for _, o := range oks {
				if !tm.HandleReply(o) {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d lookups failed", bad.Load())
	}
	// Per INVITE: the 100, the branch, the 200, each INVITE
	// retransmission answered, each 200 retransmission relayed.
	if got, want := cc.sent.Load(), int64(n*(3+2*r)); got != want {
		t.Errorf("sent %d, want %d", got, want)
	}
	if s := tm.Stats(); s.Current != n || s.Waiting != n || s.Illegal != 0 || tm.waitLogged()+tm.inTable() != n {
		t.Errorf("stats %+v, wait log %d, table %d", s, tm.waitLogged(), tm.inTable())
	}
}

// TestWaitLogOnReplyRoute: a transaction with an onreply route armed goes
// to the wait log when it has no AVPs (the route would work on them); a
// 2xx retransmission then revives it and the route runs for it as before.
// With AVPs it stays in the table.
func TestWaitLogOnReplyRoute(t *testing.T) {
	for _, withAVP := range []bool{false, true} {
		t.Run(fmt.Sprint("avps=", withAVP), func(t *testing.T) {
			nc := newNetCore(t, nil)
			tt := testTimers
			tt.Wait = time.Hour
			nc.tm.SetTimers(tt)
			caller, callee := newUA(t, "caller"), newUA(t, "callee")
			var runs intLog
			nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
				runs.add(m.Resp.StatusCode)
				return 1
			}
			relay, onReply := nc.bind("t_relay"), nc.bind("t_on_reply", "1")
			nc.setScript(func(m *sipmsg.Msg) {
				if withAVP {
					m.AddAVP(sipmsg.StrName("x"), sipmsg.IntValue(1))
				}
				onReply(m)
				relay(m)
			})
			inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: fmt.Sprint("wl-or-", withAVP), branch: fmt.Sprint("z9hG4bKwlor", withAVP), from: caller}
			caller.send(nc.addr(), inv.text())
			req := callee.expectRequest("INVITE", wait)
			callee.reply(req, 200, "OK", "b1")
			caller.expectReply(200, wait)
			if withAVP {
				time.Sleep(50 * time.Millisecond)
				if nc.tm.waitLogged() != 0 || nc.tm.inTable() != 1 {
					t.Fatalf("wait log %d, table %d: a transaction whose onreply route needs its AVPs moved", nc.tm.waitLogged(), nc.tm.inTable())
				}
			} else {
				eventually(t, "in the wait log", wait, func() bool { return nc.tm.waitLogged() == 1 })
			}
			callee.reply(req, 200, "OK", "b1")
			caller.expectReply(200, wait)
			eventually(t, "the route ran for the retransmission", wait, func() bool { return len(runs.get()) == 2 })
			if got := runs.get(); got[0] != 200 || got[1] != 200 {
				t.Errorf("route ran for %v", got)
			}
			if nc.tm.inTable() != 1 {
				t.Errorf("table %d, wait log %d", nc.tm.inTable(), nc.tm.waitLogged())
			}
		})
	}
}

// TestWaitRecordRoundTrip encodes a transaction as a wait log record and
// decodes it: every field absorbing or a revival needs comes back.
func TestWaitRecordRoundTrip(t *testing.T) {
	tm := New()
	socks := modtest.NewCore().Socks
	v6 := netip.MustParseAddrPort("[2001:db8::1]:5062")
	x := &txn{
		tm: tm, key: "1\x00z9hG4bKabc\x00host:5060\x00INVITE", hash: 0x0123456789abcdef, label: 77,
		method: "INVITE", callID: "rt-1@host", cseq: 4711, state: txnConfirmed,
		bits: flagInvite | flagUpstream | flagNoNew | flagMoved, flags: 0x80000001,
		rcv:        sipmsg.RcvInfo{Src: v6, Sock: socks[1], Proto: sipmsg.ProtoTCP, ConnID: 99},
		onNegative: 3, onReply: 65535, status: 486,
		lastWire: []byte("SIP/2.0 486 Busy Here\r\n\r\n"),
		lastDst:  sipmsg.Dest{Proto: sipmsg.ProtoTCP, Addr: v6, Sock: socks[1], ConnID: 99},
		waitAt:   clockNow().Add(time.Minute),
		branches: []*branch{
			{idx: 0, state: brCompleted, cancel: cancelDone, status: 183, finalCode: 486,
				dst: sipmsg.Dest{Proto: sipmsg.ProtoUDP, Addr: netip.MustParseAddrPort("192.0.2.1:5070"), Sock: socks[0]},
				ack: []byte("ACK sip:a SIP/2.0\r\n\r\n"), req: []byte("dropped: received")},
			{idx: 1, state: brTerminated, cancel: cancelWanted, finalCode: 487,
				dst: sipmsg.Dest{Proto: sipmsg.ProtoUDP, Addr: netip.MustParseAddrPort("[::ffff:192.0.2.2]:5080")},
				req: []byte("INVITE sip:b SIP/2.0\r\n\r\n")},
			{idx: 2, state: brTerminated, blind: true, finalCode: 408},
		},
	}
	size, ok := recordSize(x, socks)
	if !ok {
		t.Fatal("not encodable")
	}
	rec := make(waitRec, size)
	encode(rec, x, socks)
	if rec.size() != size || rec.hash() != x.hash || string(rec.key()) != x.key || string(rec.callID()) != x.callID {
		t.Fatalf("header: size %d hash %x key %q callID %q", rec.size(), rec.hash(), rec.key(), rec.callID())
	}
	if b := rec.branchAt(1); string(b.req()) != string(x.branches[1].req) || b.cancel() != cancelWanted {
		t.Errorf("branch 1: req %q cancel %s", b.req(), b.cancel())
	}
	y := tm.decode(rec, socks)
	if y.key != x.key || y.hash != x.hash || y.bucket != bucketOf(x.hash) || y.label != 77 || y.method != "INVITE" ||
		y.callID != x.callID || y.cseq != 4711 || y.state != txnConfirmed || y.bits != x.bits&^flagMoved|flagPinned ||
		y.flags != x.flags || y.onNegative != 3 || y.onReply != 65535 || y.status != 486 || y.waitAt != x.waitAt || y.tm != tm {
		t.Errorf("revived: key %q hash %x bucket %d label %d method %s callID %s cseq %d state %s bits %b flags %x routes %d/%d status %d waitAt %d",
			y.key, y.hash, y.bucket, y.label, y.method, y.callID, y.cseq, y.state, y.bits, y.flags, y.onNegative, y.onReply, y.status, y.waitAt)
	}
	x.branches[0].req = nil // a received branch's request is not kept
	if y.rcv != x.rcv || y.lastDst != x.lastDst || string(y.lastWire) != string(x.lastWire) {
		t.Errorf("rcv %+v lastDst %+v lastWire %q", y.rcv, y.lastDst, y.lastWire)
	}
	if len(y.branches) != 3 {
		t.Fatalf("%d branches", len(y.branches))
	}
	for i, b := range y.branches {
		w := x.branches[i]
		if b.idx != i || b.state != w.state || b.cancel != w.cancel || b.blind != w.blind || b.status != w.status ||
			b.finalCode != w.finalCode || b.dst != w.dst || string(b.ack) != string(w.ack) || string(b.req) != string(w.req) {
			t.Errorf("branch %d: %+v\nwant %+v", i, *b, *w)
		}
	}

	// Not encodable: a socket not listening, an IPv6 zone.
	x.lastDst.Sock = &sipmsg.Socket{}
	if _, ok := recordSize(x, socks); ok {
		t.Error("a foreign socket was encoded")
	}
	x.lastDst.Sock = socks[0]
	x.rcv.Src = netip.MustParseAddrPort("[fe80::1%eth0]:5060")
	if _, ok := recordSize(x, socks); ok {
		t.Error("an IPv6 zone was encoded")
	}
}
