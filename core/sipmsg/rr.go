package sipmsg

import (
	"strconv"

	"github.com/emiago/sipgo/sip"
)

// recordRouteKey is the per-message slot of what record_route() inserted
// (module rr): it marks the message as record-routed and, with double
// record-routing, tells the core how to complete the header once the
// outgoing socket is known.
var recordRouteKey = NewKey()

// RecordRoute describes the Record-Route header record_route() put on a
// request: "Record-Route: <" + Prefix + address + Suffix + ">", where the
// address is that of the socket the request arrived on (RouteAddr).
//
// With Double set (rr's enable_double_rr), a request that leaves through
// another socket than it came in on — another protocol, address family,
// address or port — is sent with two Record-Route headers instead, as
// SER's rr module wrote them: the outgoing socket's on top and the
// incoming socket's below it, both marked ";r2=on" after the address, so
// that loose_route can remove both when the dialog's requests come back
// from either side.
type RecordRoute struct {
	// URI is the inserted header's URI (Prefix + address + Suffix); the
	// header is found again by it, also after a re-parse of the message.
	URI    string
	Prefix string // "sip:" and "user@" when the request had a user
	Suffix string // ";ftag=…" and ";lr" or ";lr=on"
	Double bool
}

// SetRecordRoute records what record_route() inserted.
func (m *Msg) SetRecordRoute(r *RecordRoute) { m.Set(recordRouteKey, r) }

// RecordRouted returns what record_route() inserted, or nil.
func (m *Msg) RecordRouted() *RecordRoute {
	r, _ := m.Get(recordRouteKey).(*RecordRoute)
	return r
}

// RouteAddr is a socket's address as SER wrote it into Record-Route
// headers: the advertised host ([v6] in brackets), ":port" unless the port
// is 5060, and ";transport=tcp" (tls) for a protocol other than UDP.
func RouteAddr(s *Socket, proto Proto) string {
	var buf [64]byte
	return string(AppendRouteAddr(buf[:0], s, proto))
}

// AppendRouteAddr appends RouteAddr(s, proto) to b.
func AppendRouteAddr(b []byte, s *Socket, proto Proto) []byte {
	if s.IP.Is6() && (len(s.Name) == 0 || s.Name[0] != '[') {
		b = append(b, '[')
		b = append(b, s.Name...)
		b = append(b, ']')
	} else {
		b = append(b, s.Name...)
	}
	if p := s.ViaPort(); p != 5060 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p), 10)
	}
	if proto == ProtoNone {
		proto = s.Proto
	}
	if proto != ProtoUDP && proto != ProtoNone {
		b = append(b, ";transport="...)
		b = append(b, proto.String()...)
	}
	return b
}

// SameRealm reports whether a request received on in and sent from out
// stays in one "realm" (SER's COND_IF_DIFF_REALMS is false): same
// address, port and protocol.
func SameRealm(in, out *Socket) bool {
	if in == nil || out == nil {
		return false
	}
	return in == out || in.Proto == out.Proto && in.Port == out.Port && in.IP == out.IP
}

// needsDouble reports whether the request in m, sent from out, goes with
// two Record-Route headers.
func (m *Msg) needsDouble(out *Socket) *RecordRoute {
	r := m.RecordRouted()
	if r == nil || !r.Double || SameRealm(m.Rcv.Sock, out) {
		return nil
	}
	return r
}

// doubleRR is the replacement of the inserted Record-Route header when
// the request leaves through another socket.
type doubleRR struct {
	uri   string
	lines string
}

func (r *RecordRoute) double(in *Socket, inProto Proto, out *Socket) *doubleRR {
	line := func(addr string) string {
		return "Record-Route: <" + r.Prefix + addr + ";r2=on" + r.Suffix + ">"
	}
	return &doubleRR{
		uri:   r.URI,
		lines: line(RouteAddr(out, out.Proto)) + "\r\n" + line(RouteAddr(in, inProto)),
	}
}

// replaces reports whether h is the header the double Record-Route
// replaces.
func (d *doubleRR) replaces(h sip.Header) bool {
	rr, ok := h.(*sip.RecordRouteHeader)
	return ok && rr.Address.String() == d.uri
}

// pathKey is the per-message slot of the Path entry the path module's
// add_path() asks for.
var pathKey = NewKey()

// PathEntry is the Path header add_path() puts on a REGISTER (RFC 3327):
// "Path: <" + Prefix + address + Suffix + ">" with the address of the
// socket the request is sent from (RouteAddr), known only then — as
// Kamailio's path module wrote it with a send-socket lump. The header goes
// in front of the request's first Path header, or after its last header.
type PathEntry struct {
	Prefix string // "sip:" and "user@"
	Suffix string // ";lr" and parameters (";received=…")
}

// SetPathEntry records an add_path() for m; false when one was recorded
// already.
func (m *Msg) SetPathEntry(p *PathEntry) bool {
	if m.Get(pathKey) != nil {
		return false
	}
	m.Set(pathKey, p)
	return true
}

// sendEdits are the changes a request gets once its sending socket is
// known: the double Record-Route, the added Path header and, for a
// forwarded request, the Vias (see AppendForward).
type sendEdits struct {
	rr   *doubleRR
	path string // the whole "Path: …" line
	// ours is written before the first header; prev replaces the header
	// prevOf (the previous hop's Via).
	ours, prev *sip.ViaHeader
	prevOf     sip.Header
}

// AppendRequestFrom is AppendRequest for the request in m as sent from
// socket out: m.Path goes on top as a Route header, with double
// record-routing (see RecordRoute) the Record-Route header record_route()
// inserted becomes two, and an add_path() entry (PathEntry) is written.
func AppendRequestFrom(b []byte, m *Msg, out *Socket) []byte {
	return AppendForward(b, m, out, nil, nil)
}

// AppendForward is AppendRequestFrom with our Via written on top (ours,
// when not nil) and the previous hop's Via — the request's first — written
// as prev instead (when not nil; with received/rport added): the request
// as forwarded, serialised without changing m's headers.
func AppendForward(b []byte, m *Msg, out *Socket, ours, prev *sip.ViaHeader) []byte {
	e := sendEdits{ours: ours, prev: prev}
	if prev != nil {
		if v := m.Req.Via(); v != nil {
			e.prevOf = v
		} else {
			e.prev = nil
		}
	}
	if r := m.needsDouble(out); r != nil {
		e.rr = r.double(m.Rcv.Sock, m.Rcv.Proto, out)
	}
	if p, _ := m.Get(pathKey).(*PathEntry); p != nil && out != nil {
		e.path = "Path: <" + p.Prefix + RouteAddr(out, out.Proto) + p.Suffix + ">"
	}
	w := byteWriter{b}
	writeRequestLine(&w, m.Req)
	if m.Path != "" {
		w.WriteString("Route: ")
		w.WriteString(m.Path)
		w.WriteString("\r\n")
	}
	return appendRestWith(w.b, m.Req.Headers(), m.Req.Body(), e)
}
