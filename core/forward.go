package core

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/counter"
	"ser/core/module"
	"ser/core/sipmsg"
)

// MagicCookie starts every RFC 3261 branch.
const MagicCookie = "z9hG4bK"

// StatelessBranch computes the branch of a statelessly forwarded request
// (RFC 3261 §16.11): the same for retransmissions (and for a CANCEL or
// non-2xx ACK of the same INVITE), different for different requests or
// different destinations.
func StatelessBranch(m *sipmsg.Msg) string {
	req := m.Req
	// The hashed text is gathered in a stack buffer (it grows onto the
	// heap only past 512 bytes) and hashed once.
	var buf [512]byte
	b := buf[:0]
	top := req.Via()
	if br, _ := top.Params.Get("branch"); strings.HasPrefix(br, MagicCookie) {
		b = append(b, br...)
		b = append(b, top.Host...)
		b = strconv.AppendInt(b, int64(top.Port), 10)
	} else {
		// RFC 2543 peers: hash the transaction's identity instead.
		if t := req.To(); t != nil {
			tag, _ := t.Params.Get("tag")
			b = append(b, tag...)
		}
		if f := req.From(); f != nil {
			tag, _ := f.Params.Get("tag")
			b = append(b, tag...)
		}
		b = append(b, m.CallID()...)
		if cs := req.CSeq(); cs != nil {
			b = strconv.AppendUint(b, uint64(cs.SeqNo), 10)
		}
		b = append(b, m.OrigURI().String()...)
		b = append(b, top.Value()...)
	}
	b = append(b, m.URIString()...)
	sum := md5.Sum(b)
	var out [len(MagicCookie) + 20]byte
	copy(out[:], MagicCookie)
	hex.Encode(out[len(MagicCookie):], sum[:10])
	return string(out[:])
}

// Forward relays the request in m statelessly to dst: the previous hop's
// Via gets received/rport, our Via goes on top with a deterministic branch,
// and the current message is sent. The message itself is left as it was,
// so a script may forward the same request to several peers.
func (s *Server) Forward(m *sipmsg.Msg, dst sipmsg.Dest) error {
	if m.Req == nil {
		return fmt.Errorf("core: forward: not a request")
	}
	if m.ForceSocket != nil && m.ForceSocket.Proto == dst.Proto {
		dst.Sock = m.ForceSocket
	}
	sock := s.tr.SocketFor(dst)
	if sock == nil {
		return fmt.Errorf("core: forward to %s: no %s socket", dst, dst.Proto)
	}
	dst.Sock = sock
	branch := StatelessBranch(m)
	if err := s.sendBytes(dst, func(b []byte) []byte { return s.appendWithVia(b, m, sock, branch) }); err != nil {
		return fmt.Errorf("core: forward: %w", err)
	}
	s.Stats.FwdRequests.Add(counter.MethodIndex(string(m.Req.Method)), dst.Proto)
	return nil
}

// RequestBytes serialises the request in m as forwarded from sock with
// branch (see module.Core).
func (s *Server) RequestBytes(m *sipmsg.Msg, sock *sipmsg.Socket, branch string) []byte {
	return sipmsg.Exact(func(b []byte) []byte { return s.appendWithVia(b, m, sock, branch) })
}

// sendBytes sends what fill serialises to dst. A datagram is written from
// a reused buffer; a stream queues its message, so that gets its own
// copy.
func (s *Server) sendBytes(dst sipmsg.Dest, fill func([]byte) []byte) error {
	if dst.Proto == sipmsg.ProtoUDP || dst.Proto == sipmsg.ProtoNone {
		return sipmsg.Scratch(fill, func(b []byte) error { return s.tr.Send(dst, b) })
	}
	return s.tr.Send(dst, sipmsg.Exact(fill))
}

// appendWithVia appends to b the request serialised with the previous
// hop's Via completed (received/rport/i) and our Via on top, without changing m. A request
// record-routed with enable_double_rr that leaves through another socket
// than it came in on gets its two Record-Route headers here, where the
// outgoing socket is known (sipmsg.RecordRoute).
func (s *Server) appendWithVia(b []byte, m *sipmsg.Msg, sock *sipmsg.Socket, branch string) []byte {
	sock = m.AdvertisedSocket(sock) // set_advertised_address/port
	// Both Vias live on the stack with room for their parameters: the
	// request's own headers are not touched.
	var params [2][6]sip.HeaderKV
	var recv *sip.ViaHeader
	prev := m.Req.Via()
	if prev != nil {
		ps := append(sip.HeaderParams(params[0][:0]), prev.Params...)
		v := *prev
		v.Params = s.addReceived(ps, prev.Host, m.Rcv, true, m.ForceRport())
		recv = &v
	}
	ours := sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: sock.Proto.ViaName(),
		Host: sock.Name, Port: sock.ViaPort(), Params: append(params[1][:0], sip.HeaderKV{K: "branch", V: branch}),
	}
	return sipmsg.AppendForward(b, m, sock, &ours, recv)
}

// SendAsIs sends the current request to dst without adding a Via (SER's
// send()).
func (s *Server) SendAsIs(m *sipmsg.Msg, dst sipmsg.Dest) error {
	if m.Req == nil {
		return fmt.Errorf("core: send: not a request")
	}
	if err := s.tr.Send(dst, m.Bytes()); err != nil {
		return fmt.Errorf("core: send: %w", err)
	}
	return nil
}

// forwardReply routes a reply statelessly by its Vias (RFC 3261 §16.7,
// §18.2.2): the top Via must be ours; it is removed and the reply goes to
// the next Via's received/rport address, from the socket our Via named.
func (s *Server) forwardReply(m *sipmsg.Msg) {
	resp := m.Resp
	top := resp.Via()
	sock := s.ourVia(top)
	if sock == nil {
		s.Stats.BadReplies.Add(1)
		s.log.DebugContext(module.MsgCtx(m), "reply not for us dropped", "module", "core", "via", top.Value(), "src", m.Rcv.Src.String())
		return
	}
	resp.RemoveHeader("Via")
	next := resp.Via()
	if next == nil {
		// A reply to a request we originated statelessly: nobody to relay to.
		s.Stats.BadReplies.Add(1)
		return
	}
	dst, err := s.ReplyDest(sipmsg.RcvInfo{Sock: sock}, next)
	if err != nil {
		s.log.WarnContext(module.MsgCtx(m), "cannot route reply", "module", "core", "via", next.Value(), "err", err)
		return
	}
	if dst.Proto == sock.Proto {
		dst.Sock = sock
	}
	// Relayed as it came with our Via cut out (as SER does), serialised
	// only when that cut cannot be made.
	fill := func(b []byte) []byte {
		if resp.ContentLength() != nil {
			if out, ok := sipmsg.AppendWithoutTopVia(b, m.Raw, len(resp.Body())); ok {
				return out
			}
		}
		return sipmsg.AppendResponse(b, resp)
	}
	if err := s.sendBytes(dst, fill); err != nil {
		s.log.WarnContext(module.MsgCtx(m), "relaying reply failed", "module", "core", "dst", dst.String(), "err", err)
		return
	}
	s.Stats.FwdReplies.Add(resp.StatusCode, dst.Proto)
}

// ourVia returns the socket a Via header names, or nil when the Via is not
// ours.
func (s *Server) ourVia(v *sip.ViaHeader) *sipmsg.Socket {
	if v == nil {
		return nil
	}
	proto, ok := sipmsg.ParseProto(v.Transport)
	if !ok {
		return nil
	}
	port := v.Port
	if port == 0 {
		port = defaultPort(proto)
	}
	host := strings.Trim(v.Host, "[]")
	for _, sk := range s.socks {
		if sk.Names(host, port) && sk.Proto == proto {
			return sk
		}
	}
	for _, sk := range s.socks {
		if sk.Names(host, port) {
			return sk
		}
	}
	if s.IsMyself(host, port, sipmsg.ProtoNone) {
		for _, sk := range s.socks {
			if sk.Proto == proto {
				return sk
			}
		}
	}
	return nil
}
