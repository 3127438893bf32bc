package core

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// ServerHeader returns SER's signature: "Sip EXpress router (v (arch/os))".
func (s *Server) ServerHeader() string {
	if v := s.serverHeader.Load(); v != nil {
		return *v
	}
	h := fmt.Sprintf("Sip EXpress router (%s (%s/%s))", s.version, runtime.GOARCH, runtime.GOOS)
	s.serverHeader.Store(&h)
	return h
}

// ServerSignature reports whether server_signature is on.
func (s *Server) ServerSignature() bool { return s.opts.ServerSig }

// BuildReply makes a reply to the request in m (RFC 3261 §8.2.6): Vias
// (the top one with received/rport), From, To with a tag, Call-ID, CSeq,
// Record-Route for dialog-creating replies, then the extra headers, the
// Server header and Content-Length, and SER's Warning header when
// sip_warning is on.
func (s *Server) BuildReply(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) *sip.Response {
	req := m.Req
	resp := sip.NewResponse(code, reason)
	first := true
	// The header list walked rather than GetHeaders, which lower-cases
	// (and so allocates for) every header name.
	for _, h := range req.Headers() {
		v, ok := h.(*sip.ViaHeader)
		if !ok {
			continue
		}
		if first {
			v = v.Clone()
			s.setReceived(v, m.Rcv, false, m.ForceRport())
			first = false
		}
		resp.AppendHeader(v)
	}
	if (code >= 180 && code < 300) && req.Method != sip.REGISTER && req.Method != sip.ACK && req.Method != sip.CANCEL {
		for _, h := range req.Headers() {
			if _, ok := h.(*sip.RecordRouteHeader); ok {
				resp.AppendHeader(h)
			}
		}
	}
	if f := req.From(); f != nil {
		resp.AppendHeader(f)
	}
	if t := req.To(); t != nil {
		to := t
		if _, has := t.Params.Get("tag"); !has && code > 100 {
			to = cloneTo(t)
			tag := o.ToTag
			if tag == "" {
				tag = s.StableTag(m)
			}
			to.Params.Add("tag", tag)
		}
		resp.AppendHeader(to)
	}
	if c := req.CallID(); c != nil {
		resp.AppendHeader(c)
	}
	if c := req.CSeq(); c != nil {
		resp.AppendHeader(c)
	}
	if code == 100 {
		if ts := sipmsg.FirstHeader(req, "Timestamp"); ts != nil {
			resp.AppendHeader(ts)
		}
	}
	for _, line := range o.Headers {
		appendHeaderLine(resp, line)
	}
	for _, line := range m.ReplyHeaders {
		appendHeaderLine(resp, line)
	}
	if s.opts.ServerSig {
		resp.AppendHeader(sip.NewHeader("Server", s.ServerHeader()))
	}
	if o.ContentType != "" {
		ct := sip.ContentTypeHeader(o.ContentType)
		resp.AppendHeader(&ct)
	}
	resp.SetBody(o.Body)
	if s.opts.SipWarning {
		resp.AppendHeader(sip.NewHeader("Warning", s.warning(m)))
	}
	return resp
}

// warning is SER's diagnostic Warning header value.
func (s *Server) warning(m *sipmsg.Msg) string {
	// Appended into a stack buffer rather than formatted: a 100 Trying
	// carries it, so it is one string per reply.
	var buf [512]byte
	return string(s.appendWarning(buf[:0], m))
}

// appendWarning appends the Warning header value to b.
func (s *Server) appendWarning(b []byte, m *sipmsg.Msg) []byte {
	b = append(b, "392 "...)
	if sock := m.Rcv.Sock; sock != nil {
		b = sock.AppendHostPort(b)
	} else {
		b = append(b, "0.0.0.0:0"...)
	}
	b = append(b, ` "Noisy feedback tells: pid=`...)
	b = strconv.AppendInt(b, int64(s.pid), 10)
	b = append(b, " req_src_ip="...)
	b = m.Rcv.Src.Addr().AppendTo(b)
	b = append(b, " req_src_port="...)
	b = strconv.AppendUint(b, uint64(m.Rcv.Src.Port()), 10)
	b = append(b, " in_uri="...) // the request line's text, as SER prints it
	b = append(b, m.OrigURIText()...)
	b = append(b, " out_uri="...)
	b = append(b, m.URIString()...)
	b = append(b, " via_cnt=="...)
	vias := 0
	for _, h := range m.Req.Headers() {
		if _, ok := h.(*sip.ViaHeader); ok {
			vias++
		}
	}
	b = strconv.AppendInt(b, int64(vias), 10)
	return append(b, '"')
}

// StableTag returns the To-tag for locally generated replies to m: a
// per-server prefix and a hash over the request's identity, so a
// retransmitted request gets a byte-identical reply.
func (s *Server) StableTag(m *sipmsg.Msg) string {
	h := md5.New()
	req := m.Req
	if f := req.From(); f != nil {
		tag, _ := f.Params.Get("tag")
		h.Write([]byte(tag))
	}
	h.Write([]byte{0})
	h.Write([]byte(m.CallID()))
	h.Write([]byte{0})
	if cs := req.CSeq(); cs != nil {
		h.Write([]byte(strconv.FormatUint(uint64(cs.SeqNo), 10)))
	}
	if v := req.Via(); v != nil {
		b, _ := v.Params.Get("branch")
		h.Write([]byte(b))
	}
	return s.tagSeed + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func cloneTo(t *sip.ToHeader) *sip.ToHeader {
	c := &sip.ToHeader{DisplayName: t.DisplayName, Address: *t.Address.Clone()}
	if t.Params != nil {
		c.Params = t.Params.Clone()
	} else {
		c.Params = sip.NewParams()
	}
	return c
}

// appendHeaderLine parses "Name: value" (trailing CRLF allowed) and
// appends it as a header.
func appendHeaderLine(msg sip.Message, line string) {
	headerLines(line, func(name, val string) { msg.AppendHeader(sip.NewHeader(name, val)) })
}

// headerLines calls f with the name and value of every "Name: value"
// line in line (CRLF-separated, a trailing CRLF allowed; lines without a
// colon are skipped), both trimmed.
func headerLines(line string, f func(name, val string)) {
	line = strings.TrimRight(line, "\r\n")
	for line != "" {
		l, rest, _ := strings.Cut(line, "\r\n")
		line = rest
		if name, val, ok := strings.Cut(l, ":"); ok {
			f(strings.TrimSpace(name), strings.TrimSpace(val))
		}
	}
}

// setReceived adds received= (and fills rport) to the Via a request was
// received with (RFC 3261 §18.2.1, RFC 3581). tagConn tags TCP
// connections (i=) so a stateless reply can find its way back;
// forceRport (the script's force_rport()) fills rport as if the client
// had asked for it.
func (s *Server) setReceived(v *sip.ViaHeader, rcv sipmsg.RcvInfo, tagConn, forceRport bool) {
	if v.Params == nil {
		v.Params = sip.NewParams()
	}
	v.Params = s.addReceived(v.Params, v.Host, rcv, tagConn, forceRport)
}

// addReceived is setReceived on a Via's parameters and host, taken apart
// (and the parameters returned rather than set through a pointer) so that
// a Via built on the stack stays there (appendWithVia).
func (s *Server) addReceived(ps sip.HeaderParams, host string, rcv sipmsg.RcvInfo, tagConn, forceRport bool) sip.HeaderParams {
	src := rcv.Src.Addr().Unmap()
	if !src.IsValid() {
		return ps
	}
	rp, hasRport := ps.Get("rport")
	if forceRport && !hasRport {
		rp, hasRport = "", true
	}
	if hasRport || !s.viaHostIs(host, src) {
		ps = setParam(ps, "received", src.String())
	}
	if hasRport && rp == "" {
		ps = setParam(ps, "rport", strconv.Itoa(int(rcv.Src.Port())))
	}
	if tagConn && rcv.ConnID != 0 {
		ps = setParam(ps, "i", strconv.FormatUint(rcv.ConnID, 10))
	}
	return ps
}

// setParam is sip.HeaderParams.Add by value: the parameter's value
// replaced where it is, or the parameter appended.
func setParam(ps sip.HeaderParams, k, v string) sip.HeaderParams {
	for i := range ps {
		if ps[i].K == k {
			ps[i].V = v
			return ps
		}
	}
	return append(ps, sip.HeaderKV{K: k, V: v})
}

// dnsTimeout bounds the lookups the dns and rev_dns options make.
const dnsTimeout = 2 * time.Second

// viaHostIs reports whether a Via sent-by host names src (SER's
// check_ip_address): literally when it is an IP address; otherwise, with
// dns=yes, when a forward lookup of the name yields src, and with
// rev_dns=yes, when a reverse lookup of src yields the name. A lookup that
// fails or times out counts as a mismatch, so received= is added.
func (s *Server) viaHostIs(host string, src netip.Addr) bool {
	host = strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap() == src
	}
	if !s.opts.DNS && !s.opts.RevDNS {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
	defer cancel()
	if s.opts.DNS {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			s.log.Debug("dns check of Via host failed", "module", "core", "host", host, "err", err)
		}
		for _, ip := range ips {
			if ip.Unmap() == src {
				return true
			}
		}
	}
	if s.opts.RevDNS {
		names, err := net.DefaultResolver.LookupAddr(ctx, src.String())
		if err != nil {
			s.log.Debug("rev_dns check of Via host failed", "module", "core", "ip", src.String(), "err", err)
		}
		want := strings.TrimSuffix(host, ".")
		for _, n := range names {
			if strings.EqualFold(strings.TrimSuffix(n, "."), want) {
				return true
			}
		}
	}
	return false
}

// ReplyDest computes where a reply goes, given the Via of the request it
// answers (with received/rport already filled in for the hop that sent it)
// and how that request arrived (RFC 3261 §18.2.2, RFC 3581).
func (s *Server) ReplyDest(rcv sipmsg.RcvInfo, via *sip.ViaHeader) (sipmsg.Dest, error) {
	return s.replyDest(rcv, via.Transport, via.Host, via.Port, via.Params)
}

// replyDest is ReplyDest on the Via taken apart: the strings it resolves
// leak, the parameter list itself does not (a Via whose parameters are on
// the caller's stack stays there: Reply, ReplyWire).
func (s *Server) replyDest(rcv sipmsg.RcvInfo, transport, viaHost string, viaPort int, params sip.HeaderParams) (sipmsg.Dest, error) {
	proto, ok := sipmsg.ParseProto(transport)
	if !ok {
		return sipmsg.Dest{}, fmt.Errorf("core: reply: unsupported Via transport %q", transport)
	}
	d := sipmsg.Dest{Proto: proto, Sock: rcv.Sock}
	if proto == rcv.Proto && proto != sipmsg.ProtoUDP {
		d.ConnID = rcv.ConnID
	}
	if id, ok := params.Get("i"); ok && proto != sipmsg.ProtoUDP {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil {
			d.ConnID = n
		}
	}
	port := viaPort
	if port == 0 {
		port = 5060
	}
	if s.opts.ReplyToVia {
		return s.resolveInto(d, viaHost, port)
	}
	rport, _ := params.Get("rport")
	recv, hasRecv := params.Get("received")
	host := viaHost
	if hasRecv {
		host = recv
	}
	if rport != "" {
		if n, err := strconv.Atoi(rport); err == nil && n > 0 && n < 65536 {
			port = n
		}
	}
	return s.resolveInto(d, host, port)
}

func (s *Server) resolveInto(d sipmsg.Dest, host string, port int) (sipmsg.Dest, error) {
	r, err := s.ResolveHost(host, port, d.Proto)
	if err != nil {
		return d, err
	}
	d.Addr = r.Addr
	return d, nil
}

// SendReply sends a reply to a request that arrived as described by rcv.
// The top Via of resp already carries received/rport (BuildReply adds
// them).
func (s *Server) SendReply(rcv sipmsg.RcvInfo, resp *sip.Response) error {
	via := resp.Via()
	if via == nil {
		return fmt.Errorf("core: send reply: no Via")
	}
	dst, err := s.ReplyDest(rcv, via)
	if err != nil {
		return err
	}
	if err := s.sendBytes(dst, func(b []byte) []byte { return sipmsg.AppendResponse(b, resp) }); err != nil {
		return fmt.Errorf("core: send reply: %w", err)
	}
	return nil
}
