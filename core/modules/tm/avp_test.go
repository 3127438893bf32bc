package tm

import (
	"sync"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// TestAVPsFollowTheTransaction: the AVPs the request route set are seen
// by the onreply route and by the failure route (SER: AVPs belong to the
// transaction); what a route adds stays with the transaction, and what
// the request route does after t_relay does not leak into it.
func TestAVPsFollowTheTransaction(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, a, b := newUA(t, "caller"), newUA(t, "a"), newUA(t, "b")
	relay := nc.bind("t_relay")
	fwd := sipmsg.StrName("callfwd")
	var (
		mu      sync.Mutex
		replies []string // callfwd as each onreply route saw it
		failure []string // callfwd values the failure route saw
	)
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
		v, _ := m.AVPs().First(fwd)
		mu.Lock()
		replies = append(replies, v.String())
		mu.Unlock()
		if err := m.AddAVP(sipmsg.IntName(7), sipmsg.IntValue(m.Resp.StatusCode)); err != nil {
			t.Error(err)
		}
		return 1
	}
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		mu.Lock()
		for _, v := range m.AVPs().Values(fwd) {
			failure = append(failure, v.String())
		}
		mu.Unlock()
		if v, ok := m.AVPs().First(sipmsg.IntName(7)); !ok || v.Int != 486 {
			t.Errorf("failure route: i:7 = %v %v, want the onreply route's 486", v, ok)
		}
		if _, ok := m.AVPs().First(sipmsg.StrName("late")); ok {
			t.Errorf("an AVP written after t_relay reached the transaction")
		}
		v, _ := m.AVPs().First(fwd)
		if err := m.SetURI(v.Str); err != nil {
			t.Error(err)
		}
		relay(m)
		return 1
	}
	onNeg, onReply := nc.bind("t_on_negative", "1"), nc.bind("t_on_reply", "1")
	nc.setScript(func(m *sipmsg.Msg) {
		m.AddAVP(fwd, sipmsg.StrValue("sip:old@example.com"))
		m.AddAVP(fwd, sipmsg.StrValue(b.uri("carol")))
		onNeg(m)
		onReply(m)
		relay(m)
		m.AddAVP(sipmsg.StrName("late"), sipmsg.IntValue(1))
	})
	inv := call{method: "INVITE", ruri: a.uri("bob"), callID: "avp-1", branch: "z9hG4bKavp1", from: caller}
	caller.send(nc.addr(), inv.text())
	ra := a.expectRequest("INVITE", wait)
	a.reply(ra, 486, "Busy Here", "ta")
	a.expectRequest("ACK", wait)
	rb := b.expectRequest("INVITE", wait)
	if rb.Recipient.User != "carol" {
		t.Errorf("forwarded to %s", rb.Recipient.String())
	}
	b.reply(rb, 200, "OK", "tb")
	caller.expectReply(200, wait)
	mu.Lock()
	defer mu.Unlock()
	if len(failure) != 2 || failure[0] != b.uri("carol") || failure[1] != "sip:old@example.com" {
		t.Errorf("failure route saw callfwd = %v (newest first)", failure)
	}
	if len(replies) == 0 || replies[0] != b.uri("carol") {
		t.Errorf("onreply routes saw callfwd = %v", replies)
	}
}

// TestNoAVPsNoList: a request whose script sets no AVP gives its
// transaction no list (nothing allocated on the relay path).
func TestNoAVPsNoList(t *testing.T) {
	m := &sipmsg.Msg{}
	if m.AVPs().Clone() != nil || m.AVPs().Len() != 0 {
		t.Fatal("empty list cloned into something")
	}
}

// TestFrInvTimerAVP: the callee_fr_inv_timer AVP (SER 0.9.6's default
// fr_inv_timer_avp) shortens fr_inv_timer for its transaction: a callee
// that rings and never answers is given up after the AVP's 1 s, not the
// configured 60 s; a transaction without the AVP keeps fr_inv_timer.
func TestFrInvTimerAVP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		avp    sipmsg.AVPName
		value  sipmsg.AVPValue
	}{
		{"default name, integer", nil, sipmsg.StrName("callee_fr_inv_timer"), sipmsg.IntValue(1)},
		{"i:25, numeric string", map[string]any{"fr_inv_timer_avp": "i:25"}, sipmsg.IntName(25), sipmsg.StrValue("1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := newNetCore(t, tc.params)
			tt := testTimers
			tt.FRInv = time.Minute
			nc.tm.SetTimers(tt)
			caller, callee := newUA(t, "caller"), newUA(t, "callee")
			relay := nc.bind("t_relay")
			nc.setScript(func(m *sipmsg.Msg) {
				m.AddAVP(tc.avp, tc.value)
				relay(m)
			})
			inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "avp-fr", branch: "z9hG4bKavpfr", from: caller}
			caller.send(nc.addr(), inv.text())
			r := callee.expectRequest("INVITE", wait)
			callee.reply(r, 180, "Ringing", "tr")
			caller.expectReply(180, wait)
			// Well before the configured minute: the AVP's second.
			caller.expectReply(408, 10*time.Second)
		})
	}
	if err := setFrInvAVP(New(), modtest.Str("$alias")); err == nil {
		t.Error("an alias accepted for fr_inv_timer_avp")
	}
}
