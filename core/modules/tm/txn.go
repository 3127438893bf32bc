package tm

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// txn is one transaction: the server side (the request received, the
// replies sent upstream) and the client side (its branches).
type txn struct {
	mu sync.Mutex
	tm *TM

	key    string // request matching key (local transactions: unique)
	hash   uint64
	bucket uint32
	label  uint32

	method string
	callID string
	cseq   uint32
	// state is the server side's state, bits what the transaction is and
	// whether it takes new branches (fsm.go).
	state   txnState
	bits    txnFlags
	created instant

	// snap is the request when the transaction was created (for local
	// replies and failure routes); nil for local transactions.
	snap  *snapshot
	rcv   sipmsg.RcvInfo
	flags sipmsg.Flags
	vals  []msgVal // other modules' per-message values, when any
	// avps are the request's AVPs, copied when the transaction was
	// created; the failure and onreply routes work on them (nil: none).
	avps  *sipmsg.AVPList
	force *sipmsg.Socket

	onNegative int
	onReply    int

	// Server side.
	status int // highest status sent upstream
	// lastWire is the last reply sent upstream as sent, to lastDst (for
	// retransmissions). Bytes rather than the parsed reply: a completed
	// transaction keeps no pointers the garbage collector must mark.
	lastWire []byte
	lastDst  sipmsg.Dest
	gAt      instant // Timer G: next retransmission of a negative reply
	gIv      time.Duration
	hAt      instant // Timer H: give up waiting for the ACK
	uasUntil instant // a UAS transaction nobody replied to is released then

	// Client side.
	branches []*branch

	// Lifecycle.
	timerAt instant // the deadline x is queued for (zero: none)
	qAt     instant // timerQueue's copy of it and x's heap index + 1
	qIdx    int     // (both guarded by the queue's lock)
	fires   int     // timer callbacks run (tests watch for busy loops)
	waitAt  instant // delete then (when every branch is final)

	// uacDone receives the outcome of a local UAC transaction.
	uacDone func(UACResult)

	// after are callbacks to run once the lock is released.
	after []func()
}

// msgVal is another module's per-message value (sipmsg.Msg.Get), kept
// with the transaction for its failure routes: a list of those set rather
// than an array of every slot (one or two are usually set, of 16).
type msgVal struct {
	k sipmsg.Key
	v any
}

// branch is one client transaction of a transaction.
type branch struct {
	idx int
	dst sipmsg.Dest
	req []byte // the request as sent (its Via branch is branchID(hash, idx))

	retrN  int
	retrAt instant // next retransmission (UDP, before a reply)
	frAt   instant // final response timer

	// state is the client transaction's state, cancel its CANCEL's
	// (fsm.go).
	state  branchState
	cancel cancelState
	// blind is a branch that is never sent (t_write_*): only its final
	// response timer runs, answering 408 when nobody replied. What the
	// branch is, fixed at creation; it runs the same states.
	blind bool

	status    int           // highest provisional received
	finalCode int           // 0 while pending
	final     *sip.Response // the final reply received (nil when local)
	raw       []byte        // the final reply's bytes as received

	cancelReq   []byte
	cancelN     int
	cancelAt    instant
	cancelUntil instant

	ack []byte // ACK for the negative final reply (resent on retransmissions)
}

// localToTag is the To-tag of the replies this server generates for x
// (derived on demand rather than kept in every transaction).
func (x *txn) localToTag() string {
	var buf [64]byte
	b := append(append(buf[:0], x.tm.tagPrefix...), '-')
	return string(appendHex(b, x.hash>>32, 8))
}

// TransID returns the printable id "hash:label" of the transaction, as
// SER printed it (t_reply over the FIFO takes it).
func (x *txn) TransID() string {
	return strconv.FormatUint(uint64(x.bucket), 10) + ":" + strconv.FormatUint(uint64(x.label), 10)
}

// defer runs f after the lock is released.
func (x *txn) defer_(f func()) { x.after = append(x.after, f) }

// unlock re-arms the timer, moves the transaction to the wait log
// (waitlog.go) or deletes it, releases the lock and runs the deferred
// callbacks (they do not use x: a moved x is fine).
func (x *txn) unlock() {
	if !x.terminated() {
		now := clockNow()
		if x.deletable(now) {
			x.remove()
		} else if !x.compact(now) {
			x.reschedule()
		}
	}
	x.unlockNoTimer()
}

func (x *txn) unlockNoTimer() {
	after := x.after
	x.after = nil
	x.mu.Unlock()
	for _, f := range after {
		f()
	}
}

// deletable reports whether the wait time is over and no branch is still
// pending.
func (x *txn) deletable(now instant) bool {
	if x.waitAt.IsZero() || now.Before(x.waitAt) {
		return false
	}
	for _, br := range x.branches {
		if br.pending() {
			return false
		}
	}
	return true
}

// putOnWait schedules the deletion d from now (or keeps an earlier one).
func (x *txn) putOnWait(d time.Duration) {
	at := clockNow().Add(d)
	if !x.waiting() {
		x.tm.stats.waiting.Add(1)
	}
	if x.waitAt.IsZero() || at.Before(x.waitAt) {
		x.waitAt = at
	}
}

// waiting reports whether x counts in the "waiting" statistic: it is on
// the wait timer, or its negative INVITE reply waits for the ACK.
func (x *txn) waiting() bool {
	return !x.waitAt.IsZero() || x.state == txnCompleted && x.invite() && x.upstream()
}

func (x *txn) remove() {
	if x.waiting() {
		x.tm.stats.waiting.Add(-1)
	}
	x.to(txnTerminated)
	x.tm.queueOf(x).cancel(x)
	x.tm.table.remove(x)
	x.tm.stats.deleted.Add(1)
}

// nextDeadline is the earliest time the timer must handle something.
func (x *txn) nextDeadline() instant {
	var next instant
	take := func(t instant) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, br := range x.branches {
		if br.pending() {
			take(br.retrAt)
			take(br.frAt)
		}
		if br.cancel == cancelTrying {
			take(br.cancelAt)
			take(br.cancelUntil)
		}
	}
	take(x.gAt)
	take(x.hAt)
	take(x.uasUntil)
	if !x.pendingBranches() {
		// With branches pending, deletion waits for their final replies
		// (or timers), which re-run the check when they come.
		take(x.waitAt)
	}
	return next
}

// reschedule queues x for its next deadline (or takes it off the timer
// queue when it has none).
func (x *txn) reschedule() {
	if x.tm.closed.Load() {
		return
	}
	next := x.nextDeadline()
	if next == x.timerAt {
		return
	}
	x.timerAt = next
	if next.IsZero() {
		x.tm.queueOf(x).cancel(x)
		return
	}
	x.tm.queueOf(x).schedule(x, next)
}

// fire is the timer callback (on the timer queue's goroutine).
// Retransmissions and deletions run on it; a deadline that ends a branch
// or the transaction goes on a goroutine of its own, because the failure
// route and the completion callbacks (acc's database writes) then run and
// must not hold up the timers of every other transaction.
func (x *txn) fire() { x.fireOn(false) }

func (x *txn) fireOn(own bool) {
	x.mu.Lock()
	if x.terminated() || x.tm.closed.Load() {
		x.unlockNoTimer()
		return
	}
	now := clockNow()
	if !own && x.endsDue(now) {
		x.mu.Unlock()
		go x.fireOn(true)
		return
	}
	x.timerAt = 0
	x.fires++
	x.tm.onTimer(x, now)
	x.unlock()
}

// endsDue reports whether a deadline that passed ends a branch (its final
// response timer) or the transaction (an unanswered t_newtran) (x locked).
func (x *txn) endsDue(now instant) bool {
	if !x.uasUntil.IsZero() && !now.Before(x.uasUntil) {
		return true
	}
	for _, br := range x.branches {
		if br.pending() && !br.frAt.IsZero() && !now.Before(br.frAt) {
			return true
		}
	}
	return false
}

// onTimer handles every deadline that passed: retransmissions, final
// response timers, Timer G/H, the release of unanswered UAS transactions.
func (t *TM) onTimer(x *txn, now instant) {
	tt := t.timers.Load()
	for _, br := range x.branches {
		if br.pending() {
			if !br.retrAt.IsZero() && !now.Before(br.retrAt) {
				t.send(br.dst, br.req)
				br.retrN++
				br.retrAt = now.Add(tt.retrInterval(br.retrN))
			}
			if !br.frAt.IsZero() && !now.Before(br.frAt) {
				t.branchTimeout(x, br)
			}
		}
		if br.cancel == cancelTrying {
			if !now.Before(br.cancelUntil) {
				br.toCancel(x, cancelDone)
			} else if !br.cancelAt.IsZero() && !now.Before(br.cancelAt) {
				t.send(br.dst, br.cancelReq)
				br.cancelN++
				br.cancelAt = now.Add(tt.retrInterval(br.cancelN))
			}
		}
	}
	if !x.gAt.IsZero() && !now.Before(x.gAt) && x.lastWire != nil {
		t.send(x.lastDst, x.lastWire)
		x.gIv *= 2
		if x.gIv > tt.T2 {
			x.gIv = tt.T2
		}
		x.gAt = now.Add(x.gIv)
	}
	if !x.hAt.IsZero() && !now.Before(x.hAt) {
		// Timer H: the ACK never came.
		x.gAt, x.hAt = 0, 0
		x.waitAt = now
	}
	if !x.uasUntil.IsZero() && !now.Before(x.uasUntil) {
		x.uasUntil = 0
		if !x.completed() {
			t.log.WarnContext(module.CallIDCtx(x.callID), "tm: transaction released without a final reply", "id", x.TransID(), "method", x.method)
			x.forbidNew()
			x.putOnWait(0)
		}
	}
}

// send transmits data, logging failures (retransmissions, ACK, CANCEL).
// sendUp sends resp to the previous hop (core.SendReply's path: the Via's
// received/rport address, the connection or socket the request came on)
// and keeps the bytes sent for retransmissions (x locked). raw, when not
// nil, is the reply as received from downstream, unchanged since it was
// parsed: it is relayed as SER does, its bytes copied with our Via cut
// out (sipmsg.AppendWithoutTopVia), rather than serialised again.
func (t *TM) sendUp(x *txn, resp *sip.Response, raw []byte) error {
	via := resp.Via()
	if via == nil {
		return errors.New("tm: reply without Via")
	}
	dst, err := t.core.ReplyDest(x.rcv, via)
	if err != nil {
		return err
	}
	wire := sipmsg.Exact(func(b []byte) []byte {
		if raw != nil && resp.ContentLength() != nil {
			if out, ok := sipmsg.AppendWithoutTopVia(b, raw, len(resp.Body())); ok {
				return out
			}
		}
		return sipmsg.AppendResponse(b, resp)
	})
	return t.sendUpWire(x, dst, wire, resp.StatusCode)
}

// replyUp sends a local reply to m (the core's ReplyWire) upstream as
// sendUp does (x locked).
func (t *TM) replyUp(x *txn, m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) error {
	wire, dst, err := t.core.ReplyWire(m, code, reason, o)
	if err != nil {
		return err
	}
	return t.sendUpWire(x, dst, wire, code)
}

// sendUpWire sends the bytes of a reply with status code upstream to dst
// and keeps them for retransmissions (x locked).
func (t *TM) sendUpWire(x *txn, dst sipmsg.Dest, wire []byte, code int) error {
	if err := t.core.Send(dst, wire); err != nil {
		return err
	}
	x.lastWire, x.lastDst = wire, dst
	if code < 200 && x.state == txnTrying {
		x.to(txnProceeding)
	}
	return nil
}

func (t *TM) send(dst sipmsg.Dest, data []byte) {
	if err := t.core.Send(dst, data); err != nil {
		t.log.Debug("tm: send failed", "dst", dst.String(), "err", err)
	}
}

// pendingBranches reports whether some branch has no final reply yet.
func (x *txn) pendingBranches() bool {
	for _, br := range x.branches {
		if br.pending() {
			return true
		}
	}
	return false
}

// finalize records the transaction's final outcome once: statistics,
// retransmission of negative INVITE replies until the ACK (Timer G/H) or
// the wait timer, the completion callbacks and the UAC result.
func (t *TM) finalize(x *txn, code int, reason string, resp *sip.Response, localReply bool) {
	if x.completed() {
		return
	}
	x.forbidNew()
	x.uasUntil = 0
	t.stats.complete(code)
	if localReply && x.upstream() {
		t.stats.repliedLocally.Add(1)
	}
	tt := t.timers.Load()
	now := clockNow()
	switch {
	case x.upstream() && x.invite() && code >= 300:
		// Completed: Timer G retransmits the reply until the ACK, Timer H
		// gives up.
		if x.rcv.Proto == sipmsg.ProtoUDP || x.rcv.Proto == sipmsg.ProtoNone {
			x.gIv = tt.T1
			x.gAt = now.Add(tt.T1)
		}
		x.hAt = now.Add(tt.timerH())
		if !x.waiting() {
			t.stats.waiting.Add(1)
		}
		x.to(txnCompleted)
	case x.invite() && code < 300:
		x.putOnWait(tt.Wait)
		x.to(txnAccepted)
	default:
		x.putOnWait(tt.Wait)
		x.to(txnCompleted)
	}
	t.cancelPending(x)
	info := x.completeInfo(code, reason, resp, localReply)
	x.release()
	cbs := t.completeCallbacks()
	done := x.uacDone
	x.uacDone = nil
	if len(cbs) == 0 && done == nil {
		return
	}
	x.defer_(func() {
		for _, f := range cbs {
			f(info)
		}
		if done != nil {
			done(UACResult{Code: code, Reason: reason, Resp: resp, Local: localReply, Raw: info.Raw})
		}
	})
}

// cancelPending cancels every branch still waiting for a final reply
// (INVITE only; other requests are left to their timers, RFC 3261 §9.1).
func (t *TM) cancelPending(x *txn) {
	for _, br := range x.branches {
		if br.blind && br.pending() {
			br.endLocally(x, 487)
		}
	}
	if !x.invite() {
		return
	}
	for _, br := range x.branches {
		if br.pending() {
			t.cancelBranch(x, br)
		}
	}
}

// release drops what a completed transaction keeps only for decisions it
// will not take any more (x locked): the request snapshot and the other
// modules' values once the final outcome is decided, and for every branch
// whose real final reply arrived the request copy (used to build its
// CANCEL and ACK) and the parsed reply (used to pick the best one); a
// branch finished locally (timeout, cancelled before ringing) keeps its
// request until the downstream answer comes. What absorbing
// retransmissions needs stays: the key, the last reply sent upstream, the
// ACKs of negative replies, a CANCEL still being retransmitted. A
// completed transaction spends its wait time (wt_timer) as this skeleton,
// which keeps the live heap — and the garbage collector's marking, which
// competes with the workers — small under load.
func (x *txn) release() {
	if !x.completed() {
		return
	}
	x.snap, x.vals = nil, nil
	for _, br := range x.branches {
		if !br.received() {
			continue
		}
		br.req, br.final, br.raw = nil, nil, nil
		if br.cancel != cancelTrying {
			br.cancelReq = nil
		}
	}
}
