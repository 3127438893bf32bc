// Package tm is SER's transaction module: stateful forwarding with parallel
// and serial forking (t_relay, failure routes), a stateful UAS (t_newtran,
// t_reply), request replication (t_replicate), a local UAC used by the
// FIFO commands t_uac_dlg / t_uac_from, and the transaction statistics
// t_stats / t_hash.
//
// Transactions follow RFC 3261 §16 (proxy behaviour: best response,
// CANCEL propagation, 2xx forwarding) and §17 (client and server
// transactions: retransmissions over UDP, Timer G for negative replies,
// ACK absorption), with SER's fr_timer / fr_inv_timer giving a local 408
// when a branch stays without a final reply. The states of a transaction's
// server side, of its branches and of their CANCELs, with the transitions
// allowed, are in fsm.go.
//
// The core offers every received reply to HandleReply first (the
// Exports.OnReply hook); requests reach tm through the script
// functions. Each transaction has one mutex; its deadlines are one entry
// in a heap served by one timer goroutine (timerq.go), so an idle
// transaction costs no goroutine.
//
// Completed transactions waiting out wt_timer leave the table for a
// pointer-free wait log (waitlog.go), which the garbage collector does not
// scan.
//
// Files: txn.go (the transaction, its timers and completion), waitlog.go
// (the wait log), relay.go (t_relay, branches), reply.go (replies from
// downstream, the best reply), cancel.go, uas.go (t_newtran, t_reply),
// failure.go (failure routes), twrite.go (t_write_*), the management UAC
// in uac*.go, the FIFO commands in fifo.go and stats.go.
package tm

import (
	"crypto/md5"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

// Timers are the transaction timer values. The modparams set them in
// SER's units (seconds for fr_timer, fr_inv_timer and wt_timer,
// milliseconds for the retransmission timers); Go callers and tests may
// use any duration through SetTimers.
type Timers struct {
	// FR is fr_timer: how long a branch waits for a final reply before
	// its first provisional (and for non-INVITE requests altogether).
	FR time.Duration
	// FRInv is fr_inv_timer: how long an INVITE branch waits for a final
	// reply after a provisional one.
	FRInv time.Duration
	// Wait is wt_timer: how long a completed transaction stays to absorb
	// retransmissions before it is deleted.
	Wait time.Duration
	// T1, T1p2 and T1p3 are the first three retransmission intervals
	// (retr_timer1p1..p3, RFC 3261 T1, 2·T1, 4·T1); T2 caps the later
	// ones (retr_timer2).
	T1, T1p2, T1p3, T2 time.Duration
}

// DefaultTimers returns SER 0.9's defaults: fr_timer 30 s, fr_inv_timer
// 120 s, wt_timer 5 s, retransmissions at 0.5, 1, 2 and then every 4 s.
func DefaultTimers() Timers {
	return Timers{
		FR: 30 * time.Second, FRInv: 120 * time.Second, Wait: 5 * time.Second,
		T1: 500 * time.Millisecond, T1p2: time.Second, T1p3: 2 * time.Second, T2: 4 * time.Second,
	}
}

// retrInterval returns the interval after the n-th transmission (n ≥ 1).
func (tt *Timers) retrInterval(n int) time.Duration {
	switch n {
	case 1:
		return tt.T1
	case 2:
		return tt.T1p2
	case 3:
		return tt.T1p3
	}
	return tt.T2
}

// timerH is RFC 3261's 64·T1: how long a negative reply to an INVITE is
// retransmitted while no ACK comes, and how long a CANCEL is retried.
func (tt *Timers) timerH() time.Duration { return 64 * tt.T1 }

// MaxBranches is the largest number of branches of one transaction
// (SER's MAX_BRANCHES).
const MaxBranches = 12

// TM is one server's tm instance.
type TM struct {
	core   module.Core
	log    *slog.Logger
	timers atomic.Pointer[Timers]
	// params holds modparam values until Init applies them.
	params Timers
	// noisy is noisy_ctimer: an INVITE branch that got a provisional and
	// then hit fr_inv_timer is cancelled and answered 408 (1), or, for a
	// lone branch without failure route, the transaction is silently
	// released (0, SER 0.9's default).
	noisy bool
	// twAppends are the tw_append modparams; txTimeout bounds a
	// t_write_req / t_write_unix write (unix_tx_timeout).
	twAppends []*twAppend
	txTimeout time.Duration
	// noRestartFR is restart_fr_on_each_reply=0; noRURIMatch and
	// noVia1Match are ruri_matching=0 and via1_matching=0 (RFC 2543
	// requests only).
	noRestartFR, noRURIMatch, noVia1Match bool
	// inert lists the modparams set that change nothing here, with why
	// (logged at init).
	inert []string
	// frInvAVP is fr_inv_timer_avp: the AVP whose value (seconds) replaces
	// fr_inv_timer for its transaction; frInvAVPOn is false when the
	// parameter was set empty.
	frInvAVP   sipmsg.AVPName
	frInvAVPOn bool

	table table
	// maxTxns is max_transactions: while the table (the wait log
	// included) holds that many, a new transaction is refused with
	// SER's out-of-memory answer (full, fullLog).
	maxTxns int64
	fullLog atomic.Int64 // when "table full" was last logged (ns)
	tq      []timerQueue // sharded by transaction hash (queueOf)
	// keepInTable keeps completed transactions in the table instead of
	// the wait log (tests compare the two).
	keepInTable bool
	stats       counters
	closed      atomic.Bool

	tagPrefix string
	uacSeq    atomic.Uint64
	uacBase   uint64

	cbMu       sync.RWMutex
	onComplete []func(CompleteInfo)
}

// New returns a tm instance with SER's default timers. It needs Init
// (env.Core) before it can forward.
func New() *TM {
	t := &TM{log: slog.Default(), params: DefaultTimers(), noisy: true, txTimeout: 2 * time.Second,
		frInvAVP: sipmsg.StrName("callee_fr_inv_timer"), frInvAVPOn: true, maxTxns: DefaultMaxTransactions}
	d := DefaultTimers()
	t.timers.Store(&d)
	t.tq = make([]timerQueue, timerShards())
	t.table.init(len(t.tq))
	for i := range t.tq {
		t.tq[i].init()
		t.tq[i].wl, t.tq[i].tm = &t.table.wait[i], t
	}
	return t
}

// SetTimers replaces the timer values (tests use sub-second values). It
// applies to transactions created afterwards.
func (t *TM) SetTimers(tt Timers) {
	d := DefaultTimers()
	if tt.FR <= 0 {
		tt.FR = d.FR
	}
	if tt.FRInv <= 0 {
		tt.FRInv = d.FRInv
	}
	if tt.Wait <= 0 {
		tt.Wait = d.Wait
	}
	if tt.T1 <= 0 {
		tt.T1 = d.T1
	}
	if tt.T1p2 <= 0 {
		tt.T1p2 = 2 * tt.T1
	}
	if tt.T1p3 <= 0 {
		tt.T1p3 = 2 * tt.T1p2
	}
	if tt.T2 <= 0 {
		tt.T2 = d.T2
	}
	t.timers.Store(&tt)
}

// Timers returns the timer values in use.
func (t *TM) Timers() Timers { return *t.timers.Load() }

func initModule(t *TM, env *module.Env) error {
	t.core = env.Core
	if env.Log != nil {
		t.log = env.Log
	}
	t.SetTimers(t.params)
	for _, s := range t.inert {
		t.log.Info("modparam accepted but has no effect", "param", s)
	}
	t.tagPrefix = tagPrefix(env.Core.Sockets())
	t.uacBase = uint64(time.Now().UnixNano())
	return nil
}

// tagPrefix is the To-tag prefix of tm's local replies: MD5 over
// "SER-stateful" and the first socket, as SER's tm_tags.
func tagPrefix(socks []*sipmsg.Socket) string {
	h := md5.New()
	h.Write([]byte("SER-stateful"))
	if len(socks) > 0 {
		h.Write([]byte(socks[0].IP.String()))
		h.Write([]byte(strconv.Itoa(socks[0].Port)))
	}
	h.Write([]byte(strconv.Itoa(os.Getpid())))
	return hex.EncodeToString(h.Sum(nil))
}

// Stop stops every transaction timer and empties the wait logs. Local UAC
// transactions still waiting are completed with a local 408 so that their
// callers return.
func (t *TM) Stop() {
	if t.closed.Swap(true) {
		return
	}
	for i := range t.tq {
		t.tq[i].close()
		t.tq[i].wl.stop()
	}
	for _, x := range t.table.all() {
		x.mu.Lock()
		pending := x.local() && !x.completed() && !x.terminated()
		if pending {
			t.finalize(x, 408, "Request Timeout", nil, true)
		}
		x.unlockNoTimer()
	}
}

// OnComplete registers f to be called once for every transaction when its
// final outcome is known: the final reply sent upstream (relayed or
// local), or for local UAC and replicated requests the final reply
// received. f runs outside the transaction's lock, on the goroutine that
// completed it (a worker or a timer).
func (t *TM) OnComplete(f func(CompleteInfo)) {
	t.cbMu.Lock()
	defer t.cbMu.Unlock()
	t.onComplete = append(t.onComplete, f)
}

func (t *TM) completeCallbacks() []func(CompleteInfo) {
	t.cbMu.RLock()
	defer t.cbMu.RUnlock()
	return t.onComplete
}

// Count returns the number of transactions in the table.
func (t *TM) Count() int { return int(t.table.count.Load()) }
