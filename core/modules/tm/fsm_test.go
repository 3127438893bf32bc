package tm

import (
	"bytes"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ser/core/sipmsg"
)

func TestStateTables(t *testing.T) {
	for s := txnState(0); s < numTxnStates; s++ {
		if txnNext[s]&(1<<s) != 0 {
			t.Errorf("transaction state %s goes to itself", s)
		}
		if strings.HasPrefix(s.String(), "txnState(") {
			t.Errorf("transaction state %d has no name", s)
		}
	}
	for s := branchState(0); s < numBranchStates; s++ {
		if branchNext[s]&(1<<s) != 0 {
			t.Errorf("branch state %s goes to itself", s)
		}
		if strings.HasPrefix(s.String(), "branchState(") {
			t.Errorf("branch state %d has no name", s)
		}
	}
	if txnNext[txnTerminated] != 0 || branchNext[brCompleted] != 0 || cancelNext[cancelDone] != 0 {
		t.Error("a final state has a way out")
	}
	// Every state but Terminated can be left for Terminated (a dropped or
	// released transaction).
	for s := txnState(0); s < txnTerminated; s++ {
		if txnNext[s]&(1<<txnTerminated) == 0 {
			t.Errorf("%s cannot end", s)
		}
	}
}

// TestIllegalTransition checks the policy of fsm.go: a panic in tests;
// in the server a logged error and a count, the new state taken.
func TestIllegalTransition(t *testing.T) {
	tm := New()
	x := &txn{tm: tm, method: "INVITE", state: txnConfirmed}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "illegal transaction transition Confirmed -> Proceeding") {
				t.Errorf("recover() = %v", r)
			}
		}()
		x.to(txnProceeding)
	}()

	panicOnIllegal.Store(false)
	defer panicOnIllegal.Store(true)
	var logged bytes.Buffer
	tm.log = slog.New(slog.NewTextHandler(&logged, nil))
	br := &branch{state: brCompleted}
	br.to(x, brProceeding)
	br.toCancel(x, cancelDone)
	if br.state != brProceeding || br.cancel != cancelDone {
		t.Errorf("states %s %s", br.state, br.cancel)
	}
	if n := tm.Stats().Illegal; n != 3 {
		t.Errorf("Illegal = %d, want 3", n)
	}
	for _, want := range []string{"illegal branch z9hG4bK0000000000000000.0 transition Completed -> Proceeding", "cancelNone -> cancelDone", "level=ERROR"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}

// waitStates polls x (locked) until ok holds.
func waitStates(t *testing.T, x *txn, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		x.mu.Lock()
		done := ok()
		st := x.state
		var bs []string
		for _, br := range x.branches {
			bs = append(bs, br.state.String()+"/"+br.cancel.String())
		}
		x.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: transaction %s, branches %v", what, st, bs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// forkScript relays INVITEs to the R-URI and to b in parallel, and keeps
// the last INVITE transaction.
func forkScript(nc *netCore, b *ua) *atomic.Pointer[txn] {
	var xp atomic.Pointer[txn]
	relay := nc.bind("t_relay")
	nc.setScript(func(m *sipmsg.Msg) {
		if m.Req.IsInvite() {
			m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
		}
		relay(m)
		if st := peekState(m); st != nil && st.txn != nil && m.Req.IsInvite() {
			xp.Store(st.txn)
		}
	})
	return &xp
}

// TestCallStates follows a forked INVITE through the machines: the
// server side Proceeding, Completed, Confirmed, Terminated; one branch
// Calling, Proceeding, cancelled (its CANCEL sent), Completed by its 487;
// the other Completed by a 486.
func TestCallStates(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	xp := forkScript(nc, b)
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "states-1", branch: "z9hG4bKst1", from: caller}
	caller.send(nc.addr(), inv.text())
	caller.expectReply(100, wait)
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	x := xp.Load()
	for deadline := time.Now().Add(wait); x == nil && time.Now().Before(deadline); x = xp.Load() {
		time.Sleep(time.Millisecond) // the script stores it after t_relay sent the branches
	}
	if x == nil {
		t.Fatal("no transaction")
	}
	waitStates(t, x, "relayed", func() bool {
		return x.state == txnProceeding && len(x.branches) == 2 &&
			x.branches[0].state == brCalling && x.branches[1].state == brCalling
	})
	a.reply(ra, 180, "Ringing", "ta")
	caller.expectReply(180, wait)
	waitStates(t, x, "ringing", func() bool { return x.branches[0].state == brProceeding })

	// A 6xx from b: b Completed, a cancelled (CANCEL sent: it rang).
	b.reply(rb, 603, "Decline", "tb")
	c := a.expectRequest("CANCEL", wait)
	waitStates(t, x, "declined", func() bool {
		return x.branches[1].state == brCompleted && x.branches[0].state == brProceeding &&
			x.branches[0].cancel == cancelTrying && x.noNew() && x.state == txnProceeding
	})
	a.reply(c, 200, "OK", "ta")
	a.reply(ra, 487, "Request Terminated", "ta")
	r := caller.expectReply(603, wait)
	waitStates(t, x, "completed", func() bool {
		return x.state == txnCompleted && x.branches[0].state == brCompleted && x.branches[0].cancel == cancelDone
	})
	ack := call{method: "ACK", ruri: a.uri("bob"), callID: "states-1", branch: "z9hG4bKst1", from: caller}
	tag, _ := r.To().Params.Get("tag")
	ack.extra = []string{"To: <" + a.uri("bob") + ">;tag=" + tag}
	caller.send(nc.addr(), ack.text())
	waitStates(t, x, "acknowledged", func() bool { return x.state == txnConfirmed || x.state == txnTerminated })
	waitEmpty(t, nc.tm, wait)
	waitStates(t, x, "deleted", func() bool { return x.state == txnTerminated })
	if s := nc.tm.Stats(); s.Illegal != 0 || s.Waiting != 0 {
		t.Errorf("stats %+v", s)
	}
}
