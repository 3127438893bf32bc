package tm

import (
	"fmt"
	"sync/atomic"
	"testing"

	"ser/core/module"
)

// The state machines of a transaction, after RFC 3261 §17, in one place.
//
// A transaction (txn) is a server transaction towards the previous hop
// (§17.2) and one client transaction per branch (§17.1). Every change of
// state goes through txn.to, branch.to or branch.toCancel, which check it
// against the tables below: an illegal transition is a bug in tm. It is
// logged at error level with both states and counted (Stats.Illegal)
// while the program goes on in the new state; in a test binary it panics,
// so that the tests find it.
//
// Server side (txn.state). An INVITE from a previous hop starts in
// Proceeding (§17.2.1: t_relay sends the 100 at once), every other
// request in Trying (§17.2.2). Local UAC and t_replicate transactions have
// no server side: they start in Trying and leave it only for their
// outcome (Completed, or Accepted for an INVITE's 2xx).
//
//	Trying ───────────── 1xx sent ────────────► Proceeding ◄─┐
//	 │  │  │                                      │  │  └─────┘ 1xx sent
//	 │  │  │ final (non-INVITE), 300-699 (INVITE) │  │
//	 │  │  ▼                                      │  │ 2xx (INVITE)
//	 │  │ Completed ◄─────────────────────────────┘  ▼
//	 │  │  │  │  ▲ Timer G: the negative          Accepted ◄─┐ the 2xx of
//	 │  │  │  └──┘ INVITE reply again (UDP)        ▲  │ └────┘ any branch
//	 │  │  │ ACK (INVITE)                          │  │        is relayed
//	 │  │  ▼                                       │  │        (RFC 6026)
//	 │  │ Confirmed                                │  │
//	 │  └──── 2xx (INVITE without server side) ────┘  │
//	 │     │  wt_timer (Timer I)                      │ wt_timer
//	 ▼     ▼                                          ▼
//	Terminated: deleted from the table ◄── Completed after wt_timer (Timer J)
//	                                       or Timer H (no ACK came)
//
// Terminated is reachable from every state: a transaction that could not
// forward anything is dropped at once, and one released without a final
// reply (t_release, an unanswered t_newtran after fr_timer, a silent
// fr_inv_timer with noisy_ctimer off) waits wt_timer and ends without
// passing Completed. A transaction is deleted only once none of its
// branches is pending.
//
// Client side, per branch (branch.state). INVITE branches start in
// Calling (§17.1.1), others in Trying (§17.1.2). A blind branch
// (t_write_*) is never sent but runs the same machine.
//
//	Calling (INVITE) ──┐  Timer A/E: retransmissions over UDP
//	Trying (others) ───┴───── 1xx ─────► Proceeding ◄─┐ 1xx: INVITE stops
//	 │   │   │                            │   │ └─────┘ retransmitting
//	 │   │   │                            │   │         (fr_inv_timer),
//	 │   │   │                            │   │         others slow to T2
//	 │   │   └────── final reply ─────────┼───┴──────► Completed
//	 │   │                                │              ▲   ▲
//	 │   │ fr_timer, fr_inv_timer (408);  │              │   │ the real
//	 │   │ cancelled before a 1xx (487);  ▼              │   │ final reply
//	 │   └─ a blind branch ended ──────► Terminated ─────┘   │ comes late
//	 │                                                       │
//	 └─ could not be sent (503) ───────► SendFailed ─────────┘
//
// Completed: a 300-699 INVITE reply is ACKed hop-by-hop (its
// retransmissions again); a 2xx and its retransmissions go upstream
// (RFC 6026's Accepted). Terminated means the final status was given
// here; unlike RFC 3261's Terminated the branch still absorbs (and ACKs)
// the real final reply, e.g. the 487 of a cancelled branch. SendFailed is
// Terminated by a transport error (§17.1.1.2, §17.1.2.2): its local 503 is
// chosen only when no other branch has a final reply.
//
// The CANCEL of a branch (branch.cancel) is a non-INVITE client
// transaction of its own (§9.1). It is wanted once the branch is
// cancelled, but is sent only after a provisional reply to the INVITE:
//
//	cancelNone ──► cancelWanted ──► cancelTrying ──► cancelDone
//	               (no 1xx yet)     (sent: Timer E   (final reply to the
//	                                 until 64·T1)     CANCEL, or 64·T1)
//
// Flags that are not states (txnFlags) stay in a bit set: what the
// transaction is (INVITE, local, with a server side) never changes; that
// no new branch may start is orthogonal to the server state (a 6xx or a
// CANCEL forbids new branches while the others still finish, the server
// side still Proceeding).

// txnState is the state of a transaction's server side.
type txnState uint8

const (
	txnTrying txnState = iota
	txnProceeding
	txnCompleted
	txnConfirmed
	txnAccepted
	txnTerminated
	numTxnStates
)

var txnStateNames = [numTxnStates]string{"Trying", "Proceeding", "Completed", "Confirmed", "Accepted", "Terminated"}

func (s txnState) String() string { return stateName(txnStateNames[:], "txnState", s) }

// txnNext lists, for each server state, the states it may go to.
var txnNext = [numTxnStates]uint8{
	txnTrying:     1<<txnProceeding | 1<<txnCompleted | 1<<txnAccepted | 1<<txnTerminated,
	txnProceeding: 1<<txnCompleted | 1<<txnAccepted | 1<<txnTerminated,
	txnCompleted:  1<<txnConfirmed | 1<<txnTerminated,
	txnConfirmed:  1 << txnTerminated,
	txnAccepted:   1 << txnTerminated,
}

// initialTxn is the state a new transaction starts in: Proceeding for an
// INVITE from a previous hop (§17.2.1), else Trying.
func initialTxn(invite, upstream bool) txnState {
	if invite && upstream {
		return txnProceeding
	}
	return txnTrying
}

// to moves x's server side to state s (x locked).
func (x *txn) to(s txnState) {
	if !allowed(txnNext[:], x.state, s) {
		x.tm.illegal("transaction", x.state.String(), s.String(), x)
	}
	x.state = s
}

// completed reports whether x's final outcome is decided (a final reply
// sent upstream or, without a server side, received).
func (x *txn) completed() bool {
	return x.state == txnCompleted || x.state == txnConfirmed || x.state == txnAccepted
}

// terminated reports whether x was deleted from the table (or moved to the
// wait log: moved).
func (x *txn) terminated() bool { return x.state == txnTerminated }

// txnFlags are what a transaction is and whether it accepts new branches.
type txnFlags uint8

const (
	// flagInvite: the request is an INVITE, so the INVITE machines apply
	// (fixed at creation).
	flagInvite txnFlags = 1 << iota
	// flagLocal: the transaction was originated here (UAC; fixed).
	flagLocal
	// flagUpstream: replies go back to a previous hop — there is a server
	// side (fixed; false for local UAC and t_replicate transactions).
	flagUpstream
	// flagNoNew: no new branch may start — a 2xx or 6xx arrived, the
	// transaction was cancelled, released or completed (§16.7 step 5,
	// §16.10). Set once, never cleared; it does not follow from the
	// server state, which stays Trying/Proceeding meanwhile.
	flagNoNew
	// flagMoved: the transaction was moved to the wait log (waitlog.go);
	// this *txn is Terminated and a record stands for it. Whoever holds
	// it looks its hash up again.
	flagMoved
	// flagPinned: the transaction was revived from the wait log and stays
	// in the table until it is deleted.
	flagPinned
)

func (x *txn) invite() bool   { return x.bits&flagInvite != 0 }
func (x *txn) local() bool    { return x.bits&flagLocal != 0 }
func (x *txn) upstream() bool { return x.bits&flagUpstream != 0 }
func (x *txn) noNew() bool    { return x.bits&flagNoNew != 0 }
func (x *txn) forbidNew()     { x.bits |= flagNoNew }
func (x *txn) moved() bool    { return x.bits&flagMoved != 0 }

// branchState is the state of a branch (a client transaction).
type branchState uint8

const (
	brCalling branchState = iota
	brTrying
	brProceeding
	brCompleted
	brTerminated
	brSendFailed
	numBranchStates
)

var branchStateNames = [numBranchStates]string{"Calling", "Trying", "Proceeding", "Completed", "Terminated", "SendFailed"}

func (s branchState) String() string { return stateName(branchStateNames[:], "branchState", s) }

// branchNext lists, for each branch state, the states it may go to.
var branchNext = [numBranchStates]uint8{
	brCalling:    1<<brProceeding | 1<<brCompleted | 1<<brTerminated | 1<<brSendFailed,
	brTrying:     1<<brProceeding | 1<<brCompleted | 1<<brTerminated | 1<<brSendFailed,
	brProceeding: 1<<brCompleted | 1<<brTerminated,
	brTerminated: 1 << brCompleted,
	brSendFailed: 1 << brCompleted,
}

// initialBranch is the state a new branch starts in.
func initialBranch(invite bool) branchState {
	if invite {
		return brCalling
	}
	return brTrying
}

// to moves br to state s (x, its transaction, locked).
func (br *branch) to(x *txn, s branchState) {
	if !allowed(branchNext[:], br.state, s) {
		x.tm.illegal("branch "+branchID(x.hash, br.idx), br.state.String(), s.String(), x)
	}
	br.state = s
}

// pending reports whether br waits for a final reply (none given yet).
func (br *branch) pending() bool { return br.state <= brProceeding }

// received reports whether a real final reply arrived for br.
func (br *branch) received() bool { return br.state == brCompleted }

// endLocally gives a pending branch the local final status code
// (408 timeout, 487 cancelled) and stops its timers.
func (br *branch) endLocally(x *txn, code int) {
	br.to(x, brTerminated)
	br.finalCode = code
	br.retrAt, br.frAt = 0, 0
}

// cancelState is the state of a branch's CANCEL.
type cancelState uint8

const (
	cancelNone cancelState = iota
	cancelWanted
	cancelTrying
	cancelDone
	numCancelStates
)

var cancelStateNames = [numCancelStates]string{"cancelNone", "cancelWanted", "cancelTrying", "cancelDone"}

func (s cancelState) String() string { return stateName(cancelStateNames[:], "cancelState", s) }

var cancelNext = [numCancelStates]uint8{
	cancelNone:   1 << cancelWanted,
	cancelWanted: 1 << cancelTrying,
	cancelTrying: 1 << cancelDone,
}

// toCancel moves br's CANCEL to state s (x locked).
func (br *branch) toCancel(x *txn, s cancelState) {
	if !allowed(cancelNext[:], br.cancel, s) {
		x.tm.illegal("CANCEL of branch "+branchID(x.hash, br.idx), br.cancel.String(), s.String(), x)
	}
	br.cancel = s
}

// stateName is the name of state s of a machine with the given names.
func stateName[S ~uint8](names []string, kind string, s S) string {
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("%s(%d)", kind, uint8(s))
}

// allowed reports whether a machine's table next lets state from go to
// state to.
func allowed[S ~uint8](next []uint8, from, to S) bool {
	return int(from) < len(next) && int(to) < len(next) && next[from]&(1<<to) != 0
}

// panicOnIllegal makes an illegal transition panic: in test binaries
// (the tests must find such a bug), never in the server.
var panicOnIllegal atomic.Bool

func init() { panicOnIllegal.Store(testing.Testing()) }

// illegal reports a transition the state tables do not allow: a bug.
func (t *TM) illegal(machine, from, to string, x *txn) {
	t.stats.illegal.Add(1)
	msg := fmt.Sprintf("tm: BUG: illegal %s transition %s -> %s", machine, from, to)
	if panicOnIllegal.Load() {
		panic(msg + " (transaction " + x.TransID() + ", " + x.method + ")")
	}
	t.log.ErrorContext(module.CallIDCtx(x.callID), msg, "id", x.TransID(), "method", x.method)
}
