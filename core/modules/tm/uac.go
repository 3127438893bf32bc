package tm

// The local UAC: transactions this server originates (the management
// commands of uac_fifo.go use it; uac_msg.go prints the request). Such a
// transaction has no server side: only its one branch, a client
// transaction, runs.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// DefaultCSeq is the CSeq number of locally originated requests that do
// not give one (SER's DEFAULT_CSEQ).
const DefaultCSeq = 10

// UACRequest describes a request this server originates.
type UACRequest struct {
	// Method and RURI are required.
	Method string
	RURI   string
	// NextHop, when set, is the URI the request is sent to instead of the
	// Request-URI (an outbound proxy, the first loose route).
	NextHop string
	// From and To are header values ("Name <sip:a@b>;tag=x" or a bare
	// URI). A From without a tag gets a generated one.
	From, To string
	// CallID is generated when empty; CSeq 0 means DefaultCSeq.
	CallID string
	CSeq   int
	// Headers are extra header lines ("Name: value"); "!!" in them is
	// replaced by the sending socket's ip:port (t_uac_dlg). A body needs
	// a Content-Type line here.
	Headers []string
	Body    []byte
}

// UACResult is the outcome of a local request.
type UACResult struct {
	Code   int
	Reason string
	// Resp is the final reply received; nil when it was generated locally
	// (Local: 408 on timeout, 487 after t_uac_cancel).
	Resp  *sip.Response
	Raw   []byte
	Local bool
}

// Request originates a request and waits for its final reply: the client
// transaction retransmits over UDP, answers a negative INVITE reply with
// an ACK, and ends with a local 408 when fr_timer (fr_inv_timer after a
// provisional to an INVITE) expires. When ctx is done first, Request
// returns a local 408 at once (the transaction goes on in the
// background). An error means the request could not be sent at all. A 2xx
// to an INVITE is not acknowledged: the ACK is the caller's (t_uac_dlg
// prints the route set for it).
func (t *TM) Request(ctx context.Context, r UACRequest) (*UACResult, error) {
	ch := make(chan UACResult, 1)
	if _, err := t.Originate(r, func(res UACResult) { ch <- res }); err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		return &res, nil
	case <-ctx.Done():
		return &UACResult{Code: 408, Reason: errorText(408), Local: true}, nil
	}
}

// UACError is a failure to originate a request, with SER's SIP status for
// it (478 unresolvable, 477 send failure, 400 bad parameters).
type UACError struct {
	Code   int
	Reason string
	Err    error
}

// Error returns the reason and the cause.
func (e *UACError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("tm: uac: %s: %v", e.Reason, e.Err)
	}
	return "tm: uac: " + e.Reason
}

// Unwrap returns the cause.
func (e *UACError) Unwrap() error { return e.Err }

// Originate starts a request and calls done once with its outcome, from
// the goroutine that completed the transaction (a core worker or a
// timer); done is not called when an error is returned. It returns the
// transaction's printable id.
func (t *TM) Originate(r UACRequest, done func(UACResult)) (string, error) {
	if t.core == nil {
		return "", &UACError{Code: 500, Reason: "module not initialised"}
	}
	if r.Method == "" || r.RURI == "" || r.From == "" || r.To == "" {
		return "", &UACError{Code: 400, Reason: "method, R-URI, From and To are required"}
	}
	var ruri sip.Uri
	if err := sip.ParseUri(r.RURI, &ruri); err != nil || ruri.Host == "" {
		return "", &UACError{Code: 400, Reason: "ruri invalid", Err: err}
	}
	dst, code, reason := t.resolveHop(r.RURI, r.NextHop, nil)
	if code != 0 {
		return "", &UACError{Code: code, Reason: strings.Replace(reason, "/SL)", "/FIFO/UAC)", 1)}
	}
	sock := t.core.SocketFor(dst)
	if sock == nil {
		return "", &UACError{Code: 500, Reason: "no socket for the destination"}
	}
	dst.Sock = sock
	if r.CallID == "" {
		r.CallID = t.newCallID(sock)
	}
	if r.CSeq <= 0 {
		r.CSeq = DefaultCSeq
	}
	if !hasTag(r.From) {
		r.From += ";tag=" + t.fromTag(r.CallID)
	}
	seq := t.uacSeq.Add(1)
	key := "L\x00" + r.CallID + "\x00" + strconv.Itoa(r.CSeq) + "\x00" + r.Method + "\x00" + strconv.FormatUint(seq, 10)
	h := hashKey(key)
	x := &txn{
		tm: t, key: key, hash: h, method: r.Method, bits: flagLocal,
		created: clockNow(), callID: r.CallID, cseq: uint32(r.CSeq),
		uacDone: done,
	}
	if r.Method == "INVITE" {
		x.bits |= flagInvite
	}
	if old, w := t.table.insert(x); old != nil || w != nil {
		return "", &UACError{Code: 500, Reason: "transaction hash collision"}
	}
	t.stats.total.Add(1)
	t.stats.local.Add(1)
	id := branchID(h, 0)
	br := &branch{idx: 0, dst: dst, req: t.uacBytes(r, sock, id), state: initialBranch(x.invite())}
	x.mu.Lock()
	if t.launch(x, nil, []*branch{br}) == 0 {
		x.uacDone = nil
		x.remove()
		x.unlockNoTimer()
		return "", &UACError{Code: 477, Reason: "Unfortunately error on sending to next hop occurred (477/FIFO/UAC)"}
	}
	tid := x.TransID()
	x.unlock()
	return tid, nil
}
