package modtest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// DefaultSrc is the address test messages come from.
var DefaultSrc = netip.MustParseAddrPort("192.0.2.10:5060")

// Option changes how a test message arrived.
type Option func(*sipmsg.RcvInfo)

// From sets the source address ("ip:port").
func From(addrPort string) Option {
	return func(r *sipmsg.RcvInfo) { r.Src = netip.MustParseAddrPort(addrPort) }
}

// On sets the socket the message arrived on, and its protocol.
func On(s *sipmsg.Socket) Option {
	return func(r *sipmsg.RcvInfo) { r.Sock, r.Proto = s, s.Proto }
}

// OverTCP makes the message arrive on TCPSocket over connection 7.
func OverTCP() Option {
	return func(r *sipmsg.RcvInfo) { r.Sock, r.Proto, r.ConnID = TCPSocket, sipmsg.ProtoTCP, 7 }
}

// Rcv returns the receive information: from DefaultSrc on UDPSocket
// unless opts say otherwise.
func Rcv(opts ...Option) sipmsg.RcvInfo {
	r := sipmsg.RcvInfo{Src: DefaultSrc, Sock: UDPSocket, Proto: sipmsg.ProtoUDP}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// CRLF turns bare LF line ends into CRLF (CRLF stays), so tests can write
// messages as Go raw strings.
func CRLF(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.ReplaceAll(text, "\n", "\r\n")
}

// Parse parses message text (see CRLF) into a request or reply context;
// the test fails on a parse error.
func Parse(tb testing.TB, text string, opts ...Option) *sipmsg.Msg {
	tb.Helper()
	m, err := ParseErr(text, opts...)
	if err != nil {
		tb.Fatalf("modtest: %v", err)
	}
	return m
}

// ParseErr is Parse returning the error.
func ParseErr(text string, opts ...Option) (*sipmsg.Msg, error) {
	raw := []byte(CRLF(text))
	msg, err := sipmsg.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse: %w\n%s", err, raw)
	}
	rcv := Rcv(opts...)
	switch v := msg.(type) {
	case *sip.Request:
		return sipmsg.NewRequest(v, raw, rcv), nil
	case *sip.Response:
		return sipmsg.NewReply(v, raw, rcv), nil
	}
	return nil, fmt.Errorf("parse: unexpected message type %T", msg)
}

// Request describes a test request; zero fields take RFC 3261 §24.2 style
// defaults (an INVITE from alice to bob at example.com).
type Request struct {
	Method string // INVITE
	URI    string // sip:bob@example.com
	// Via are header values, topmost first; default one UDP Via from
	// DefaultSrc with branch z9hG4bK776asdhds.
	Via    []string
	From   string // Alice <sip:alice@example.com>;tag=1928301774
	To     string // Bob <sip:bob@example.com>
	CallID string // a84b4c76e66710@pc33.example.com
	CSeq   int    // 314159
	// MaxForwards is the Max-Forwards value: 0 means 70, negative omits
	// the header.
	MaxForwards int
	// Headers are extra lines ("Name: value"), written after CSeq.
	Headers []string
	// ContentType and Body give a body (Content-Length is always written).
	ContentType string
	Body        string
}

// String returns the request text with CRLF line ends.
func (r Request) String() string {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	method := def(r.Method, "INVITE")
	via := r.Via
	if len(via) == 0 {
		via = []string{"SIP/2.0/UDP " + DefaultSrc.String() + ";branch=z9hG4bK776asdhds"}
	}
	cseq := r.CSeq
	if cseq == 0 {
		cseq = 314159
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, def(r.URI, "sip:bob@example.com"))
	for _, v := range via {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	switch {
	case r.MaxForwards == 0:
		b.WriteString("Max-Forwards: 70\r\n")
	case r.MaxForwards > 0:
		fmt.Fprintf(&b, "Max-Forwards: %d\r\n", r.MaxForwards)
	}
	fmt.Fprintf(&b, "To: %s\r\n", def(r.To, "Bob <sip:bob@example.com>"))
	fmt.Fprintf(&b, "From: %s\r\n", def(r.From, "Alice <sip:alice@example.com>;tag=1928301774"))
	fmt.Fprintf(&b, "Call-ID: %s\r\n", def(r.CallID, "a84b4c76e66710@pc33.example.com"))
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
	for _, h := range r.Headers {
		b.WriteString(strings.TrimRight(h, "\r\n") + "\r\n")
	}
	if r.ContentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.ContentType)
	}
	body := CRLF(r.Body)
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

// Msg parses the request into a message context received as opts say.
func (r Request) Msg(tb testing.TB, opts ...Option) *sipmsg.Msg {
	tb.Helper()
	return Parse(tb, r.String(), opts...)
}

// SDP is a small RFC 4317 style offer, handy as a body.
const SDP = "v=0\r\n" +
	"o=alice 2890844526 2890844526 IN IP4 192.168.0.10\r\n" +
	"s=-\r\n" +
	"c=IN IP4 192.168.0.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n"
