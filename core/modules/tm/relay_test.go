package tm

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// relayScript is the usual "if (!t_relay()) sl_reply_error();" with the
// failure recorded.
func relayScript(nc *netCore, pre func(m *sipmsg.Msg)) func(m *sipmsg.Msg) {
	relay := nc.bind("t_relay")
	return func(m *sipmsg.Msg) {
		if pre != nil {
			pre(m)
		}
		if ret, _ := relay(m); ret < 0 {
			nc.tb.Logf("t_relay failed: %d %s", m.ErrCode, m.ErrReason)
		}
	}
}

func isReq(method string) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && string(r.Method) == method
	}
}

func isCode(code int) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == code
	}
}

func isFinal(m sip.Message) bool {
	r, ok := m.(*sip.Response)
	return ok && r.StatusCode >= 200
}

func TestInviteCall(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))

	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "call-1", branch: "z9hG4bKc1", from: caller}
	caller.send(nc.addr(), inv.text())
	if r := caller.expectReply(100, wait); r.Reason != trying {
		t.Errorf("100 reason = %q", r.Reason)
	}
	req := callee.expectRequest("INVITE", wait)
	top := req.Via()
	if top.Port != nc.sock.Port {
		t.Fatalf("top Via not ours: %s", top.Value())
	}
	b, _ := top.Params.Get("branch")
	if _, idx, ok := parseBranch(b); !ok || idx != 0 {
		t.Errorf("branch %q not a tm branch", b)
	}
	if n := len(req.GetHeaders("Via")); n != 2 {
		t.Errorf("%d Vias, want 2", n)
	}
	callee.reply(req, 100, "Trying", "")
	callee.reply(req, 180, "Ringing", "b1")
	caller.expectReply(180, wait)
	callee.reply(req, 200, "OK", "b1", "Contact: <"+callee.uri("bob")+">")
	ok := caller.expectReply(200, wait)
	if n := len(ok.GetHeaders("Via")); n != 1 {
		t.Errorf("200 has %d Vias, want 1 (ours removed)", n)
	}
	// A 2xx retransmission is relayed too.
	callee.reply(req, 200, "OK", "b1", "Contact: <"+callee.uri("bob")+">")
	caller.expectReply(200, wait)
	// An INVITE retransmission gets the last reply.
	callee.settle()
	caller.send(nc.addr(), inv.text())
	caller.expectReply(200, wait)
	callee.quiet("INVITE retransmission", 100*time.Millisecond, isReq("INVITE"))
	// ACK for 2xx: a new transaction, forwarded statelessly.
	ack := call{method: "ACK", ruri: callee.uri("bob"), callID: "call-1", branch: "z9hG4bKc1ack", from: caller,
		extra: []string{"To: <" + callee.uri("bob") + ">;tag=b1"}}
	caller.send(nc.addr(), ack.text())
	callee.expectRequest("ACK", wait)

	waitEmpty(t, nc.tm, wait)
	s := nc.tm.Stats()
	if s.Total != 1 || s.Completed[0] != 1 || s.Current != 0 || s.Waiting != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestInviteRetransmissionsAndTimeout(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "call-2", branch: "z9hG4bKc2", from: caller}
	start := time.Now()
	caller.send(nc.addr(), inv.text())
	caller.expectReply(100, wait)
	// The silent callee gets the INVITE and its retransmissions (Timer A).
	for i := 0; i < 3; i++ {
		callee.expectRequest("INVITE", wait)
	}
	r := caller.expectReply(408, wait)
	if el := time.Since(start); el < testTimers.FR-50*time.Millisecond {
		t.Errorf("408 after %v, before fr_timer %v", el, testTimers.FR)
	}
	if r.Reason != "Request Timeout" {
		t.Errorf("reason %q", r.Reason)
	}
	if tag, _ := r.To().Params.Get("tag"); tag == "" {
		t.Error("local 408 without To-tag")
	}
	// Without an ACK, Timer G retransmits the 408.
	caller.expectReply(408, wait)
	ack := call{method: "ACK", ruri: callee.uri("bob"), callID: "call-2", branch: "z9hG4bKc2", from: caller}
	tag, _ := r.To().Params.Get("tag")
	ack.extra = []string{"To: <" + callee.uri("bob") + ">;tag=" + tag}
	caller.send(nc.addr(), ack.text())
	caller.settle()
	caller.quiet("408 after ACK", 4*testTimers.T2, isCode(408))
	callee.quiet("ACK forwarded", 50*time.Millisecond, isReq("ACK"))
	waitEmpty(t, nc.tm, wait)
	if s := nc.tm.Stats(); s.RepliedLocally != 1 || s.Completed[2] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRingingTimeoutCancels(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "call-3", branch: "z9hG4bKc3", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b3")
	caller.expectReply(180, wait)
	start := time.Now()
	cancel := callee.expectRequest("CANCEL", 2*testTimers.FRInv)
	if el := time.Since(start); el < testTimers.FRInv-100*time.Millisecond {
		t.Errorf("CANCEL after %v, before fr_inv_timer", el)
	}
	if b, _ := cancel.Via().Params.Get("branch"); b != mustBranch(req) {
		t.Errorf("CANCEL branch %q, INVITE branch %q", b, mustBranch(req))
	}
	if cancel.CSeq().SeqNo != req.CSeq().SeqNo || cancel.Recipient.String() != req.Recipient.String() {
		t.Errorf("CANCEL does not match the INVITE:\n%s", cancel.String())
	}
	caller.expectReply(408, wait)
	callee.reply(cancel, 200, "OK", "b3")
	callee.reply(req, 487, "Request Terminated", "b3")
	ack := callee.expectRequest("ACK", wait)
	if b, _ := ack.Via().Params.Get("branch"); b != mustBranch(req) {
		t.Errorf("hop-by-hop ACK branch %q", b)
	}
	caller.quiet("487 relayed after 408", 100*time.Millisecond, isCode(487))
}

func mustBranch(r *sip.Request) string {
	b, _ := r.Via().Params.Get("branch")
	return b
}

func TestCancelRingingCall(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "call-4", branch: "z9hG4bKc4", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b4")
	caller.expectReply(180, wait)

	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	ok := caller.expectReply(200, wait)
	if ok.CSeq().MethodName != sip.CANCEL {
		t.Fatalf("200 is not for the CANCEL: %s", ok.String())
	}
	fwd := callee.expectRequest("CANCEL", wait)
	if mustBranch(fwd) != mustBranch(req) {
		t.Error("CANCEL branch differs from the INVITE's")
	}
	// A retransmitted CANCEL gets the 200 again, and is not forwarded.
	caller.send(nc.addr(), cancel.text())
	caller.expectReply(200, wait)
	callee.reply(fwd, 200, "OK", "b4")
	callee.reply(req, 487, "Request Terminated", "b4")
	callee.expectRequest("ACK", wait)
	r := caller.expectReply(487, wait)
	tag, _ := r.To().Params.Get("tag")
	ack := inv
	ack.method = "ACK"
	ack.extra = []string{"To: <" + callee.uri("bob") + ">;tag=" + tag}
	caller.send(nc.addr(), ack.text())
	callee.quiet("the caller's ACK relayed", 300*time.Millisecond, isReq("ACK"))
	waitEmpty(t, nc.tm, wait)
}

func TestCancelBeforeProvisional(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "call-5", branch: "z9hG4bKc5", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	caller.expectReply(200, wait)
	// No provisional yet: the CANCEL waits, the caller gets 487 at once.
	caller.expectReply(487, wait)
	callee.quiet("CANCEL before provisional", 100*time.Millisecond, isReq("CANCEL"))
	// When the provisional comes, the CANCEL goes out.
	callee.reply(req, 180, "Ringing", "b5")
	callee.expectRequest("CANCEL", wait)
	caller.quiet("180 after 487", 100*time.Millisecond, isCode(180))
}

func TestUnmatchedCancelRelayed(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	cancel := call{method: "CANCEL", ruri: callee.uri("bob"), callID: "call-6", branch: "z9hG4bKc6", from: caller}
	caller.send(nc.addr(), cancel.text())
	fwd := callee.expectRequest("CANCEL", wait)
	callee.reply(fwd, 481, "Call/Transaction Does Not Exist", "x")
	caller.expectReply(481, wait)
}

func TestParallelForkFirst200Wins(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) {
		if m.Req.IsInvite() {
			m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
		}
	}))
	var completed []CompleteInfo
	done := make(chan struct{}, 4)
	nc.tm.OnComplete(func(ci CompleteInfo) { completed = append(completed, ci); done <- struct{}{} })
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "call-7", branch: "z9hG4bKc7", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	if mustBranch(ra) == mustBranch(rb) {
		t.Fatal("branches share a branch id")
	}
	if !strings.Contains(rb.Recipient.String(), b.addr.String()) {
		t.Errorf("branch 1 R-URI %s", rb.Recipient.String())
	}
	a.reply(ra, 180, "Ringing", "ta")
	b.reply(rb, 180, "Ringing", "tb")
	caller.expectReply(180, wait)
	caller.expectReply(180, wait)
	a.reply(ra, 200, "OK", "ta")
	caller.expectReply(200, wait)
	c := b.expectRequest("CANCEL", wait)
	b.reply(c, 200, "OK", "tb")
	b.reply(rb, 487, "Request Terminated", "tb")
	b.expectRequest("ACK", wait)
	caller.quiet("a second final reply", 200*time.Millisecond, func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode > 200
	})
	<-done
	if len(completed) != 1 || completed[0].Code != 200 || completed[0].Method != "INVITE" || completed[0].Reply == nil {
		t.Errorf("completion %+v", completed)
	}
	waitEmpty(t, nc.tm, wait)
}

func TestSixxxCancelsOthers(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) {
		if m.Req.IsInvite() {
			m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
		}
	}))
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "call-8", branch: "z9hG4bKc8", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	b.reply(rb, 180, "Ringing", "tb")
	a.reply(ra, 603, "Decline", "ta")
	a.expectRequest("ACK", wait)
	c := b.expectRequest("CANCEL", wait)
	caller.quiet("final before the cancelled branch ends", 100*time.Millisecond, isFinal)
	b.reply(c, 200, "OK", "tb")
	b.reply(rb, 487, "Request Terminated", "tb")
	caller.expectReply(603, wait)
}

func TestChallengesMerged(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) {
		if m.Req.IsInvite() {
			m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
		}
	}))
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "call-9", branch: "z9hG4bKc9", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	a.reply(ra, 401, "Unauthorized", "ta", `WWW-Authenticate: Digest realm="a.example", nonce="1"`)
	b.reply(rb, 407, "Proxy Authentication Required", "tb", `Proxy-Authenticate: Digest realm="b.example", nonce="2"`)
	r := caller.expectReply(401, wait)
	if r.GetHeader("WWW-Authenticate") == nil || r.GetHeader("Proxy-Authenticate") == nil {
		t.Fatalf("challenges not merged:\n%s", r.String())
	}
	caller.quiet("the 407 as well", 100*time.Millisecond, isCode(407))
}

func TestServiceUnavailableBecomes500(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a := newUA(t, "caller"), newUA(t, "a")
	nc.setScript(relayScript(nc, nil))
	msg := call{method: "MESSAGE", ruri: a.uri("bob"), callID: "call-10", branch: "z9hG4bKc10", from: caller}
	caller.send(nc.addr(), msg.text())
	r := a.expectRequest("MESSAGE", wait)
	caller.quiet("100 for a non-INVITE", 50*time.Millisecond, isCode(100))
	a.reply(r, 503, "Service Unavailable", "ta")
	a.quiet("ACK for a non-INVITE", 50*time.Millisecond, isReq("ACK"))
	caller.expectReply(500, wait)
}

func TestUnresolvableFails(t *testing.T) {
	nc := newNetCore(t, nil)
	relay := nc.bind("t_relay")
	m := modtestRequest(t, "INVITE", "sip:bob@unknown.invalid")
	if ret, _ := relay(m); ret != -1 {
		t.Fatalf("t_relay = %d", ret)
	}
	if m.ErrCode != 478 || m.ErrReason != "Unresolvable destination (478/SL)" {
		t.Errorf("error %d %q", m.ErrCode, m.ErrReason)
	}
	if nc.tm.Count() != 0 {
		t.Errorf("failed transaction left in the table")
	}
}

func TestSerialForkingFailureRoute(t *testing.T) {
	for _, tc := range []struct {
		name    string
		relayIn bool // the failure route calls t_relay itself
	}{
		{name: "t_relay in failure_route", relayIn: true},
		{name: "SER 0.8 reply_route relays appended branches", relayIn: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := newNetCore(t, nil)
			caller, a, b, c := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b"), newUA(t, "c")
			relay := nc.bind("t_relay")
			var failureSeen intLog
			nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
				_, code := nc.tm.FailureReply(m)
				failureSeen.add(code)
				if len(m.Branches) != 0 || !m.IsRequest() {
					t.Errorf("failure route message: branches %v", m.Branches)
				}
				m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
				nc.bind("t_on_negative", "2")(m)
				if tc.relayIn {
					if ret, _ := relay(m); ret != 1 {
						t.Errorf("t_relay in failure route = %d", ret)
					}
				}
				return 1
			}
			nc.Routes[routeKey(module.Failure, 2)] = func(m *sipmsg.Msg) int {
				_, code := nc.tm.FailureReply(m)
				failureSeen.add(code)
				m.AppendBranch(sipmsg.Branch{URI: c.uri("bob"), Q: -1})
				return 1
			}
			onNeg := nc.bind("t_on_negative", "1")
			nc.setScript(func(m *sipmsg.Msg) {
				onNeg(m)
				relay(m)
			})
			inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "call-11", branch: "z9hG4bKc11", from: caller}
			caller.send(nc.addr(), inv.text())
			ra := a.expectRequest("INVITE", wait)
			a.reply(ra, 486, "Busy Here", "ta")
			a.expectRequest("ACK", wait)
			rb := b.expectRequest("INVITE", wait)
			if id := mustBranch(rb); !strings.HasSuffix(id, ".1") {
				t.Errorf("serial branch id %q", id)
			}
			caller.quiet("486 relayed", 50*time.Millisecond, isCode(486))
			// b never answers: fr_timer → 408 → failure_route[2] → c.
			rc := c.expectRequest("INVITE", 2*testTimers.FR+wait)
			c.reply(rc, 200, "OK", "tc")
			caller.expectReply(200, wait)
			if seen := failureSeen.get(); len(seen) != 2 || seen[0] != 486 || seen[1] != 408 {
				t.Errorf("failure routes saw %v", seen)
			}
		})
	}
}

func routeKey(kind module.Route, n int) modtestRouteKey { return modtestRouteKey{Kind: kind, N: n} }

// TestSlowFailureRouteDoesNotStallTimers: a failure route that blocks
// (a database or exec call) on one transaction's timeout does not hold up
// the timers of the others: a second silent call still gets its INVITE
// retransmissions and its own 408 meanwhile.
func TestSlowFailureRouteDoesNotStallTimers(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		entered <- struct{}{}
		<-release
		return 1
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	relay, onNeg := nc.bind("t_relay"), nc.bind("t_on_negative", "1")
	nc.setScript(func(m *sipmsg.Msg) {
		if m.Req.CallID().Value() == "slow-1" {
			onNeg(m)
		}
		relay(m)
	})
	first := call{method: "INVITE", ruri: callee.uri("bob"), callID: "slow-1", branch: "z9hG4bKs1", from: caller}
	caller.send(nc.addr(), first.text())
	caller.expectReply(100, wait)
	time.Sleep(testTimers.FR / 2)
	second := call{method: "INVITE", ruri: callee.uri("bob"), callID: "slow-2", branch: "z9hG4bKs2", from: caller}
	caller.send(nc.addr(), second.text())
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("the first call's failure route never ran")
	}
	// The first call's failure route now blocks; the second call's timers
	// go on: its INVITE is retransmitted and it times out with a 408.
	callee.expect("retransmitted second INVITE", wait, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.CallID().Value() == "slow-2"
	})
	r := caller.expect("408 of the second call", wait, func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == 408 && r.CallID().Value() == "slow-2"
	})
	if r == nil {
		t.Fatal("no 408")
	}
	close(release)
	caller.expect("408 of the first call", wait, func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == 408 && r.CallID().Value() == "slow-1"
	})
}
