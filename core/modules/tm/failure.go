package tm

import (
	"ser/core/module"
	"ser/core/sipmsg"
)

// runFailure runs failure_route[n] (SER 0.8's reply_route[n]) for a
// transaction whose branches all failed (x locked). The route works on a
// copy of the request as it was relayed, with an empty destination set
// and the best reply available through FailureReply. It may append
// branches and call t_relay (serial forking in the same transaction),
// reply with t_reply, or arm another failure route. As in SER 0.8, when
// the route appended branches without calling t_relay, they are relayed
// once it ends. runFailure reports whether new branches are now pending.
func (t *TM) runFailure(x *txn, n int, best *branch) bool {
	fm := t.template(x)
	if fm == nil {
		return false
	}
	for _, kv := range x.vals {
		fm.Set(kv.k, kv.v)
	}
	st := &msgState{txn: x, failure: true, entryURI: fm.URIString(), bestCode: best.finalCode}
	if best.received() {
		st.best = best.final
	}
	fm.Set(msgKey, st)
	fm.SetAVPs(x.avps)
	before := len(x.branches)

	t.core.RunRoute(module.Failure, n, fm)
	x.avps = fm.AVPs()

	x.flags = fm.Flags
	if st.onNegative > 0 {
		x.onNegative = st.onNegative
	}
	if st.onReply > 0 {
		x.onReply = st.onReply
	}
	if x.completed() || x.status >= 200 {
		return true
	}
	if !st.relayed && len(fm.Branches) > 0 {
		t.relayFailure(st, fm, nil)
	}
	if len(x.branches) == before {
		return false
	}
	return x.pendingBranches()
}

// relayFailure is t_relay inside a failure route (x locked by the
// caller): it forwards the new destination set — the appended branches,
// and the Request-URI when the route changed it or set a next hop — as new
// branches of the same transaction.
func (t *TM) relayFailure(st *msgState, fm *sipmsg.Msg, nh *hop) int {
	x := st.txn
	st.relayed = true
	if x.noNew() || x.completed() {
		t.log.InfoContext(module.MsgCtx(fm), "tm: no new branches allowed (transaction cancelled, 6xx or completed)", "id", x.TransID())
		fm.SetError(500, reasonNoBranch)
		return -1
	}
	var tgs []target
	seen := map[target]bool{}
	add := func(tg target) {
		if tg.uri != "" && !seen[tg] {
			seen[tg] = true
			tgs = append(tgs, tg)
		}
	}
	if fm.URIString() != st.entryURI || fm.DstURI != "" || fm.Path != "" || nh != nil && len(fm.Branches) == 0 {
		add(target{uri: fm.URIString(), dst: fm.DstURI, path: fm.Path})
	}
	for _, b := range fm.Branches {
		add(target{uri: b.URI, dst: b.DstURI, path: b.Path})
	}
	fm.ClearBranches()
	fm.DstURI, fm.Path = "", ""
	st.entryURI = fm.URIString()
	if len(tgs) == 0 {
		t.log.ErrorContext(module.MsgCtx(fm), "tm: t_relay in a failure route without a new destination (use append_branch or change the R-URI)", "id", x.TransID())
		fm.SetError(500, reasonNoBranch)
		return -1
	}
	brs := t.prepare(x, fm, tgs, nh)
	if len(brs) == 0 {
		return -1
	}
	if t.launch(x, fm, brs) == 0 {
		return -1
	}
	return 1
}
