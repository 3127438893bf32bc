package tm

import (
	"errors"
	"fmt"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/sipmsg"
)

// errRetransmission tells the script to stop: the request was a
// retransmission and the last reply was sent again.
var errRetransmission = errors.New("tm: retransmission absorbed")

// NewTran creates the server transaction for the request in m (t_newtran):
// 1 a new transaction, 0 a retransmission (the last reply was re-sent, or
// an ACK to a negative reply was absorbed), -1 an error. An ACK that
// matches nothing returns 1 without creating a transaction.
func (t *TM) NewTran(m *sipmsg.Msg) int {
	if m.Req == nil {
		return -1
	}
	st := state(m)
	if st.failure || st.reply {
		return -1
	}
	if st.txn != nil {
		t.twice(m)
		return -1
	}
	if m.Req.IsAck() {
		if t.absorbACK(m) {
			return 0
		}
		return 1
	}
	x, ret := t.create(m, true)
	if x == nil {
		return ret
	}
	x.mu.Lock()
	tt := t.timers.Load()
	release := tt.FR
	if x.invite() {
		release = tt.FRInv
	}
	x.uasUntil = clockNow().Add(release)
	x.unlock()
	return 1
}

// Reply sends a stateful reply to the request in m (t_reply): it is kept
// for retransmissions, and a negative reply to an INVITE is retransmitted
// (Timer G over UDP) until the ACK comes. The transaction is created when
// the script did not call t_newtran. In a failure route it replies for
// the transaction the route runs for.
func (t *TM) Reply(m *sipmsg.Msg, code int, reason string) error {
	return t.ReplyWith(m, code, reason, module.ReplyOpts{})
}

// ReplyWith is Reply with extra reply parts (headers, body, To-tag).
func (t *TM) ReplyWith(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) error {
	if m.Req == nil {
		return fmt.Errorf("tm: reply: not a request")
	}
	if m.Req.IsAck() {
		return fmt.Errorf("tm: reply: will not reply to ACK")
	}
	st := state(m)
	if st.failure {
		return t.replyLocked(st.txn, m, code, reason, o)
	}
	if st.txn == nil {
		switch t.NewTran(m) {
		case 0:
			return errRetransmission
		case 1:
		default:
			return fmt.Errorf("tm: reply: cannot create a transaction")
		}
	}
	x := t.relock(st.txn)
	if x == nil {
		return fmt.Errorf("tm: reply: transaction already deleted")
	}
	st.txn = x // revived when it had moved to the wait log
	err := t.replyLocked(x, m, code, reason, o)
	x.unlock()
	return err
}

// replyLocked builds and sends a local reply for x (locked) from the
// request context m.
func (t *TM) replyLocked(x *txn, m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) error {
	if x.terminated() {
		return fmt.Errorf("tm: reply: transaction already deleted")
	}
	if !x.upstream() {
		return fmt.Errorf("tm: reply: not a server transaction")
	}
	if code < 100 || code > 699 {
		return fmt.Errorf("tm: reply: code %d out of range", code)
	}
	if x.status >= 200 {
		return fmt.Errorf("tm: reply: can't generate %d reply when a final %d was sent out", code, x.status)
	}
	if st := peekState(m); st != nil && st.failure {
		x.flags = m.Flags // flags set in the failure route count for accounting
	}
	if o.ToTag == "" {
		o.ToTag = x.localToTag()
	}
	if code >= 300 && code < 400 {
		o.Headers = append(sl.ContactLines(m), o.Headers...)
	}
	if err := t.replyUp(x, m, code, reason, o); err != nil {
		return fmt.Errorf("tm: reply %d: %w", code, err)
	}
	x.status = code
	if code < 200 {
		if x.invite() && !x.uasUntil.IsZero() {
			x.uasUntil = clockNow().Add(t.timers.Load().FRInv)
		}
		return nil
	}
	t.finalize(x, code, reason, nil, true)
	return nil
}

// RetransmitReply sends the last reply of m's transaction again
// (t_retransmit_reply).
func (t *TM) RetransmitReply(m *sipmsg.Msg) int {
	st := peekState(m)
	if st != nil && st.failure {
		return -1 // a request route function (SER 0.9.6)
	}
	x := t.requestTxn(m)
	if x == nil {
		return -1
	}
	x, w := t.lockLive(x)
	if w != nil {
		if !t.resend(w) {
			return -1
		}
		return 1
	}
	if x == nil {
		return -1
	}
	ok := !x.terminated() && x.upstream() && x.lastWire != nil
	if ok {
		if err := t.core.Send(x.lastDst, x.lastWire); err != nil {
			ok = false
		}
	}
	x.unlock()
	if !ok {
		return -1
	}
	return 1
}

// Release lets m's transaction end without a reply (t_release): it is put
// on the wait timer and deleted.
func (t *TM) Release(m *sipmsg.Msg) int {
	st := peekState(m)
	if st == nil || st.txn == nil || st.failure {
		return -1
	}
	x := st.txn
	x.mu.Lock()
	x.uasUntil = 0
	x.forbidNew()
	x.putOnWait(t.timers.Load().Wait)
	x.unlock()
	return 1
}

// errNoTxn reports a transaction id that names no live transaction.
var errNoTxn = errors.New("tm: no such transaction")

// errAlreadyReplied reports a final reply to a completed transaction.
var errAlreadyReplied = errors.New("tm: transaction already has a final reply")

// ReplyTo replies to the transaction with the printable id bucket:label
// (FIFO t_reply): the reply is built from the stored request with the
// given To-tag, headers and body, and kept for retransmissions.
func (t *TM) ReplyTo(bucket, label uint32, code int, reason string, o module.ReplyOpts) error {
	x := t.table.byIdent(bucket, label)
	var w waitRec
	if x == nil {
		w = t.table.findWaiting(func(r waitRec) bool { return bucketOf(r.hash()) == bucket && r.label() == label })
	} else {
		x, w = t.lockLive(x)
	}
	if w != nil {
		// Complete, and without its request any more (as below).
		if code >= 200 {
			return errAlreadyReplied
		}
		return errNoTxn
	}
	if x == nil {
		return errNoTxn
	}
	if x.terminated() {
		x.unlockNoTimer()
		return errNoTxn
	}
	if x.completed() && code >= 200 {
		// Completed transactions no longer keep their request.
		x.unlockNoTimer()
		return errAlreadyReplied
	}
	m := t.template(x)
	if m == nil {
		x.unlockNoTimer()
		return errNoTxn
	}
	err := t.replyLocked(x, m, code, reason, o)
	x.unlock()
	return err
}
