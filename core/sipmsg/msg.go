// Package sipmsg holds the per-message context that the script interpreter and
// every module function work on: the parsed SIP message (sipgo's model), how
// it arrived, its flags and its destination set.
package sipmsg

import (
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/emiago/sipgo/sip"
)

// Proto is a transport protocol, numbered as in SER (PROTO_UDP=1 …).
type Proto uint8

// Transport protocols.
const (
	ProtoNone Proto = 0
	ProtoUDP  Proto = 1
	ProtoTCP  Proto = 2
	ProtoTLS  Proto = 3
)

// String returns the protocol in lower case ("udp", "tcp", "tls").
func (p Proto) String() string {
	switch p {
	case ProtoUDP:
		return "udp"
	case ProtoTCP:
		return "tcp"
	case ProtoTLS:
		return "tls"
	}
	return "none"
}

// ViaName returns the protocol as written in a Via header ("UDP", "TCP").
func (p Proto) ViaName() string { return strings.ToUpper(p.String()) }

// ParseProto converts "udp", "TCP", … into a Proto; ok is false for others.
func ParseProto(s string) (Proto, bool) {
	switch strings.ToLower(s) {
	case "udp":
		return ProtoUDP, true
	case "tcp":
		return ProtoTCP, true
	case "tls":
		return ProtoTLS, true
	}
	return ProtoNone, false
}

// Socket is a local listening socket: the server receives on it and sends
// replies and forwarded requests from it, so they leave from the advertised
// address.
type Socket struct {
	Proto Proto
	IP    netip.Addr
	Port  int
	// Name is the host written into Via and Record-Route headers.
	Name string
	// AdvPort is the port written into Via and Record-Route headers
	// (advertised_port); 0 means Port.
	AdvPort int
	// Index is the socket's position in the listen list (SER's sock=N).
	Index int
}

// ViaPort returns the port this socket advertises in headers.
func (s *Socket) ViaPort() int {
	if s.AdvPort != 0 {
		return s.AdvPort
	}
	return s.Port
}

// Names reports whether host:port, as found in a Via or URI, designates
// this socket: its advertised name and port, or its own address and port.
func (s *Socket) Names(host string, port int) bool {
	host = strings.Trim(host, "[]")
	if port == s.ViaPort() && strings.EqualFold(host, strings.Trim(s.Name, "[]")) {
		return true
	}
	if port != s.Port {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap() == s.IP
}

// HostPort returns "name:port" for this socket, as advertised in headers.
func (s *Socket) HostPort() string {
	var buf [64]byte
	return string(s.AppendHostPort(buf[:0]))
}

// AppendHostPort appends HostPort() to b.
func (s *Socket) AppendHostPort(b []byte) []byte {
	if s.IP.Is6() && !strings.HasPrefix(s.Name, "[") {
		b = append(b, '[')
		b = append(b, s.Name...)
		b = append(b, ']')
	} else {
		b = append(b, s.Name...)
	}
	b = append(b, ':')
	return strconv.AppendInt(b, int64(s.ViaPort()), 10)
}

// String returns "proto:name:port".
func (s *Socket) String() string { return s.Proto.String() + ":" + s.HostPort() }

// RcvInfo tells how a message arrived.
type RcvInfo struct {
	Src   netip.AddrPort // remote address (src_ip, src_port)
	Sock  *Socket        // local socket it arrived on (dst_ip, dst_port)
	Proto Proto
	// ConnID identifies the TCP connection a message came on (0 for UDP);
	// replies go back over the same connection when it is still open.
	ConnID uint64
}

// Branch is one extra entry of the destination set (beyond the R-URI).
type Branch struct {
	URI    string
	DstURI string  // next hop, when it differs from URI
	Path   string  // route set towards the contact (see Msg.Path)
	Q      float32 // -1 when not set
	Flags  uint32
}

// Flags is SER's set of 32 per-message flags (setflag/resetflag/isflagset).
type Flags uint32

// MaxFlag is the highest flag number.
const MaxFlag = 31

// Key indexes a module's per-message value (for example the credentials an
// auth function accepted, or the transaction tm created).
type Key int

var nextKey atomic.Int32

// MaxKeys is the number of per-message value slots.
const MaxKeys = 16

// NewKey allocates a per-message slot. Modules call it from a package
// variable initialiser; it panics when the slots are exhausted.
func NewKey() Key {
	k := nextKey.Add(1) - 1
	if k >= MaxKeys {
		panic("sipmsg: too many per-message keys")
	}
	return Key(k)
}

// Msg is a received (or locally generated) SIP message with the state the
// routing script builds up while processing it.
type Msg struct {
	Req  *sip.Request  // set for requests
	Resp *sip.Response // set for replies
	Raw  []byte        // the bytes as received
	Rcv  RcvInfo

	Flags Flags

	// origText is the R-URI as received (revert_uri restores it), as
	// the request line wrote it; origURI is its parsed form, made on the
	// first OrigURI call (most requests never need it: tm keeps the text,
	// rr and the rest read the current R-URI). Both are empty for replies.
	origText string
	origURI  *sip.Uri
	// uriStr caches Req.Recipient.String(); cleared on every rewrite.
	uriStr string
	// DstURI is the next hop when it differs from the R-URI (set by
	// loose_route, by lookup() for NATed contacts, by forward targets).
	DstURI string
	// Path is the route set towards the R-URI's contact, as registered
	// with it (RFC 3327: the REGISTER's Path, comma-joined URIs, set by
	// registrar's lookup); the request is sent with it as a Route header
	// on top, to DstURI, its first hop.
	Path string
	// Branches are the destination set entries after the R-URI.
	Branches []Branch
	// RURIQ is the q value of the R-URI entry (-1: not set).
	RURIQ float32
	// ForceSocket, when set, is the socket to send from.
	ForceSocket *Socket

	// Dropped is set by the drop action (in an onreply route the reply is
	// not relayed).
	Dropped bool

	// ReplyHeaders are header lines ("Name: value") to add to the next
	// locally generated reply (textops' append_to_reply, auth challenges);
	// an entry may hold several lines separated by CRLF (the registrar's
	// Contact list).
	ReplyHeaders []string

	// ErrCode and ErrReason describe why the last action failed (set with
	// SetError); sl_reply_error answers with them.
	ErrCode   int
	ErrReason string

	// avps is the AVP list (avp.go); nil until the script adds one.
	avps *AVPList

	// Script is the compiled routing script the message is processed
	// under (the core sets it before running route{}). The configuration
	// can be reloaded while a transaction runs: tm keeps this value with
	// the transaction and puts it on the messages its failure and onreply
	// routes run for, so those routes come from the script the
	// transaction started under. Opaque here; nil means the current one.
	Script any

	// vals are the per-message values (Get/Set) that were set, in the
	// order of their first Set: most messages carry none or one or two
	// (tm's state, rr's Record-Route), so a short list costs less than a
	// slot per key (issue 19: allocations per call).
	vals []keyVal
}

// keyVal is one per-message value.
type keyVal struct {
	k Key
	v any
}

// NewRequest wraps a request parsed from raw (Parse), its R-URI not
// changed since: the received R-URI (OrigURI) is the request line's.
func NewRequest(req *sip.Request, raw []byte, rcv RcvInfo) *Msg {
	m := &Msg{Req: req, Raw: raw, Rcv: rcv, RURIQ: -1}
	if text, ok := requestURIText(raw); ok {
		m.origText = text
	} else {
		orig := req.Recipient
		orig.UriParams = orig.UriParams.Clone()
		orig.Headers = orig.Headers.Clone()
		m.origURI = &orig
	}
	return m
}

// requestURIText is the Request-URI of a request line as written, a
// string over raw's own bytes (which Parse already requires to stay
// unchanged).
func requestURIText(raw []byte) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	line := unsafe.String(unsafe.SliceData(raw), len(raw))
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	_, rest, ok1 := strings.Cut(line, " ")
	uri, _, ok2 := strings.Cut(rest, " ")
	return uri, ok1 && ok2 && uri != ""
}

// SetOrigURIText sets the R-URI the request was received with, as text
// (tm's stored copy of a request, whose R-URI had been rewritten).
func (m *Msg) SetOrigURIText(text string) {
	m.origText, m.origURI = text, nil
}

// OrigURIText is the received R-URI as the request line wrote it (for a
// request made with SetOrigURIText, the text given); its parsed form is
// OrigURI.
func (m *Msg) OrigURIText() string {
	if m.origText == "" && m.origURI != nil {
		return URIString(m.origURI)
	}
	return m.origText
}

// NewReply wraps a parsed reply.
func NewReply(resp *sip.Response, raw []byte, rcv RcvInfo) *Msg {
	return &Msg{Resp: resp, Raw: raw, Rcv: rcv, RURIQ: -1}
}

// IsRequest reports whether the message is a request.
func (m *Msg) IsRequest() bool { return m.Req != nil }

// Method returns the request method, or the CSeq method of a reply.
func (m *Msg) Method() string {
	if m.Req != nil {
		return string(m.Req.Method)
	}
	if m.Resp != nil {
		if cs := m.Resp.CSeq(); cs != nil {
			return string(cs.MethodName)
		}
	}
	return ""
}

// Message returns the underlying sipgo message.
func (m *Msg) Message() sip.Message {
	if m.Req != nil {
		return m.Req
	}
	return m.Resp
}

// URI returns the current Request-URI (nil for replies).
func (m *Msg) URI() *sip.Uri {
	if m.Req == nil {
		return nil
	}
	return &m.Req.Recipient
}

// URIString returns the current Request-URI as text.
func (m *Msg) URIString() string {
	if m.Req == nil {
		return ""
	}
	if m.uriStr == "" {
		m.uriStr = URIString(&m.Req.Recipient)
	}
	return m.uriStr
}

// OrigURI returns the Request-URI as it was received (an empty URI for
// replies).
func (m *Msg) OrigURI() *sip.Uri {
	if m.origURI == nil {
		u := new(sip.Uri)
		if m.Req != nil && sip.ParseUri(m.origText, u) != nil {
			// Not expected (the request line parsed before): the R-URI
			// as it is now.
			*u = *m.Req.Recipient.Clone()
		}
		m.origURI = u
	}
	return m.origURI
}

// URIChanged must be called after the R-URI was modified in place.
func (m *Msg) URIChanged() { m.uriStr = "" }

// SetURI replaces the Request-URI with the parsed form of s.
func (m *Msg) SetURI(s string) error {
	if m.Req == nil {
		return fmt.Errorf("sipmsg: set uri: not a request")
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return fmt.Errorf("sipmsg: set uri %q: %w", s, err)
	}
	m.Req.Recipient = u
	m.uriStr = ""
	return nil
}

// RevertURI restores the Request-URI received with the request.
func (m *Msg) RevertURI() {
	if m.Req == nil {
		return
	}
	m.Req.Recipient = *m.OrigURI().Clone()
	m.uriStr = ""
}

// AppendBranch adds an entry to the destination set.
func (m *Msg) AppendBranch(b Branch) { m.Branches = append(m.Branches, b) }

// ClearBranches empties the destination set beyond the R-URI.
func (m *Msg) ClearBranches() { m.Branches = m.Branches[:0] }

// Get returns the per-message value stored under k.
func (m *Msg) Get(k Key) any {
	for _, kv := range m.vals {
		if kv.k == k {
			return kv.v
		}
	}
	return nil
}

// Set stores a per-message value under k.
func (m *Msg) Set(k Key, v any) {
	for i := range m.vals {
		if m.vals[i].k == k {
			m.vals[i].v = v
			return
		}
	}
	if v == nil {
		return
	}
	if m.vals == nil {
		m.vals = make([]keyVal, 0, 2)
	}
	m.vals = append(m.vals, keyVal{k, v})
}

// SetFlag sets flag n (0..31).
func (m *Msg) SetFlag(n int) { m.Flags |= 1 << uint(n) }

// ResetFlag clears flag n.
func (m *Msg) ResetFlag(n int) { m.Flags &^= 1 << uint(n) }

// IsFlagSet reports whether flag n is set.
func (m *Msg) IsFlagSet(n int) bool { return m.Flags&(1<<uint(n)) != 0 }

// CallID returns the Call-ID value or "".
func (m *Msg) CallID() string {
	if h := m.Message().CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// Header returns the value of the first header called name (any case,
// compact forms included), or "".
func (m *Msg) Header(name string) string {
	if h := FirstHeader(m.Message(), name); h != nil {
		return h.Value()
	}
	return ""
}

// FirstHeader is sipgo's GetHeader: the first header called name (ASCII
// case folded, no compact forms), or nil. sipgo lower-cases the name of
// every header it passes (an allocation for most); this compares in
// place.
func FirstHeader(msg sip.Message, name string) sip.Header {
	for h := range HeadersNamed(msg, name) {
		return h
	}
	return nil
}

// HeadersNamed is sipgo's GetHeaders as an iterator: the headers called
// name (ASCII case folded, no compact forms) in message order, compared
// in place instead of lower-casing every header name and collecting them
// into a new slice.
func HeadersNamed(msg sip.Message, name string) iter.Seq[sip.Header] {
	return func(yield func(sip.Header) bool) {
		for _, h := range msg.(interface{ Headers() []sip.Header }).Headers() {
			if asciiEqualFold(h.Name(), name) && !yield(h) {
				return
			}
		}
	}
}

// PrependHeader is sipgo's PrependHeader (h becomes the first header and
// the one its accessor returns) without its copy of the header list when
// the list has room: h is appended and rotated to the front in place.
func PrependHeader(msg sip.Message, h sip.Header) {
	list, ok := msg.(interface {
		Headers() []sip.Header
		ReplaceHeader(sip.Header)
	})
	if !ok || len(list.Headers()) == cap(list.Headers()) {
		msg.PrependHeader(h)
		return
	}
	msg.AppendHeader(h)
	hs := list.Headers() // sipgo's own list: rotated in place
	copy(hs[1:], hs[:len(hs)-1])
	hs[0] = h
	// h is now the first header of its name: its accessor must return it
	// (AppendHeader set it only when there was none).
	list.ReplaceHeader(h)
}

// asciiEqualFold reports whether a and b are equal with ASCII letters
// compared without case (sipgo's HeaderToLower folds only those).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
