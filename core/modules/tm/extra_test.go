package tm

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

func TestFixupValidation(t *testing.T) {
	nc := newNetCore(t, nil)
	nc.Routes[routeKey(module.Failure, 1)] = func(*sipmsg.Msg) int { return 1 }
	tests := []struct {
		name string
		fn   string
		args []any
		want string // error substring; "" = ok
	}{
		{name: "failure route exists", fn: "t_on_negative", args: []any{"1"}},
		{name: "t_on_failure exists", fn: "t_on_failure", args: []any{1}},
		{name: "failure route missing", fn: "t_on_negative", args: []any{"2"}, want: "failure_route[2] is not defined"},
		{name: "onreply route missing", fn: "t_on_reply", args: []any{"1"}, want: "onreply_route[1] is not defined"},
		{name: "route number not a number", fn: "t_on_failure", args: []any{"x"}, want: "bad route number"},
		{name: "reply code", fn: "t_reply", args: []any{"abc", "x"}, want: "bad reply code"},
		{name: "reply code range", fn: "t_reply", args: []any{700, "x"}, want: "out of range"},
		{name: "relay_to port", fn: "t_relay_to_udp", args: []any{"h", "99999"}, want: "out of range"},
		{name: "replicate port", fn: "t_replicate", args: []any{"h", "p"}, want: "bad port"},
		{name: "relay with hop", fn: "t_relay", args: []any{"127.0.0.1", "5060"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.BindErr(Exports, nc.tm, nc.env, tc.fn, tc.args...)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestModparams(t *testing.T) {
	nc := newNetCore(t, nil)
	inst, err := modtest.LoadEnv(Exports, nc.freshEnv(), map[string]any{"fr_timer": 10, "fr_inv_timer": "15", "wt_timer": 3, "retr_timer1p1": 250, "retr_timer2": 2000, "noisy_ctimer": 0})
	if err != nil {
		t.Fatal(err)
	}
	tm := inst.(*TM)
	got := tm.Timers()
	if got.FR != 10*time.Second || got.FRInv != 15*time.Second || got.Wait != 3*time.Second ||
		got.T1 != 250*time.Millisecond || got.T1p2 != time.Second || got.T2 != 2*time.Second || tm.noisy {
		t.Errorf("timers %+v noisy %v", got, tm.noisy)
	}
	for _, bad := range []map[string]any{{"fr_timer": "abc"}, {"fr_inv_timer": 0}, {"retr_timer1p1": -1}} {
		if _, err := modtest.LoadEnv(Exports, nc.freshEnv(), bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if d := DefaultTimers(); d.FR != 30*time.Second || d.FRInv != 120*time.Second || d.Wait != 5*time.Second {
		t.Errorf("defaults %+v", d)
	}
}

func TestOnReplyRouteDrop(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	var seen intLog
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
		seen.add(m.Resp.StatusCode)
		if m.Resp.StatusCode == 183 {
			m.Dropped = true
		}
		return 1
	}
	onReply := nc.bind("t_on_reply", "1")
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) { onReply(m) }))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "onr-1", branch: "z9hG4bKo1", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 183, "Session Progress", "b")
	callee.reply(req, 180, "Ringing", "b")
	caller.expectReply(180, wait)
	callee.reply(req, 200, "OK", "b")
	caller.expectReply(200, wait)
	if got := seen.get(); len(got) != 3 || got[0] != 183 || got[2] != 200 {
		t.Errorf("onreply_route saw %v", got)
	}
	caller.drain()
}

func TestOnReplyDroppedNotRelayed(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int { m.Dropped = true; return 1 }
	onReply := nc.bind("t_on_reply", 1)
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) { onReply(m) }))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "onr-2", branch: "z9hG4bKo2", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	caller.expectReply(100, wait)
	callee.reply(req, 180, "Ringing", "b")
	callee.settle()
	caller.quiet("dropped 180", 150*time.Millisecond, isCode(180))
	// Retransmissions stopped all the same (the 180 was seen).
	callee.quiet("INVITE retransmission", 3*testTimers.T1, isReq("INVITE"))
}

func TestRFC2543Matching(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "old-1", branch: "1234", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b")
	caller.expectReply(180, wait)
	caller.send(nc.addr(), inv.text())
	caller.expectReply(180, wait)
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	caller.expectReply(200, wait)
	callee.expectRequest("CANCEL", wait)
}

func TestCancelPendingUAS(t *testing.T) {
	nc := newNetCore(t, nil)
	caller := newUA(t, "caller")
	newtran, relay := nc.bind("t_newtran"), nc.bind("t_relay")
	nc.setScript(func(m *sipmsg.Msg) {
		if m.Req.IsCancel() {
			relay(m)
			return
		}
		newtran(m) // and nobody replies yet
	})
	inv := call{method: "INVITE", ruri: "sip:x@" + nc.addr().String(), callID: "uas-c", branch: "z9hG4bKuc", from: caller}
	caller.send(nc.addr(), inv.text())
	time.Sleep(30 * time.Millisecond)
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	caller.expectReply(200, wait)
	caller.expectReply(487, wait)
}

func TestRelayTo(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, gw := newUA(t, "caller"), newUA(t, "gw")
	relayTo := nc.bind("t_relay_to_udp", "127.0.0.1", int(gw.addr.Port()))
	nc.setScript(func(m *sipmsg.Msg) { relayTo(m) })
	msg := call{method: "MESSAGE", ruri: "sip:bob@gw.invalid", callID: "rt-1", branch: "z9hG4bKrt", from: caller}
	caller.send(nc.addr(), msg.text())
	r := gw.expectRequest("MESSAGE", wait)
	if r.Recipient.String() != "sip:bob@gw.invalid" {
		t.Errorf("R-URI %s", r.Recipient.String())
	}
	gw.reply(r, 200, "OK", "g")
	caller.expectReply(200, wait)
}

func TestReplyInFailureRoute(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a := newUA(t, "caller"), newUA(t, "a")
	reply := nc.bind("t_reply", 480, "Gone fishing")
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		reply(m)
		return 1
	}
	onFail := nc.bind("t_on_failure", 1)
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) { onFail(m) }))
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "fr-1", branch: "z9hG4bKf1", from: caller}
	caller.send(nc.addr(), inv.text())
	r := a.expectRequest("INVITE", wait)
	a.reply(r, 486, "Busy Here", "ta")
	got := caller.expect("final", wait, isFinal).msg.(*sip.Response)
	if got.StatusCode != 480 || got.Reason != "Gone fishing" {
		t.Errorf("final %d %s", got.StatusCode, got.Reason)
	}
}

func TestNoNewBranchesAfterCancel(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	relay := nc.bind("t_relay")
	var rets intLog
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		m.AppendBranch(sipmsg.Branch{URI: b.uri("bob"), Q: -1})
		r, _ := relay(m)
		rets.add(r)
		return 1
	}
	onFail := nc.bind("t_on_failure", 1)
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) {
		if m.Req.IsInvite() {
			onFail(m)
		}
	}))
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "fr-2", branch: "z9hG4bKf2", from: caller}
	caller.send(nc.addr(), inv.text())
	r := a.expectRequest("INVITE", wait)
	a.reply(r, 180, "Ringing", "ta")
	caller.expectReply(180, wait)
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	caller.expectReply(200, wait)
	c := a.expectRequest("CANCEL", wait)
	a.reply(c, 200, "OK", "ta")
	a.reply(r, 487, "Request Terminated", "ta")
	caller.expectReply(487, wait)
	b.quiet("INVITE after CANCEL", 100*time.Millisecond, isReq("INVITE"))
	if got := rets.get(); len(got) != 1 || got[0] != -1 {
		t.Errorf("t_relay in failure route returned %v", got)
	}
}

func TestSilentCTimer(t *testing.T) {
	nc := newNetCore(t, map[string]any{"noisy_ctimer": 0})
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	nc.setScript(relayScript(nc, nil))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "silent-1", branch: "z9hG4bKs1", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b")
	caller.expectReply(180, wait)
	callee.quiet("CANCEL", testTimers.FRInv+200*time.Millisecond, isReq("CANCEL"))
	caller.quiet("408", 50*time.Millisecond, isCode(408))
	// A late 200 still reaches the caller.
	callee.reply(req, 200, "OK", "b")
	caller.expectReply(200, wait)
}

func TestParseBranch(t *testing.T) {
	h := hashKey("x")
	for _, tc := range []struct {
		in   string
		ok   bool
		hash uint64
		idx  int
	}{
		{in: branchID(h, 0), ok: true, hash: h, idx: 0},
		{in: branchID(h, 11), ok: true, hash: h, idx: 11},
		{in: branchID(h, 12)},
		{in: "z9hG4bK776asdhds"},
		{in: "z9hG4bKxyz0123456789abcd.1"},
		{in: ""},
	} {
		gh, gi, ok := parseBranch(tc.in)
		if ok != tc.ok || (ok && (gh != tc.hash || gi != tc.idx)) {
			t.Errorf("parseBranch(%q) = %x %d %v", tc.in, gh, gi, ok)
		}
	}
}

// TestBranchAndTagText checks the branch id and the local To-tag against
// the fmt formats they replaced.
func TestBranchAndTagText(t *testing.T) {
	tm := &TM{tagPrefix: "abc"}
	for _, h := range []uint64{0, 1, 0xdeadbeef, 0x0123456789abcdef, ^uint64(0), hashKey("x")} {
		for _, idx := range []int{0, 7, 123} {
			if got, want := branchID(h, idx), fmt.Sprintf("z9hG4bK%016x.%d", h, idx); got != want {
				t.Errorf("branchID(%x, %d) = %q, want %q", h, idx, got, want)
			}
		}
		x := &txn{tm: tm, hash: h}
		if got, want := x.localToTag(), fmt.Sprintf("abc-%08x", uint32(h>>32)); got != want {
			t.Errorf("localToTag(%x) = %q, want %q", h, got, want)
		}
	}
}

func TestBuildHopRequest(t *testing.T) {
	sent := modtest.CRLF(`INVITE sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK0000000000000001.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKup
Route: <sip:p1.example.com;lr>
Max-Forwards: 69
To: Bob <sip:bob@example.com>
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.example.com>
Content-Length: 0

`)
	want := modtest.CRLF(`CANCEL sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK0000000000000001.0
Route: <sip:p1.example.com;lr>
Max-Forwards: 70
From: Alice <sip:alice@example.com>;tag=1928301774
To: Bob <sip:bob@example.com>
Call-ID: a84b4c76e66710
CSeq: 314159 CANCEL
Content-Length: 0

`)
	if got := string(buildHopRequest([]byte(sent), "CANCEL", nil)); got != want {
		t.Errorf("CANCEL:\n%s\nwant\n%s", got, want)
	}
	ack := string(buildHopRequest([]byte(sent), "ACK", []byte("To: Bob <sip:bob@example.com>;tag=x")))
	if !strings.Contains(ack, "\r\nTo: Bob <sip:bob@example.com>;tag=x\r\n") || !strings.HasPrefix(ack, "ACK sip:bob@192.0.2.4 SIP/2.0\r\n") ||
		!strings.Contains(ack, "CSeq: 314159 ACK\r\n") {
		t.Errorf("ACK:\n%s", ack)
	}
}

func TestPickBest(t *testing.T) {
	br := func(code int, flags ...string) *branch {
		b := &branch{finalCode: code, state: brCompleted}
		for _, f := range flags {
			switch f {
			case "local":
				b.state = brTerminated
			case "failed":
				b.state = brSendFailed
			}
		}
		return b
	}
	tests := []struct {
		name string
		brs  []*branch
		want int
	}{
		{name: "6xx wins", brs: []*branch{br(302), br(404), br(603)}, want: 2},
		{name: "lowest class", brs: []*branch{br(503), br(486), br(302)}, want: 2},
		{name: "lowest code in class", brs: []*branch{br(486), br(404), br(408, "local")}, want: 1},
		{name: "challenge preferred", brs: []*branch{br(404), br(407)}, want: 1},
		{name: "failed only when alone", brs: []*branch{br(503, "failed"), br(500)}, want: 1},
		{name: "all failed", brs: []*branch{br(503, "failed")}, want: 0},
		{name: "nothing final", brs: []*branch{{}}, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pickBest(tc.brs); got != tc.want {
				t.Errorf("pickBest = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNoTimerSpinWhileBranchPending(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	xp := forkScript(nc, b)
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "spin-1", branch: "z9hG4bKsp", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	rb := b.expectRequest("INVITE", wait)
	b.reply(rb, 180, "Ringing", "tb")
	a.reply(ra, 200, "OK", "ta")
	caller.expectReply(200, wait)
	c := b.expectRequest("CANCEL", wait)
	b.reply(c, 200, "OK", "tb") // but no 487: the branch stays pending
	time.Sleep(testTimers.Wait + 200*time.Millisecond)
	x := xp.Load()
	x.mu.Lock()
	fires, deleted := x.fires, x.terminated()
	x.mu.Unlock()
	if fires > 20 || deleted {
		t.Errorf("timer fired %d times, deleted %v", fires, deleted)
	}
	waitEmpty(t, nc.tm, testTimers.FRInv+wait)
}

var testKey = sipmsg.NewKey()

func TestFailureRouteCopy(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a := newUA(t, "caller"), newUA(t, "a")
	reply := nc.bind("t_reply", 480, "Later")
	type seen struct {
		flag3, val bool
		uri, orig  string
		branches   int
	}
	got := make(chan seen, 1)
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		got <- seen{m.IsFlagSet(3), m.Get(testKey) == "v", m.URIString(), m.OrigURI().String(), len(m.Branches)}
		m.SetFlag(5)
		reply(m)
		return 1
	}
	onFail := nc.bind("t_on_failure", 1)
	relay := nc.bind("t_relay")
	nc.setScript(func(m *sipmsg.Msg) {
		m.SetFlag(3)
		m.Set(testKey, "v")
		m.SetURI(a.uri("rewritten"))
		m.AppendBranch(sipmsg.Branch{URI: a.uri("second"), Q: -1})
		onFail(m)
		relay(m)
	})
	done := make(chan CompleteInfo, 1)
	nc.tm.OnComplete(func(ci CompleteInfo) { done <- ci })
	inv := call{method: "INVITE", ruri: "sip:bob@example.com", callID: "copy-1", branch: "z9hG4bKcp", from: caller}
	caller.send(nc.addr(), inv.text())
	for i := 0; i < 2; i++ {
		r := a.expectRequest("INVITE", wait)
		a.reply(r, 404, "Not Found", "ta")
	}
	s := <-got
	if !s.flag3 || !s.val || s.uri != a.uri("rewritten") || s.orig != "sip:bob@example.com" || s.branches != 0 {
		t.Errorf("failure route saw %+v", s)
	}
	caller.expectReply(480, wait)
	ci := <-done
	if ci.Flags&(1<<3|1<<5) != 1<<3|1<<5 || ci.Code != 480 || !ci.LocalReply {
		t.Errorf("completion %+v", ci)
	}
	if req := ci.Request(); req == nil || req.URIString() != a.uri("rewritten") || req.CallID() != "copy-1" {
		t.Errorf("CompleteInfo.Request() = %v", req)
	}
}

// TestOnReplyRouteFlags: as in SER's tm, the onreply route sees the flags
// the request had when it was relayed, and a flag it sets stays with the
// transaction (the next reply's route sees it).
func TestOnReplyRouteFlags(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	var seen intLog
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
		seen.add(int(m.Flags))
		m.SetFlag(9)
		return 1
	}
	onReply := nc.bind("t_on_reply", "1")
	nc.setScript(relayScript(nc, func(m *sipmsg.Msg) { m.SetFlag(6); onReply(m) }))
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "onr-flags", branch: "z9hG4bKof", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "b")
	caller.expectReply(180, wait)
	callee.reply(req, 200, "OK", "b")
	caller.expectReply(200, wait)
	if got := seen.get(); len(got) != 2 || got[0] != 1<<6 || got[1] != 1<<6|1<<9 {
		t.Errorf("onreply_route saw flags %v, want [%d %d]", got, 1<<6, 1<<6|1<<9)
	}
	caller.drain()
}
