package core

import (
	"fmt"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// Reply builds the reply BuildReply describes and sends it as SendReply
// does (see module.Core). The bytes are written straight from the
// request's headers into the send buffer: no sip.Response, no cloned Via
// and To, no header per extra line (issue 19: CPU per REGISTER, per 100
// Trying).
func (s *Server) Reply(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) error {
	var kv [6]sip.HeaderKV // room for the top Via's parameters
	r, ps, ok := s.newWireReply(m, code, reason, o, kv[:0])
	if !ok {
		return s.SendReply(m.Rcv, s.BuildReply(m, code, reason, o))
	}
	dst, err := s.replyDest(m.Rcv, r.top.Transport, r.top.Host, r.top.Port, ps)
	if err != nil {
		return err
	}
	if err := s.sendBytes(dst, func(b []byte) []byte { return r.append(b, ps) }); err != nil {
		return fmt.Errorf("core: send reply: %w", err)
	}
	return nil
}

// ReplyWire returns the bytes of the reply BuildReply describes, as
// sipmsg.AppendResponse would write it, and where it goes (ReplyDest of
// its top Via); see module.Core.
func (s *Server) ReplyWire(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) ([]byte, sipmsg.Dest, error) {
	var kv [6]sip.HeaderKV
	r, ps, ok := s.newWireReply(m, code, reason, o, kv[:0])
	if !ok {
		resp := s.BuildReply(m, code, reason, o)
		via := resp.Via()
		if via == nil {
			return nil, sipmsg.Dest{}, fmt.Errorf("core: reply without Via")
		}
		dst, err := s.ReplyDest(m.Rcv, via)
		if err != nil {
			return nil, dst, err
		}
		return sipmsg.Exact(func(b []byte) []byte { return sipmsg.AppendResponse(b, resp) }), dst, nil
	}
	dst, err := s.replyDest(m.Rcv, r.top.Transport, r.top.Host, r.top.Port, ps)
	if err != nil {
		return nil, dst, err
	}
	return sipmsg.Exact(func(b []byte) []byte { return r.append(b, ps) }), dst, nil
}

// wireReply is a local reply written as bytes: the same text that
// AppendResponse(BuildReply(…)) produces, header for header.
type wireReply struct {
	s      *Server
	m      *sipmsg.Msg
	code   int
	reason string
	o      module.ReplyOpts
	// top is the request's first Via, its parameters left out (they are
	// kept apart, with received/rport filled in, in the caller's room:
	// newWireReply); topAt is its index among the headers.
	top   sip.ViaHeader
	topAt int
}

// newWireReply prepares a wire reply and returns the top Via's parameters
// with received/rport, copied into room; ok is false when the reply must be built as a sip.Response:
// not a request, no Via, or an extra header line named Content-Length
// (sipgo's SetBody would take it as the body's). The reply is a value on
// the caller's stack (issue 19: bytes per reply), and so is room: the
// parameters are kept out of the reply because escape analysis does not
// tell a struct's fields apart (the Via's host, which replyDest resolves,
// would take them to the heap).
func (s *Server) newWireReply(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts, room sip.HeaderParams) (r wireReply, ps sip.HeaderParams, ok bool) {
	if m.Req == nil {
		return r, nil, false
	}
	for _, lines := range [2][]string{o.Headers, m.ReplyHeaders} {
		for _, l := range lines {
			clen := false
			headerLines(l, func(name, _ string) {
				clen = clen || sipmsg.HeaderNameIs(name, "content-length") || sipmsg.HeaderNameIs(name, "l")
			})
			if clen {
				return r, nil, false
			}
		}
	}
	r = wireReply{s: s, m: m, code: code, reason: reason, o: o, topAt: -1}
	for i, h := range m.Req.Headers() {
		if v, ok := h.(*sip.ViaHeader); ok {
			r.top, r.topAt = *v, i
			r.top.Params = nil
			return r, s.addReceived(append(room, v.Params...), v.Host, m.Rcv, false, m.ForceRport()), true
		}
	}
	return r, nil, false
}

// append writes the reply in BuildReply's order: status line, Vias,
// Record-Routes (18x/2xx to a dialog-creating request), From, To (with a
// tag), Call-ID, CSeq, Timestamp (100), the extra header lines, Server,
// Content-Type, Content-Length, Warning, the body.
// ps are the top Via's parameters (newWireReply).
func (r *wireReply) append(b []byte, ps sip.HeaderParams) []byte {
	s, m, req, code := r.s, r.m, r.m.Req, r.code
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, r.reason...)
	b = append(b, "\r\n"...)
	hdrs := req.Headers()
	for i, h := range hdrs {
		if i == r.topAt {
			top := r.top
			top.Params = ps
			b = append(sipmsg.AppendVia(b, &top), "\r\n"...)
		} else if _, ok := h.(*sip.ViaHeader); ok {
			b = line(b, h)
		}
	}
	if (code >= 180 && code < 300) && req.Method != sip.REGISTER && req.Method != sip.ACK && req.Method != sip.CANCEL {
		for _, h := range hdrs {
			if _, ok := h.(*sip.RecordRouteHeader); ok {
				b = line(b, h)
			}
		}
	}
	if f := req.From(); f != nil {
		b = line(b, f)
	}
	if t := req.To(); t != nil {
		if _, has := t.Params.Get("tag"); !has && code > 100 {
			tag := r.o.ToTag
			if tag == "" {
				tag = s.StableTag(m)
			}
			b = append(sipmsg.AppendToWithTag(b, t, tag), "\r\n"...)
		} else {
			b = line(b, t)
		}
	}
	if c := req.CallID(); c != nil {
		b = line(b, c)
	}
	if c := req.CSeq(); c != nil {
		b = line(b, c)
	}
	if code == 100 {
		for _, h := range hdrs {
			if sipmsg.HeaderNameIs(h.Name(), "timestamp") {
				b = line(b, h)
				break
			}
		}
	}
	for _, lines := range [2][]string{r.o.Headers, m.ReplyHeaders} {
		for _, l := range lines {
			headerLines(l, func(name, val string) {
				b = append(b, name...)
				b = append(b, ": "...)
				b = append(b, val...)
				b = append(b, "\r\n"...)
			})
		}
	}
	if s.opts.ServerSig {
		b = append(b, "Server: "...)
		b = append(b, s.ServerHeader()...)
		b = append(b, "\r\n"...)
	}
	if r.o.ContentType != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, r.o.ContentType...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(r.o.Body)), 10)
	b = append(b, "\r\n"...)
	if s.opts.SipWarning {
		b = append(b, "Warning: "...)
		b = s.appendWarning(b, m)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, r.o.Body...)
}

// line appends one header line with its CRLF.
func line(b []byte, h sip.Header) []byte {
	return append(sipmsg.AppendHeader(b, h), "\r\n"...)
}
