package tm

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// msgKey holds tm's per-message state.
var msgKey = sipmsg.NewKey()

// msgState is what tm remembers about one message while the script runs.
type msgState struct {
	txn *txn
	// found is the transaction t_lookup_request (or t_check_status) found
	// for a request that did not create one.
	found *txn
	// failure is set on the request copy a failure route runs on; the
	// transaction's lock is held by the goroutine running the route.
	failure bool
	// reply is set on a reply an onreply route runs on (lock held too).
	reply bool
	// entryURI is the R-URI the failure route started with.
	entryURI string
	// relayed is set when t_relay ran in the failure route.
	relayed bool

	onNegative, onReply int

	// best is the reply a failure route was entered for.
	best     *sip.Response
	bestCode int
}

func state(m *sipmsg.Msg) *msgState {
	if s, ok := m.Get(msgKey).(*msgState); ok {
		return s
	}
	s := &msgState{}
	m.Set(msgKey, s)
	return s
}

func peekState(m *sipmsg.Msg) *msgState {
	s, _ := m.Get(msgKey).(*msgState)
	return s
}

// TransID returns the printable id ("hash:label") of the transaction the
// message belongs to: the one t_relay/t_newtran created for it, or the one
// a failure or onreply route runs for. ok is false when there is none.
func (t *TM) TransID(m *sipmsg.Msg) (id string, ok bool) {
	s := peekState(m)
	if s == nil || s.txn == nil {
		return "", false
	}
	return s.txn.TransID(), true
}

// FailureReply returns, in a failure route, the final reply the route was
// entered for (nil when it was generated locally, e.g. a timeout) and its
// status code.
func (t *TM) FailureReply(m *sipmsg.Msg) (*sip.Response, int) {
	s := peekState(m)
	if s == nil || !s.failure {
		return nil, 0
	}
	return s.best, s.bestCode
}

// CompleteInfo describes a completed transaction (see OnComplete).
type CompleteInfo struct {
	// TransID is the transaction's printable id.
	TransID string
	// Method is the request method; Code and Reason the final status.
	Method string
	Code   int
	Reason string
	snap   *snapshot
	// Reply is the final reply as received from downstream (our Via
	// removed), or nil when the final reply was generated locally.
	Reply *sip.Response
	// Raw is the final reply's bytes as received (nil when local).
	Raw []byte
	// LocalReply is true when the final reply was generated here (t_reply,
	// 408 on timeout, 487 after CANCEL).
	LocalReply bool
	// Local is true for transactions this server originated (UAC).
	Local bool
	// Upstream is false for local and t_replicate transactions.
	Upstream bool
	// Flags are the message flags at relay time, with changes made by
	// failure routes.
	Flags sipmsg.Flags
	// Start is when the transaction was created.
	Start time.Time
}

// Request returns a copy of the request as it was when the transaction
// was created, with the flags of Flags (nil for local UAC transactions).
// It is parsed on each call.
func (ci *CompleteInfo) Request() *sipmsg.Msg {
	if ci.snap == nil {
		return nil
	}
	m, err := ci.snap.msg(ci.Flags)
	if err != nil {
		return nil
	}
	return m
}

func (x *txn) completeInfo(code int, reason string, resp *sip.Response, localReply bool) CompleteInfo {
	info := CompleteInfo{
		TransID: x.TransID(), Method: x.method, Code: code, Reason: reason,
		snap: x.snap, Reply: resp, LocalReply: localReply, Local: x.local(),
		Upstream: x.upstream(), Flags: x.flags, Start: x.created.Time(),
	}
	if resp != nil {
		for _, br := range x.branches {
			if br.final == resp {
				info.Raw = br.raw
			}
		}
	}
	return info
}
