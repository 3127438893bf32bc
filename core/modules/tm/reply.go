package tm

import (
	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// HandleReply claims a reply to one of tm's branches (Exports.OnReply):
// the top Via carries a branch id of ours and the transaction is alive. A
// reply for a deleted transaction is left to the core's stateless
// forwarding (late 2xx retransmissions must still reach the caller).
func (t *TM) HandleReply(m *sipmsg.Msg) bool {
	resp := m.Resp
	if resp == nil {
		return false
	}
	via := resp.Via()
	if via == nil {
		return false
	}
	b, _ := via.Params.Get("branch")
	h, idx, ok := parseBranch(b)
	if !ok {
		return false
	}
	x, w := t.table.get(h)
	for {
		if w != nil {
			if t.waitReply(w, idx, m) {
				return true
			}
			x = t.revive(h)
		}
		if x, w = t.lockLive(x); w == nil {
			break
		}
	}
	if x == nil {
		return false
	}
	if x.terminated() {
		x.unlockNoTimer()
		return false
	}
	if idx >= len(x.branches) || resp.CSeq() == nil {
		x.unlockNoTimer()
		return true
	}
	br := x.branches[idx]
	method := string(resp.CSeq().MethodName)
	switch {
	case method == "CANCEL" && x.method != "CANCEL":
		// The reply to our hop-by-hop CANCEL ends its retransmissions.
		if br.cancel != cancelTrying {
			// Not a CANCEL we sent, or its final reply again.
		} else if resp.StatusCode >= 200 {
			br.toCancel(x, cancelDone)
		} else {
			br.cancelAt = 0
		}
	case method != x.method:
		// Not a reply to this request (a broken peer): absorbed.
	default:
		t.branchReply(x, br, m)
	}
	x.unlock()
	return true
}

// branchReply processes a reply to the request of branch br (x locked).
func (t *TM) branchReply(x *txn, br *branch, m *sipmsg.Msg) {
	code := m.Resp.StatusCode
	// raw is what is relayed upstream when the reply reaches it unchanged:
	// an onreply route may change it, and then it is serialised again.
	raw := m.Raw
	if x.onReply > 0 && x.upstream() {
		raw = nil
		st := state(m)
		st.txn, st.reply = x, true
		// SER's tm: the onreply route sees the transaction's flags (set
		// on the request) and AVPs, and what it sets stays with the
		// transaction.
		m.Flags = x.flags
		m.SetAVPs(x.avps)
		if x.snap != nil {
			m.Script = x.snap.script // the script the transaction started under
		}
		t.core.RunRoute(module.OnReply, x.onReply, m)
		x.flags = m.Flags
		x.avps = m.AVPs()
		if m.Dropped && code < 200 {
			t.provisional(x, br, code, nil, nil)
			return
		}
	}
	resp := m.Resp
	resp.RemoveHeader("Via") // ours
	if code < 200 {
		t.provisional(x, br, code, resp, raw)
		return
	}
	t.finalReply(x, br, resp, m.Raw, raw)
}

// provisional handles a 1xx: retransmissions stop (INVITE) or slow down
// to T2 (others), an INVITE branch waits fr_inv_timer from now on, a
// wanted CANCEL goes out, and the reply is relayed (not 100, not when
// resp is nil: dropped by the onreply route); raw as for sendUp.
func (t *TM) provisional(x *txn, br *branch, code int, resp *sip.Response, raw []byte) {
	if br.cancel == cancelWanted {
		t.sendCancel(x, br)
	}
	if !br.pending() {
		return
	}
	if br.state != brProceeding {
		br.to(x, brProceeding)
	}
	tt := t.timers.Load()
	now := clockNow()
	last := br.status
	if code > br.status {
		br.status = code
	}
	if x.invite() {
		br.retrAt = 0
		// fr_inv_timer restarts on each provisional reply, or with
		// restart_fr_on_each_reply=0 only on the first one and on a
		// higher 18x (SER 0.9.6's rule).
		if !t.noRestartFR || last < code && (code >= 180 || last == 0) {
			br.frAt = now.Add(t.frInv(x, tt.FRInv))
		}
	} else if !br.retrAt.IsZero() {
		br.retrAt = now.Add(tt.T2)
	}
	if resp == nil || code == 100 || !x.upstream() || x.status >= 200 {
		return
	}
	if err := t.sendUp(x, resp, raw); err != nil {
		t.log.DebugContext(module.CallIDCtx(x.callID), "tm: relaying provisional reply failed", "err", err)
		return
	}
	if code > x.status {
		x.status = code
	}
}

// finalReply handles a final reply of a branch; raw is the received
// message, relay what may be relayed as it came (nil: serialise resp).
func (t *TM) finalReply(x *txn, br *branch, resp *sip.Response, raw, relay []byte) {
	code := resp.StatusCode
	if br.received() {
		// A retransmission: ACK a negative one again, relay a 2xx.
		if code >= 300 {
			if br.ack != nil {
				t.send(br.dst, br.ack)
			}
		} else if x.invite() && x.upstream() {
			t.relayUp(x, resp, relay)
		}
		return
	}
	wasLocal := !br.pending()
	br.to(x, brCompleted)
	br.final, br.raw, br.finalCode = resp, raw, code
	br.retrAt, br.frAt = 0, 0
	if x.invite() && code >= 300 {
		br.ack = ackFor(br, resp)
		if br.ack != nil {
			t.send(br.dst, br.ack)
		}
	}
	if code < 300 {
		// 2xx: forwarded at once (for INVITE every one, RFC 3261 §16.7
		// step 10); the other branches are cancelled.
		if x.upstream() && (x.invite() || x.status < 200) {
			t.relayUp(x, resp, relay)
		}
		x.forbidNew()
		t.finalize(x, code, resp.Reason, resp, false)
		t.cancelPending(x)
		return
	}
	if wasLocal {
		x.release()
		return
	}
	if code >= 600 && x.invite() {
		// §16.7 step 5: a 6xx cancels the other branches; no new ones.
		x.forbidNew()
		t.cancelPending(x)
	}
	t.checkFinal(x)
	x.release()
}

// relayUp sends a downstream reply (our Via removed) to the previous hop;
// raw as for sendUp.
func (t *TM) relayUp(x *txn, resp *sip.Response, raw []byte) {
	if err := t.sendUp(x, resp, raw); err != nil {
		t.log.WarnContext(module.CallIDCtx(x.callID), "tm: relaying reply failed", "code", resp.StatusCode, "err", err)
		return
	}
	if resp.StatusCode > x.status || x.status < 200 {
		x.status = resp.StatusCode
	}
}

// checkFinal completes the transaction when no branch is pending: the
// failure route runs for the best reply (and may start new branches or
// reply itself), else the best reply goes upstream (x locked).
func (t *TM) checkFinal(x *txn) {
	if x.completed() || len(x.branches) == 0 || x.pendingBranches() {
		return
	}
	bi := pickBest(x.branches)
	if bi < 0 {
		return
	}
	if n := x.onNegative; n > 0 && x.upstream() && x.snap != nil {
		x.onNegative = 0
		if t.runFailure(x, n, x.branches[bi]) {
			return
		}
		if x.completed() {
			return
		}
		bi = pickBest(x.branches)
	}
	t.sendBest(x, x.branches[bi])
}

// pickBest chooses the reply to forward (RFC 3261 §16.7 step 6): a 6xx if
// any, else the lowest class; within it, replies that help the caller
// retry (401, 407, 415, 420, 484) first, then the lowest code (SER's
// t_pick_branch). Branches that could not be sent count only when
// nothing else exists. It returns -1 when no branch has a final reply.
func pickBest(brs []*branch) int {
	best := -1
	for i, br := range brs {
		if br.finalCode < 300 {
			continue
		}
		if best < 0 || better(br, brs[best]) {
			best = i
		}
	}
	return best
}

func better(a, b *branch) bool {
	if af, bf := a.state == brSendFailed, b.state == brSendFailed; af != bf {
		return !af
	}
	ca, cb := a.finalCode/100, b.finalCode/100
	if (ca == 6) != (cb == 6) {
		return ca == 6
	}
	if ca != cb {
		return ca < cb
	}
	if pa, pb := helpful(a.finalCode), helpful(b.finalCode); pa != pb {
		return pa
	}
	return a.finalCode < b.finalCode
}

func helpful(code int) bool {
	switch code {
	case 401, 407, 415, 420, 484:
		return true
	}
	return false
}

// sendBest forwards the chosen final reply upstream (or generates it when
// it is local) and completes the transaction.
func (t *TM) sendBest(x *txn, br *branch) {
	code := br.finalCode
	if !br.received() {
		reason := errorText(code)
		if m := t.template(x); x.upstream() && m != nil {
			if err := t.replyUp(x, m, code, reason, module.ReplyOpts{ToTag: x.localToTag()}); err != nil {
				t.log.WarnContext(module.CallIDCtx(x.callID), "tm: sending local reply failed", "code", code, "err", err)
			} else if code > x.status || x.status < 200 {
				x.status = code
			}
		}
		t.finalize(x, code, reason, nil, true)
		return
	}
	resp := br.final
	if code == 401 || code == 407 {
		mergeChallenges(resp, br, x.branches)
	}
	if code == 503 {
		// §16.7 step 6: a 503 is converted to 500.
		resp.StatusCode, resp.Reason = 500, errorText(500)
		code = 500
	}
	if x.upstream() {
		// Serialised: the challenges may have been merged, a 503 turned
		// into 500, an onreply route may have changed it.
		t.relayUp(x, resp, nil)
	}
	t.finalize(x, code, resp.Reason, resp, false)
}

// mergeChallenges adds the WWW-Authenticate and Proxy-Authenticate values
// of every other 401/407 reply to the chosen one (§16.7 step 7).
func mergeChallenges(resp *sip.Response, chosen *branch, brs []*branch) {
	for _, br := range brs {
		if br == chosen || !br.received() || (br.finalCode != 401 && br.finalCode != 407) {
			continue
		}
		for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
			for h := range sipmsg.HeadersNamed(br.final, name) {
				resp.AppendHeader(sip.NewHeader(name, h.Value()))
			}
		}
	}
}

// branchTimeout handles a branch whose final response timer fired: a local
// 408 (an INVITE branch that rang is cancelled), or with noisy_ctimer off
// the silent release of a lone ringing INVITE branch (x locked).
func (t *TM) branchTimeout(x *txn, br *branch) {
	t.stats.timeouts.Add(1)
	br.retrAt, br.frAt = 0, 0
	if x.invite() && br.status > 0 && !t.noisy && !x.local() && len(x.branches) == 1 && x.onNegative == 0 {
		t.log.DebugContext(module.CallIDCtx(x.callID), "tm: transaction silently released (noisy_ctimer off)", "id", x.TransID())
		br.endLocally(x, 408)
		x.forbidNew()
		x.putOnWait(t.timers.Load().Wait)
		return
	}
	if x.invite() && br.status > 0 {
		if br.cancel == cancelNone {
			br.toCancel(x, cancelWanted)
		}
		t.sendCancel(x, br)
	}
	br.endLocally(x, 408)
	t.checkFinal(x)
}
