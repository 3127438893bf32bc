package tm

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// canceling is SER's reason phrase of the 200 answering a CANCEL.
const canceling = "canceling"

// upstreamCancel handles a CANCEL that matches an INVITE transaction
// (RFC 3261 §9.2, §16.10): the CANCEL gets its own transaction answered
// 200 at once (retransmissions get the 200 again), and the INVITE's
// pending branches are cancelled. ok is false when no INVITE matches: the
// CANCEL is then relayed like any request.
func (t *TM) upstreamCancel(m *sipmsg.Msg) (ret int, ok bool) {
	var buf [keyRoom]byte
	key, kok := t.appendRequestKey(buf[:0], m, "CANCEL")
	if !kok {
		return 0, false
	}
	h := hashKey(key)
	if old, w := t.table.getKey(h, key); old != nil || w != nil {
		t.retransmission(old, w)
		return 0, true
	}
	// An INVITE in the wait log is complete: the CANCEL is answered and
	// cancels nothing.
	inv, iw := t.lookupRequest(m, "INVITE")
	if inv == nil && iw == nil {
		return 0, false
	}
	if t.full(m) {
		return -1, true
	}
	cx := t.newTxn(m, string(key), h, true)
	if old, w := t.table.insert(cx); old != nil || w != nil {
		t.retransmission(old, w)
		return 0, true
	}
	t.stats.total.Add(1)
	state(m).txn = cx
	cx.mu.Lock()
	if err := t.replyLocked(cx, m, 200, canceling, module.ReplyOpts{}); err != nil {
		t.log.WarnContext(module.MsgCtx(m), "tm: answering CANCEL failed", "err", err)
	}
	cx.unlock()

	if inv != nil {
		inv.mu.Lock()
		t.cancelTxn(inv) // nothing when it completed (or moved) meanwhile
		inv.unlock()
	}
	return 1, true
}

// cancelTxn cancels a transaction's pending branches (an upstream CANCEL,
// t_uac_cancel). A UAS transaction still unanswered gets 487 (§9.2).
// Called with x locked.
func (t *TM) cancelTxn(x *txn) {
	if x.terminated() || x.completed() {
		return
	}
	x.forbidNew()
	if len(x.branches) == 0 {
		if m := t.template(x); x.upstream() && m != nil {
			if err := t.replyLocked(x, m, 487, "Request Terminated", module.ReplyOpts{}); err != nil {
				t.log.WarnContext(module.CallIDCtx(x.callID), "tm: answering cancelled request failed", "err", err)
			}
		}
		return
	}
	for _, br := range x.branches {
		if br.pending() {
			t.cancelBranch(x, br)
		}
	}
	t.checkFinal(x)
}

// cancelBranch cancels one pending branch: a CANCEL goes out when the
// branch had a provisional reply; otherwise the CANCEL waits for the first
// provisional (RFC 3261 §9.1) and the branch counts as terminated (487)
// for choosing the reply. The caller runs checkFinal when needed.
func (t *TM) cancelBranch(x *txn, br *branch) {
	if !br.pending() || br.cancel != cancelNone {
		return
	}
	br.toCancel(x, cancelWanted)
	if br.status > 0 {
		t.sendCancel(x, br)
		return
	}
	br.endLocally(x, 487)
}

// sendCancel sends the CANCEL of a branch and starts its retransmission
// (Timer E over UDP), for at most 64·T1.
func (t *TM) sendCancel(x *txn, br *branch) {
	if br.cancel != cancelWanted {
		return
	}
	req := buildHopRequest(br.req, "CANCEL", nil)
	if req == nil {
		t.log.ErrorContext(module.CallIDCtx(x.callID), "tm: cannot build CANCEL", "branch", branchID(x.hash, br.idx))
		return
	}
	tt := t.timers.Load()
	now := clockNow()
	br.cancelReq = req
	br.toCancel(x, cancelTrying)
	br.cancelUntil = now.Add(tt.timerH())
	if br.dst.Proto == sipmsg.ProtoUDP {
		br.cancelN = 1
		br.cancelAt = now.Add(tt.T1)
	}
	t.send(br.dst, req)
}

// buildHopRequest builds the CANCEL or the ACK (for a non-2xx final reply)
// of a branch from the request sent (RFC 3261 §9.1, §17.1.1.3): same
// Request-URI, our Via only, the Route headers, From, Call-ID and the CSeq
// number; the To of the ACK comes from the reply (toLine, "To: …").
func buildHopRequest(sent []byte, method string, toLine []byte) []byte {
	head, _, _ := bytes.Cut(sent, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\r\n"))
	if len(lines) < 2 {
		return nil
	}
	first := strings.Fields(string(lines[0]))
	if len(first) != 3 {
		return nil
	}
	var via, from, to, callID, cseq []byte
	var routes [][]byte
	for _, l := range lines[1:] {
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(string(name))) {
		case "via", "v":
			if via == nil {
				via = bytes.TrimSpace(val)
			}
		case "route":
			routes = append(routes, l)
		case "from", "f":
			from = bytes.TrimSpace(val)
		case "to", "t":
			to = bytes.TrimSpace(val)
		case "call-id", "i":
			callID = bytes.TrimSpace(val)
		case "cseq":
			cseq = bytes.TrimSpace(val)
		}
	}
	num, _, _ := strings.Cut(string(cseq), " ")
	if via == nil || from == nil || to == nil || callID == nil || num == "" {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(method + " " + first[1] + " SIP/2.0\r\n")
	b.WriteString("Via: ")
	b.Write(via)
	b.WriteString("\r\n")
	for _, r := range routes {
		b.Write(r)
		b.WriteString("\r\n")
	}
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: ")
	b.Write(from)
	b.WriteString("\r\n")
	if toLine != nil {
		b.Write(toLine)
	} else {
		b.WriteString("To: ")
		b.Write(to)
	}
	b.WriteString("\r\n")
	b.WriteString("Call-ID: ")
	b.Write(callID)
	b.WriteString("\r\n")
	b.WriteString("CSeq: " + num + " " + method + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// ackFor builds the hop-by-hop ACK for a negative final reply of a branch.
func ackFor(br *branch, resp *sip.Response) []byte {
	to := resp.To()
	if to == nil {
		return nil
	}
	return buildHopRequest(br.req, "ACK", []byte(to.String()))
}

// CancelCall cancels the INVITE transaction with the given Call-ID and
// CSeq number (t_uac_cancel): its pending branches are cancelled. It
// reports whether such a transaction exists.
func (t *TM) CancelCall(callID string, cseq string) bool {
	n, err := strconv.ParseUint(strings.TrimSpace(cseq), 10, 32)
	if err != nil {
		return false
	}
	x := t.table.find(func(x *txn) bool {
		return x.invite() && x.callID == callID && uint64(x.cseq) == n
	})
	var w waitRec
	if x == nil {
		w = t.table.findWaiting(func(r waitRec) bool {
			return r.invite() && string(r.callID()) == callID && uint64(r.cseq()) == n
		})
	} else {
		x, w = t.lockLive(x)
	}
	if w != nil {
		return true // complete: nothing to cancel
	}
	if x == nil {
		return false
	}
	ok := !x.terminated()
	t.cancelTxn(x)
	x.unlock()
	return ok
}
