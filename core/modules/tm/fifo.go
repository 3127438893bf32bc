package tm

import (
	"context"
	"strconv"
	"strings"

	"ser/core/module"
	"ser/core/rpc"
)

// commands are tm's FIFO/unix socket commands (Exports.Commands): t_stats
// and t_hash (stats.go), the management UAC (t_uac_dlg, t_uac_from,
// t_uac_cancel: uac_fifo.go) and t_reply (below), which answers a
// transaction an application was handed by t_write_req/t_write_unix.
func (t *TM) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "t_stats", Help: "transaction statistics", Handler: t.cmdStats},
		{Name: "t_hash", Help: "transaction hash table occupancy", Handler: t.cmdHash},
		{Name: "t_uac_dlg", Params: []string{"method", "ruri", "next_hop", "headers", "body"},
			Help: "send a request and report its final reply", Handler: t.cmdUACDlg},
		{Name: "t_uac_from", Params: []string{"method", "from", "destination", "headers", "body"},
			Help: "send a request (SER 0.8.10 form)", Handler: t.cmdUACFrom},
		{Name: "t_uac_cancel", Params: []string{"callid", "cseq"},
			Help: "cancel an INVITE transaction", Handler: t.cmdUACCancel},
		{Name: "t_reply", Params: []string{"code", "reason", "trans_id", "to_tag", "headers", "body"},
			Help: "reply to a transaction", Handler: t.cmdReply},
	}
}

// joinBody joins body lines with CRLF (each line ends with one).
func joinBody(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// cmdReply is t_reply: code, reason, transaction id ("hash:label"),
// To-tag, header lines, body.
func (t *TM) cmdReply(_ context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	unix := req.Flavor == rpc.UnixSock
	pick := func(fifo, us string) *rpc.Reply {
		if unix {
			return rpc.Raw(us)
		}
		return rpc.Raw(fifo)
	}
	codeLine, ok := p.Line()
	if !ok || codeLine == "" {
		return pick("400 fifo_t_reply: code expected", "400 Reason code expected\n")
	}
	code, err := strconv.Atoi(codeLine)
	if err != nil || code < 100 || code > 699 {
		return pick("400 fifo_t_reply: code(int) has wrong format", "400 Reason code has wrong format\n")
	}
	reason, ok := p.Line()
	if !ok || reason == "" {
		return pick("400 fifo_t_reply: reason expected", "400 Reason phrase expected\n")
	}
	id, ok := p.Line()
	if !ok || id == "" {
		return pick("400 fifo_t_reply: trans_id expected", "400 Transaction ID expected\n")
	}
	bucket, label, idOK := parseTransID(id)
	if !idOK {
		return pick("400 fifo_t_reply: invalid trans_id", "400 Error while parsing transaction ID\n")
	}
	toTag, ok := p.Line()
	if !ok || toTag == "" {
		return pick("400 fifo_t_reply: to-ta expected", "400 To tag expected\n")
	}
	hdrs, ok := p.LineSet()
	if !ok {
		return pick("400 fifo_t_reply: while reading new headers", "400 Error while reading new headers\n")
	}
	body, _ := p.Body()
	if err := t.ReplyTo(bucket, label, code, reason, module.ReplyOpts{ToTag: toTag, Headers: hdrs, Body: joinBody(body)}); err != nil {
		if err == errNoTxn {
			return pick("481 fifo_t_reply: no such transaction", "481 No such transaction\n")
		}
		t.log.Error("tm: t_reply failed", "id", id, "err", err)
		return pick("500 fifo_t_reply: reply failed", "500 Reply failed\n")
	}
	return pick("200 fifo_t_reply succeeded\n", "200 Succeeded\n")
}

func parseTransID(s string) (uint32, uint32, bool) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, 0, false
	}
	h, err1 := strconv.ParseUint(a, 10, 32)
	l, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uint32(h), uint32(l), true
}
