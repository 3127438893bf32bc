package tm

// The management UAC commands: t_uac_dlg (SER 0.9), t_uac_from (SER
// 0.8.10) and t_uac_cancel, on top of the local UAC of uac.go.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/rpc"
)

// uacError is fifo_uac_error: "<code> fifo_uac: <text>" without a newline
// (uac_fifo.c).
func uacError(code int, text string) *rpc.Reply {
	return rpc.Raw(fmt.Sprintf("%d fifo_uac: %s", code, text))
}

// cmdUACDlg is t_uac_dlg: method, R-URI, next hop ("." for none), header
// lines, body. The reply comes when the transaction completes.
func (t *TM) cmdUACDlg(ctx context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	method, ok := p.Line()
	if !ok || method == "" {
		return uacError(400, "method expected")
	}
	ruri, ok := p.Line()
	if !ok || ruri == "" {
		return uacError(400, "ruri expected")
	}
	if !validURI(ruri) {
		return uacError(400, "ruri invalid\n")
	}
	next, ok := p.Line()
	if !ok || next == "" {
		return uacError(400, "next hop address expected\n")
	}
	if next == "." {
		next = ""
	} else if !validURI(next) {
		return uacError(400, "next hop uri invalid\n")
	}
	hdrs, ok := p.LineSet()
	if !ok || len(hdrs) == 0 {
		return uacError(400, "HFs expected")
	}
	hf, perr := parseHFs(hdrs)
	if perr != nil {
		return uacError(400, "HFs unparseable")
	}
	body, ok := p.Body()
	if !ok {
		return uacError(400, "body expected")
	}
	r := UACRequest{Method: method, RURI: ruri, NextHop: next, Headers: hf.other, Body: joinBody(body)}
	if msg := hf.check(method, len(r.Body) > 0); msg != "" {
		return uacError(400, msg)
	}
	r.From, r.To, r.CallID, r.CSeq = hf.from, hf.to, hf.callID, hf.cseq
	rpc.DoneReading(p)
	res, err := t.Request(ctx, r)
	if err != nil {
		code, reason := uacErrorStatus(err)
		return uacError(code, reason)
	}
	return rpc.Raw(dlgReplyText(res))
}

// dlgReplyText is fifo_callback's output: for a faked reply the status
// line; for a real one the status line, the remote target, next hop and
// Route set of the dialog ("." each unless a 2xx confirmed it), then the
// reply from its first header on.
func dlgReplyText(res *UACResult) string {
	if res.Local || res.Resp == nil {
		return fmt.Sprintf("%d %s\n", res.Code, errorText(res.Code))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", res.Code, res.Reason)
	b.WriteString(dialogHooks(res))
	b.WriteString(headersOnward(res.Raw))
	b.WriteString("\n")
	return b.String()
}

// headersOnward returns raw from the first header on (the text after the
// status line).
func headersOnward(raw []byte) string {
	s := string(raw)
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// dialogHooks prints the UAC dialog's request URI, next hop and route set
// as SER's print_uris (RFC 3261 §12.1.2: the route set is the reversed
// Record-Route; a strict first route becomes the request URI).
func dialogHooks(res *UACResult) string {
	if res.Code < 200 || res.Code >= 300 {
		return ".\n.\n.\n"
	}
	target := ""
	if c := res.Resp.Contact(); c != nil {
		target = c.Address.String()
	}
	routes := recordRoutes(res.Raw)
	for i, j := 0, len(routes)-1; i < j; i, j = i+1, j-1 {
		routes[i], routes[j] = routes[j], routes[i]
	}
	orDot := func(s string) string {
		if s == "" {
			return "."
		}
		return s
	}
	var ruri, next, routeLine string
	switch {
	case len(routes) == 0:
		ruri, next = target, target
	case isStrict(routes[0]):
		// A strict router: it becomes the request URI; the remote target
		// goes last in the Route set (print_routes prints ".\n" when no
		// other route follows).
		ruri = routeURI(routes[0])
		next = ruri
		if len(routes) > 1 {
			routeLine = "Route: " + strings.Join(routes[1:], ", ") + ", <" + target + ">\r\n"
		}
	default:
		ruri = target
		next = routeURI(routes[0])
		routeLine = "Route: " + strings.Join(routes, ", ") + "\r\n"
	}
	if routeLine == "" {
		routeLine = ".\n"
	}
	return orDot(ruri) + "\n" + orDot(next) + "\n" + routeLine
}

// recordRoutes returns the Record-Route entries of a raw reply as written
// (name-addr text), in order.
func recordRoutes(raw []byte) []string {
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	var out []string
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, val, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Record-Route") {
			continue
		}
		out = append(out, splitComma(val)...)
	}
	return out
}

// splitComma splits a header value at commas outside quotes and <>.
func splitComma(v string) []string {
	var out []string
	inQ, inB, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && !inB:
			inQ = !inQ
		case c == '<' && !inQ:
			inB = true
		case c == '>' && !inQ:
			inB = false
		case c == ',' && !inQ && !inB:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// validURI reports whether s parses as a SIP URI with a host.
func validURI(s string) bool {
	var u sip.Uri
	return sip.ParseUri(s, &u) == nil && u.Host != ""
}

// routeURI returns the URI inside a name-addr.
func routeURI(r string) string {
	if i := strings.IndexByte(r, '<'); i >= 0 {
		if j := strings.IndexByte(r[i:], '>'); j > 0 {
			return r[i+1 : i+j]
		}
	}
	return strings.TrimSpace(r)
}

func isStrict(r string) bool {
	var u sip.Uri
	if err := sip.ParseUri(routeURI(r), &u); err != nil {
		return false
	}
	_, lr := u.UriParams.Get("lr")
	return !lr
}

// hfSet is the header lines of a FIFO UAC request, split into the ones tm
// prints itself and the rest.
type hfSet struct {
	from, to, callID string
	cseq             int
	cseqMethod       string
	cseqBad          bool
	contentType      bool
	contentLength    bool
	other            []string
}

// parseHFs reads the header lines (folded continuation lines joined).
func parseHFs(lines []string) (*hfSet, error) {
	hf := &hfSet{}
	var joined []string
	for _, l := range lines {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(joined) > 0 {
			joined[len(joined)-1] += " " + strings.TrimSpace(l)
			continue
		}
		joined = append(joined, l)
	}
	for _, l := range joined {
		name, val, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
			return nil, fmt.Errorf("bad header line %q", l)
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "from", "f":
			hf.from = val
		case "to", "t":
			hf.to = val
		case "call-id", "i":
			hf.callID = val
		case "cseq":
			num, method, _ := strings.Cut(val, " ")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 {
				hf.cseqBad = true
			}
			hf.cseq, hf.cseqMethod = n, strings.TrimSpace(method)
		default:
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "content-type", "c":
				hf.contentType = true
			case "content-length", "l":
				hf.contentLength = true
			}
			hf.other = append(hf.other, l)
		}
	}
	return hf, nil
}

// check is fifo_check_msg: the texts are SER's (typos included).
func (hf *hfSet) check(method string, hasBody bool) string {
	switch {
	case hasBody && !hf.contentType:
		return "Content-Type missing"
	case hasBody && hf.contentLength:
		return "Content-Length disallowed"
	case hf.to == "":
		return "To missing"
	case hf.from == "":
		return "From missing"
	case !validAddress(hf.from):
		return "Error in From"
	case hf.cseqBad:
		return "non-nummerical CSeq"
	case hf.cseqMethod != "" && hf.cseqMethod != method:
		return "CSeq method mismatch"
	}
	return ""
}

func validAddress(v string) bool {
	var u sip.Uri
	params := sip.NewParams()
	_, err := sip.ParseAddressValue(v, &u, &params)
	return err == nil
}

func uacErrorStatus(err error) (int, string) {
	if ue, ok := err.(*UACError); ok {
		return ue.Code, ue.Reason
	}
	return 500, "FIFO/UAC error"
}

// cmdUACFrom is SER 0.8.10's t_uac_from: method, From (empty: the
// server's default), destination (R-URI and To), header lines, body. The
// reply is the final status line only.
func (t *TM) cmdUACFrom(ctx context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	method, ok := p.Line()
	if !ok || method == "" {
		return rpc.Raw("400 fifo_uac: method expected")
	}
	from, ok := p.Line()
	if !ok {
		return rpc.Raw("400 fifo_uac: from expected\n")
	}
	dst, ok := p.Line()
	if !ok || dst == "" {
		return rpc.Raw("400 fifo_uac: destination expected\n")
	}
	hdrs, ok := p.LineSet()
	if !ok {
		return rpc.Raw("400 fifo_uac: HFs expected\n")
	}
	body, ok := p.Body()
	if !ok {
		return rpc.Raw("400 fifo_uac: body expected\n")
	}
	if from == "" {
		from = DefaultUACFrom
	}
	r := UACRequest{Method: method, RURI: dst, From: from, To: dst, Headers: hdrs, Body: joinBody(body)}
	rpc.DoneReading(p)
	res, err := t.Request(ctx, r)
	if err != nil {
		code, reason := uacErrorStatus(err)
		return rpc.Raw(fmt.Sprintf("%d %s", code, reason))
	}
	reason := res.Reason
	if res.Local {
		reason = errorText(res.Code)
	}
	return rpc.Raw(fmt.Sprintf("%d %s", res.Code, reason))
}

// DefaultUACFrom is the From of t_uac_from requests with an empty From
// line (SER 0.8's uac_from).
const DefaultUACFrom = "\"UAC Account\" <sip:uac@dev.null:9>"

// cmdUACCancel is t_uac_cancel: Call-ID and CSeq number of an INVITE
// transaction whose branches are cancelled.
func (t *TM) cmdUACCancel(_ context.Context, req *rpc.Request) *rpc.Reply {
	unix := req.Flavor == rpc.UnixSock
	callID, ok := req.Params.Line()
	if !ok || callID == "" {
		if unix {
			return rpc.Raw("400 Call-ID Expected\n")
		}
		return rpc.Raw("400 fifo_uac_cancel: callid expected")
	}
	cseq, ok := req.Params.Line()
	if !ok || cseq == "" {
		if unix {
			return rpc.Raw("400 CSeq Expected\n")
		}
		return rpc.Raw("400 fifo_uac_cancel: cseq expected")
	}
	if !t.CancelCall(callID, cseq) {
		if unix {
			return rpc.Raw("481 uac_cancel: No such transaction\n")
		}
		return rpc.Raw("481 fifo_uac_cancel: no such transaction")
	}
	if unix {
		return rpc.Raw("200 OK\n")
	}
	return rpc.Raw("200 fifo_uac_cancel succeeded\n")
}
