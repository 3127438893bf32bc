package tm

import (
	"fmt"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// snapshot is the request as it was when its transaction was created
// (script rewrites and added headers included), kept as text: a parsed
// copy costs about twice the memory and is only needed for local replies
// from timers, failure routes, FIFO t_reply and accounting.
type snapshot struct {
	text     []byte // the request as serialised then
	received []byte // the bytes as received (the copy's Raw)
	origURI  string // the R-URI as received (revert_uri)
	rcv      sipmsg.RcvInfo
	force    *sipmsg.Socket
	ruriQ    float32
	replyHdr []string
	// script is the routing script the request ran (sipmsg.Msg.Script):
	// the transaction's failure and onreply routes run from it even after
	// a configuration reload installed another.
	script any
}

func newSnapshot(m *sipmsg.Msg) *snapshot {
	s := &snapshot{
		text: m.Bytes(), received: m.Raw, origURI: m.OrigURIText(),
		rcv: m.Rcv, force: m.ForceSocket, ruriQ: m.RURIQ, script: m.Script,
	}
	if len(m.ReplyHeaders) > 0 {
		s.replyHdr = append([]string(nil), m.ReplyHeaders...)
	}
	return s
}

// msg parses a fresh request context from the snapshot, with the given
// flags and an empty destination set.
func (s *snapshot) msg(flags sipmsg.Flags) (*sipmsg.Msg, error) {
	parsed, err := sipmsg.Parse(s.text)
	if err != nil {
		return nil, fmt.Errorf("tm: re-parse of the stored request: %w", err)
	}
	req, ok := parsed.(*sip.Request)
	if !ok {
		return nil, fmt.Errorf("tm: stored request is not a request")
	}
	m := sipmsg.NewRequest(req, s.received, s.rcv)
	m.SetOrigURIText(s.origURI)
	m.Flags = flags
	m.ForceSocket = s.force
	m.RURIQ = s.ruriQ
	m.Script = s.script
	if len(s.replyHdr) > 0 {
		m.ReplyHeaders = append([]string(nil), s.replyHdr...)
	}
	return m, nil
}

// template returns a request context for x's request, or nil (logged) for
// local transactions or a parse failure.
func (t *TM) template(x *txn) *sipmsg.Msg {
	if x.snap == nil {
		return nil
	}
	m, err := x.snap.msg(x.flags)
	if err != nil {
		t.log.ErrorContext(module.CallIDCtx(x.callID), "tm: cannot rebuild the request", "id", x.TransID(), "err", err)
		return nil
	}
	return m
}
