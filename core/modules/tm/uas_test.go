package tm

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// uasScript is the admin guide's "Stateful UA" (uas.cfg): t_newtran, a log
// line for every new transaction, then 409 for a@ and 699 otherwise.
func uasScript(nc *netCore, newTrans *atomic.Int32) func(m *sipmsg.Msg) {
	newtran := nc.bind("t_newtran")
	r409 := nc.bind("t_reply", "409", "Bizzar Error")
	r699 := nc.bind("t_reply", "699", "I don't want to chat with you")
	return func(m *sipmsg.Msg) {
		ret, _ := newtran(m)
		if ret <= 0 {
			return
		}
		newTrans.Add(1)
		if strings.Contains(m.URIString(), "a@") {
			r409(m)
		} else {
			r699(m)
		}
	}
}

func TestStatefulUA(t *testing.T) {
	for _, tc := range []struct {
		name, user string
		code       int
	}{
		{name: "409 for a@", user: "a", code: 409},
		{name: "699 otherwise", user: "b", code: 699},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := newNetCore(t, nil)
			caller := newUA(t, "caller")
			var n atomic.Int32
			nc.setScript(uasScript(nc, &n))
			inv := call{method: "INVITE", ruri: "sip:" + tc.user + "@" + nc.addr().String(), callID: "uas-" + tc.user, branch: "z9hG4bKu" + tc.user, from: caller}
			caller.send(nc.addr(), inv.text())
			first := caller.expectReply(tc.code, wait)
			tag, _ := first.To().Params.Get("tag")
			if tag == "" {
				t.Fatal("no To-tag")
			}
			// A retransmission gets the same reply; the script does not
			// see it as new.
			caller.send(nc.addr(), inv.text())
			again := caller.expectReply(tc.code, wait)
			if tag2, _ := again.To().Params.Get("tag"); tag2 != tag {
				t.Errorf("retransmitted reply To-tag %q, first %q", tag2, tag)
			}
			// Timer G retransmits the negative reply until the ACK.
			caller.expectReply(tc.code, wait)
			ack := inv
			ack.method = "ACK"
			ack.extra = []string{"To: <" + inv.ruri + ">;tag=" + tag}
			caller.send(nc.addr(), ack.text())
			caller.settle()
			caller.quiet("reply after ACK", 3*testTimers.T2, isCode(tc.code))
			if got := n.Load(); got != 1 {
				t.Errorf("script saw %d new transactions, want 1", got)
			}
			waitEmpty(t, nc.tm, wait)
			if s := nc.tm.Stats(); s.RepliedLocally != 1 || s.Total != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestNewTranTwice(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then string
	}{
		{name: "t_newtran then t_relay", first: "t_newtran", then: "t_relay"},
		{name: "t_relay then t_newtran", first: "t_relay", then: "t_newtran"},
		{name: "t_relay twice", first: "t_relay", then: "t_relay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := newNetCore(t, nil)
			callee := newUA(t, "callee")
			m := modtestRequest(t, "OPTIONS", callee.uri("bob"))
			if ret, _ := nc.bind(tc.first)(m); ret != 1 {
				t.Fatalf("%s = %d", tc.first, ret)
			}
			if ret, _ := nc.bind(tc.then)(m); ret != -1 {
				t.Fatalf("second %s = %d, want -1", tc.then, ret)
			}
			want := "tm: transaction already exists for this request — t_newtran/t_relay called twice?"
			if !strings.Contains(nc.log.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, nc.log.String())
			}
			if nc.tm.Count() != 1 {
				t.Errorf("%d transactions", nc.tm.Count())
			}
		})
	}
}

func TestReplyWithoutNewTran(t *testing.T) {
	nc := newNetCore(t, nil)
	caller := newUA(t, "caller")
	reply := nc.bind("t_reply", 404, "Not Here")
	nc.setScript(func(m *sipmsg.Msg) {
		if m.Req.IsAck() {
			nc.bind("t_newtran")(m) // absorbs it
			return
		}
		reply(m)
	})
	msg := call{method: "MESSAGE", ruri: "sip:x@" + nc.addr().String(), callID: "uas-3", branch: "z9hG4bKu3", from: caller}
	caller.send(nc.addr(), msg.text())
	caller.expectReply(404, wait)
	caller.send(nc.addr(), msg.text())
	caller.expectReply(404, wait)
	// Non-INVITE: no Timer G.
	caller.quiet("retransmitted 404", 3*testTimers.T1, isCode(404))
	waitEmpty(t, nc.tm, wait)
}

func TestUASReleasedWithoutReply(t *testing.T) {
	nc := newNetCore(t, nil)
	m := modtestRequest(t, "OPTIONS", "sip:x@127.0.0.1")
	if ret, _ := nc.bind("t_newtran")(m); ret != 1 {
		t.Fatal("t_newtran failed")
	}
	waitEmpty(t, nc.tm, testTimers.FR+wait)
	if !strings.Contains(nc.log.String(), "released without a final reply") {
		t.Errorf("no release log:\n%s", nc.log.String())
	}
}

func TestReplicate(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, peer := newUA(t, "caller"), newUA(t, "peer")
	replicate := nc.bind("t_replicate", "127.0.0.1", int(peer.addr.Port()))
	var rets intLog
	nc.setScript(func(m *sipmsg.Msg) {
		// save() would have replied statelessly here.
		ret, _ := replicate(m)
		rets.add(ret)
	})
	done := make(chan CompleteInfo, 1)
	nc.tm.OnComplete(func(ci CompleteInfo) { done <- ci })
	reg := call{method: "REGISTER", ruri: "sip:" + nc.addr().String(), callID: "reg-1", branch: "z9hG4bKr1", from: caller,
		extra: []string{"To: <sip:alice@example.com>", "Expires: 3600"}}
	caller.send(nc.addr(), reg.text())
	r := peer.expectRequest("REGISTER", wait)
	if r.Recipient.String() != reg.ruri || r.GetHeader("Expires") == nil {
		t.Errorf("replica differs:\n%s", r.String())
	}
	peer.reply(r, 200, "OK", "p1")
	ci := <-done
	if ci.Code != 200 || ci.Upstream {
		t.Errorf("completion %+v", ci)
	}
	caller.quiet("the peer's reply", 100*time.Millisecond, func(sip.Message) bool { return true })
	// A retransmitted REGISTER is absorbed by the replication transaction.
	caller.send(nc.addr(), reg.text())
	peer.quiet("a second replica", 100*time.Millisecond, isReq("REGISTER"))
	if got := rets.get(); len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Errorf("t_replicate returned %v", got)
	}
	waitEmpty(t, nc.tm, wait)
}
