package tm

import (
	"context"
	"log/slog"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"time"
)

// SER's err2reason_phrase texts, as sl_reply_error prints them after a
// failed t_relay ("<text> (<ser error>/SL)").
const (
	reasonUnresolvable = "Unresolvable destination (478/SL)"
	reasonSend         = "Unfortunately error on sending to next hop occurred (477/SL)"
	reasonBadURI       = "Regretfully, we were not able to process the URI (479/SL)"
	reasonNoSocket     = "I'm terribly sorry, server error occurred (7/SL)"
	reasonTuple        = "Transaction tuple incomplete (9/SL)"
	reasonScript       = "I'm terribly sorry, server error occurred (10/SL)"
	reasonBranches     = "Forking capacity exceeded (12/SL)"
	reasonNoBranch     = "I'm terribly sorry, server error occurred (1/SL)"
	// reasonNoMem is SER's answer when a transaction cannot be allocated
	// (E_OUT_OF_MEM, which release builds do not disclose).
	reasonNoMem = "I'm terribly sorry, server error occurred (2/SL)"
)

// DefaultMaxTransactions is max_transactions' default. SER's bound was
// its shared memory (-m); a waiting transaction costs ~0.5 KB here and
// one in progress a few KB, so this is ~1 GB at most — 40 times what
// 6,000 calls/s keep live.
const DefaultMaxTransactions = 500000

// full reports whether the table holds max_transactions (logged at most
// every 5 s); the request's error is set to SER's out-of-memory answer.
func (t *TM) full(m *sipmsg.Msg) bool {
	if t.table.count.Load() < t.maxTxns {
		return false
	}
	t.stats.refused.Add(1)
	now := time.Now().UnixNano()
	if last := t.fullLog.Load(); now-last >= int64(5*time.Second) && t.fullLog.CompareAndSwap(last, now) {
		t.log.WarnContext(module.MsgCtx(m), "tm: transaction table full; new transactions refused", "max_transactions", t.maxTxns, "refused_total", t.stats.refused.Load())
	}
	m.SetError(500, reasonNoMem)
	return true
}

// trying is SER's reason phrase of tm's 100 for INVITE.
const trying = "trying -- your call is important to us"

// hop is an explicit next hop (t_relay_to, t_replicate).
type hop struct {
	host  string
	port  int
	proto sipmsg.Proto
}

// target is one entry of the destination set.
type target struct{ uri, dst, path string }

// appendTargets appends the destination set of m to out: the R-URI (with
// the next hop in DstURI), then each appended branch.
func appendTargets(out []target, m *sipmsg.Msg) []target {
	out = append(out, target{uri: m.URIString(), dst: m.DstURI, path: m.Path})
	for _, b := range m.Branches {
		out = append(out, target{uri: b.URI, dst: b.DstURI, path: b.Path})
	}
	return out
}

// Relay forwards the request in m statefully to its destination set (the
// Go form of t_relay()). It returns SER's script convention: 1 forwarded,
// 0 absorbed (a retransmission or an ACK to a negative reply), -1 failed
// with m.SetError describing why.
func (t *TM) Relay(m *sipmsg.Msg) int { return t.relay(m, nil, false) }

// relay implements t_relay, t_relay_to* and t_replicate*.
func (t *TM) relay(m *sipmsg.Msg, nh *hop, replicate bool) int {
	if m.Req == nil {
		return -1
	}
	if st := peekState(m); st != nil { // not allocated for an ACK
		if st.failure {
			if replicate {
				t.log.ErrorContext(module.MsgCtx(m), "tm: t_replicate cannot be used in a failure route")
				return -1
			}
			return t.relayFailure(st, m, nh)
		}
		if st.txn != nil {
			t.twice(m)
			return -1
		}
	}
	if m.Req.IsAck() {
		return t.relayACK(m, nh)
	}
	if m.Req.IsCancel() && !replicate {
		if ret, ok := t.upstreamCancel(m); ok {
			return ret
		}
	}
	x, ret := t.create(m, !replicate)
	if x == nil {
		return ret
	}
	st := state(m)
	x.mu.Lock()
	var buf [4]target
	brs := t.prepare(x, m, appendTargets(buf[:0], m), nh)
	if len(brs) == 0 {
		t.abandon(x, st)
		return -1
	}
	if x.invite() && x.upstream() {
		t.sendTrying(x, m)
	}
	if t.launch(x, m, brs) == 0 {
		t.abandon(x, st)
		return -1
	}
	x.unlock()
	return 1
}

// create makes the transaction for the request in m and stores it in m's
// state. It returns nil when the request is a retransmission (ret 0, the
// last reply re-sent) or cannot be matched (ret -1).
func (t *TM) create(m *sipmsg.Msg, upstream bool) (*txn, int) {
	key, ok := t.requestKey(m, m.Method())
	if !ok {
		m.SetError(400, reasonTuple)
		return nil, -1
	}
	h := hashKey(key)
	if old, w := t.table.get(h); old != nil || w != nil {
		if old != nil && old.key == key || w != nil && string(w.key()) == key {
			t.retransmission(old, w)
			return nil, 0
		}
		t.log.ErrorContext(module.MsgCtx(m), "tm: transaction hash collision; request refused")
		m.SetError(500, reasonNoBranch)
		return nil, -1
	}
	if t.full(m) {
		return nil, -1
	}
	x := t.newTxn(m, key, h, upstream)
	if old, w := t.table.insert(x); old != nil || w != nil {
		t.retransmission(old, w)
		return nil, 0
	}
	t.stats.total.Add(1)
	st := state(m)
	st.txn = x
	x.onNegative, x.onReply = st.onNegative, st.onReply
	if t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.log.DebugContext(module.CallIDCtx(x.callID), "tm: transaction created", "id", x.TransID(), "method", x.method)
	}
	return x, 1
}

// abandon removes a transaction that could not forward anything (called
// with x locked).
func (t *TM) abandon(x *txn, st *msgState) {
	x.forbidNew()
	x.remove()
	x.unlockNoTimer()
	st.txn = nil
}

// twice logs the admin guide's "one transaction per request" error.
func (t *TM) twice(m *sipmsg.Msg) {
	t.log.ErrorContext(module.MsgCtx(m), "tm: transaction already exists for this request — t_newtran/t_relay called twice?",
		"method", m.Method(), "call_id", m.CallID())
	m.SetError(500, reasonScript)
}

func (t *TM) newTxn(m *sipmsg.Msg, key string, h uint64, upstream bool) *txn {
	x := &txn{
		tm: t, key: key, hash: h, method: m.Method(), created: clockNow(),
		rcv: m.Rcv, flags: m.Flags, force: m.ForceSocket, callID: m.CallID(),
	}
	if m.Req.IsInvite() {
		x.bits |= flagInvite
	}
	if upstream {
		x.bits |= flagUpstream
	}
	x.state = initialTxn(x.invite(), upstream)
	if cs := m.Req.CSeq(); cs != nil {
		x.cseq = cs.SeqNo
	}
	x.snap = newSnapshot(m)
	x.avps = m.AVPs().Clone()
	n := 0
	for k := sipmsg.Key(0); k < sipmsg.MaxKeys; k++ {
		if k != msgKey && m.Get(k) != nil {
			n++
		}
	}
	if n > 0 {
		x.vals = make([]msgVal, 0, n)
		for k := sipmsg.Key(0); k < sipmsg.MaxKeys; k++ {
			if v := m.Get(k); v != nil && k != msgKey {
				x.vals = append(x.vals, msgVal{k, v})
			}
		}
	}
	return x
}

// retransmission answers a retransmitted request with the last reply of
// its transaction: x, or the wait log record w.
func (t *TM) retransmission(x *txn, w waitRec) {
	if x != nil {
		x, w = t.lockLive(x)
	}
	if w != nil {
		t.resend(w)
		return
	}
	if x == nil {
		return
	}
	if !x.terminated() && x.upstream() && x.lastWire != nil {
		t.send(x.lastDst, x.lastWire)
	}
	x.unlockNoTimer()
}

func (t *TM) sendTrying(x *txn, m *sipmsg.Msg) {
	if err := t.replyUp(x, m, 100, trying, module.ReplyOpts{}); err != nil {
		t.log.DebugContext(module.MsgCtx(m), "tm: sending 100 failed", "err", err)
		return
	}
	x.status = 100
}

// relayACK absorbs an ACK to a negative reply of ours and forwards any
// other ACK statelessly (ACK for 2xx is end-to-end, RFC 3261 §16.11).
func (t *TM) relayACK(m *sipmsg.Msg, nh *hop) int {
	if t.absorbACK(m) {
		return 0
	}
	dst, code, reason := t.resolveHopParsed(m.URIString(), m.DstURI, nh, &m.Req.Recipient)
	if code != 0 {
		m.SetError(code, reason)
		return -1
	}
	if err := t.core.Forward(m, dst); err != nil {
		t.log.WarnContext(module.MsgCtx(m), "tm: forwarding ACK failed", "dst", dst.String(), "err", err)
		m.SetError(477, reasonSend)
		return -1
	}
	return 1
}

// absorbACK consumes an ACK matching a transaction that answered its
// INVITE negatively: it stops Timer G and lets the transaction end.
func (t *TM) absorbACK(m *sipmsg.Msg) bool {
	x, w := t.lookupRequest(m, "")
	for {
		if w != nil {
			if !w.upstream() || w.status() < 300 {
				return false
			}
			if w.state() != txnCompleted && !clockNow().Add(t.timers.Load().Wait).Before(w.waitAt()) {
				return true // Confirmed already, the deadline stays
			}
			x = t.revive(w.hash())
		}
		if x, w = t.lockLive(x); w == nil {
			break
		}
	}
	if x == nil {
		return false
	}
	absorbed := !x.terminated() && x.upstream() && x.status >= 300
	if absorbed {
		x.gAt, x.hAt = 0, 0
		x.putOnWait(t.timers.Load().Wait) // before leaving Completed: still counted as waiting
		if x.state == txnCompleted {
			x.to(txnConfirmed)
		}
	}
	x.unlock()
	return absorbed
}

// resolveHop finds where a branch goes: the explicit hop, else the next
// hop URI, else the Request-URI.
func (t *TM) resolveHop(uri, dstURI string, nh *hop) (sipmsg.Dest, int, string) {
	return t.resolveHopParsed(uri, dstURI, nh, nil)
}

// resolveHopParsed is resolveHop with ruri, when not nil, the parsed form
// of uri (the request's own Request-URI: not parsed again).
func (t *TM) resolveHopParsed(uri, dstURI string, nh *hop, ruri *sip.Uri) (sipmsg.Dest, int, string) {
	if nh != nil {
		d, err := t.core.ResolveHost(nh.host, nh.port, nh.proto)
		if err != nil {
			return d, 478, reasonUnresolvable
		}
		return d, 0, ""
	}
	u := ruri
	if dstURI != "" || u == nil {
		next := dstURI
		if next == "" {
			next = uri
		}
		u = new(sip.Uri)
		if err := sip.ParseUri(next, u); err != nil {
			return sipmsg.Dest{}, 479, reasonBadURI
		}
	}
	d, err := t.core.Resolve(u)
	if err != nil {
		return d, 478, reasonUnresolvable
	}
	return d, 0, ""
}

// prepare resolves the targets and builds each branch's request; targets
// that fail are skipped with m.SetError recording why.
func (t *TM) prepare(x *txn, m *sipmsg.Msg, tgs []target, nh *hop) []*branch {
	var out []*branch
	for _, tg := range tgs {
		idx := len(x.branches) + len(out)
		if idx >= MaxBranches {
			t.log.ErrorContext(module.MsgCtx(m), "tm: too many branches", "max", MaxBranches)
			m.SetError(500, reasonBranches)
			break
		}
		var ruri *sip.Uri
		if tg.uri == m.URIString() {
			ruri = &m.Req.Recipient
		}
		dst, code, reason := t.resolveHopParsed(tg.uri, tg.dst, nh, ruri)
		if code != 0 {
			t.log.InfoContext(module.MsgCtx(m), "tm: branch not forwarded", "uri", tg.uri, "dst", tg.dst, "reason", reason)
			m.SetError(code, reason)
			continue
		}
		if m.ForceSocket != nil && m.ForceSocket.Proto == dst.Proto {
			dst.Sock = m.ForceSocket
		}
		sock := t.core.SocketFor(dst)
		if sock == nil {
			m.SetError(500, reasonNoSocket)
			continue
		}
		dst.Sock = sock
		id := branchID(x.hash, idx)
		data, err := branchBytes(t.core, m, tg, sock, id)
		if err != nil {
			m.SetError(479, reasonBadURI)
			continue
		}
		out = append(out, &branch{idx: idx, dst: dst, req: data, state: initialBranch(x.invite())})
	}
	return out
}

// branchBytes serialises the request in m as forwarded to tg (its URI and
// path) from sock with branch id; m's Request-URI and path are restored
// afterwards.
func branchBytes(core module.Core, m *sipmsg.Msg, tg target, sock *sipmsg.Socket, id string) ([]byte, error) {
	savedPath := m.Path
	m.Path = tg.path
	defer func() { m.Path = savedPath }()
	if tg.uri == m.URIString() {
		return core.RequestBytes(m, sock, id), nil
	}
	saved := m.Req.Recipient
	if err := m.SetURI(tg.uri); err != nil {
		return nil, err
	}
	data := core.RequestBytes(m, sock, id)
	m.Req.Recipient = saved
	m.URIChanged()
	return data, nil
}

// launch appends the branches to x and sends them, starting their
// retransmission (UDP) and final response timers. It returns how many
// were sent; a branch that could not be sent is final at once and never
// chosen as the best reply while another exists.
func (t *TM) launch(x *txn, m *sipmsg.Msg, brs []*branch) int {
	tt := t.timers.Load()
	now := clockNow()
	sent := 0
	for _, br := range brs {
		x.branches = append(x.branches, br)
		if err := t.core.Send(br.dst, br.req); err != nil {
			t.log.WarnContext(module.MsgCtx(m), "tm: sending branch failed", "dst", br.dst.String(), "err", err)
			if m != nil {
				m.SetError(477, reasonSend)
			}
			br.to(x, brSendFailed)
			br.finalCode = 503
			continue
		}
		sent++
		if br.dst.Proto == sipmsg.ProtoUDP {
			br.retrN = 1
			br.retrAt = now.Add(tt.T1)
		}
		br.frAt = now.Add(tt.FR)
	}
	return sent
}

// forwardNonACK is t_forward_nonack and its _uri/_udp/_tcp forms: the
// request's transaction must exist already (t_newtran); its destination set
// (or the explicit hop) becomes new branches of it. Unlike t_relay no 100
// is sent. A CANCEL cancels the INVITE it matches and is answered 200; an
// ACK is refused (hop-by-hop ACKs are tm's business).
func (t *TM) forwardNonACK(m *sipmsg.Msg, nh *hop) int {
	st := peekState(m)
	if m.Req == nil || st == nil || st.txn == nil || st.failure || st.reply {
		t.log.ErrorContext(module.MsgCtx(m), "tm: t_forward_nonack: can't forward when no transaction was set up (call t_newtran first)")
		return -1
	}
	if m.Req.IsAck() {
		t.log.WarnContext(module.MsgCtx(m), "tm: t_forward_nonack: you don't really want to forward a hop-by-hop ACK")
		return -1
	}
	x := st.txn
	if m.Req.IsCancel() {
		if inv, iw := t.lookupRequest(m, "INVITE"); inv != nil || iw != nil {
			if x = t.relock(x); x != nil {
				if err := t.replyLocked(x, m, 200, canceling, module.ReplyOpts{}); err != nil {
					t.log.WarnContext(module.MsgCtx(m), "tm: answering CANCEL failed", "err", err)
				}
				x.unlock()
			}
			if inv != nil { // one in the wait log is complete: nothing to cancel
				inv.mu.Lock()
				t.cancelTxn(inv)
				inv.unlock()
			}
			return 1
		}
	}
	x.mu.Lock()
	defer x.unlock()
	if x.terminated() || x.noNew() || x.completed() {
		t.log.InfoContext(module.MsgCtx(m), "tm: t_forward_nonack: no new branches allowed (transaction cancelled or completed)", "id", x.TransID())
		m.SetError(500, reasonNoBranch)
		return -1
	}
	var buf [4]target
	brs := t.prepare(x, m, appendTargets(buf[:0], m), nh)
	if len(brs) == 0 {
		return -1
	}
	x.uasUntil = 0 // the branches' timers govern the transaction now
	if t.launch(x, m, brs) == 0 {
		return -1
	}
	return 1
}
