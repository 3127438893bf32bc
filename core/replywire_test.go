package core

import (
	"net/netip"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
)

// TestReplyWireMatchesBuildReply checks that a reply written straight to
// bytes (Reply, ReplyWire) is, byte for byte, what serialising
// BuildReply's sip.Response gives, and goes to the same place, over
// requests with every header BuildReply treats specially.
func TestReplyWireMatchesBuildReply(t *testing.T) {
	requests := map[string]string{
		"invite": "INVITE sip:bob@example.com SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK1;rport\r\n" +
			"Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK0;received=198.51.100.1\r\n" +
			"Record-Route: <sip:p1.example.com;lr>\r\nRecord-Route: <sip:p2.example.com;lr;ftag=x>\r\n" +
			"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;p=1\r\n" +
			"Call-ID: c1@192.0.2.1\r\nCSeq: 7 INVITE\r\nTimestamp: 54.2\r\nMax-Forwards: 70\r\n" +
			"X-Upper-Case: v\r\nContent-Length: 0\r\n\r\n",
		"compact, rport with a value, To with a tag": "BYE sip:bob@192.0.2.9 SIP/2.0\r\n" +
			"v: SIP/2.0/UDP host.example.com:5060;branch=z9hG4bK2;rport=1234, SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3\r\n" +
			"f: <sip:alice@example.com>;tag=a2\r\nt: Bob <sip:bob@example.com>;tag=b2\r\ni: c2\r\nCSeq: 8 BYE\r\nl: 0\r\n\r\n",
		"register": "REGISTER sip:example.com SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK4\r\nRecord-Route: <sip:ignored;lr>\r\n" +
			"From: <sip:u@example.com>;tag=f\r\nTo: <sip:u@example.com>\r\nCall-ID: c3\r\nCSeq: 1 REGISTER\r\n" +
			"Contact: <sip:u@127.0.0.1:5099>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
	}
	opts := map[string]module.ReplyOpts{
		"none":    {},
		"to-tag":  {ToTag: "given"},
		"headers": {Headers: []string{"Contact: <sip:u@h>;expires=60", "A: 1\r\nB:2\r\n", "no colon"}},
		"body":    {ContentType: "text/plain", Body: []byte("hello"), Headers: []string{"Allow: INVITE"}},
	}
	servers := map[string]*Server{
		"defaults": newTestServer(t, routerFunc(func(*sipmsg.Msg) int { return 1 })),
		"no warning, no signature": newTestServer(t, routerFunc(func(*sipmsg.Msg) int { return 1 }), func(o *Options) {
			o.SipWarning, o.ServerSig = false, false
		}),
	}
	for sname, srv := range servers {
		for rname, raw := range requests {
			for oname, o := range opts {
				for _, code := range []int{100, 180, 200, 302, 404} {
					for _, force := range []bool{false, true} {
						msg, err := sipmsg.Parse([]byte(raw))
						if err != nil {
							t.Fatal(err)
						}
						req, _ := asRequest(msg)
						m := sipmsg.NewRequest(req, []byte(raw), sipmsg.RcvInfo{
							Src: netip.MustParseAddrPort("192.0.2.1:5062"), Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP,
						})
						if force {
							m.SetForceRport()
						}
						m.ReplyHeaders = []string{"X-Appended: yes"}
						want := sipmsg.AppendResponse(nil, srv.BuildReply(m, code, "Reason Here", o))
						wantDst, _ := srv.ReplyDest(m.Rcv, srv.BuildReply(m, code, "Reason Here", o).Via())
						got, dst, err := srv.ReplyWire(m, code, "Reason Here", o)
						if err != nil {
							t.Fatalf("%s/%s/%s/%d: %v", sname, rname, oname, code, err)
						}
						if string(got) != string(want) {
							t.Fatalf("%s/%s/%s/%d/force=%v:\ngot\n%s\nwant\n%s", sname, rname, oname, code, force, got, want)
						}
						if dst != wantDst {
							t.Fatalf("%s/%s/%s/%d: dst %v, want %v", sname, rname, oname, code, dst, wantDst)
						}
						// The request is left as it was.
						if again := sipmsg.AppendResponse(nil, srv.BuildReply(m, code, "Reason Here", o)); string(again) != string(want) {
							t.Fatalf("ReplyWire changed the request")
						}
					}
				}
			}
		}
	}
	// A Content-Length among the extra lines takes the sip.Response path
	// (same result).
	srv := servers["defaults"]
	msg, _ := sipmsg.Parse([]byte(requests["register"]))
	req, _ := asRequest(msg)
	m := sipmsg.NewRequest(req, nil, sipmsg.RcvInfo{Src: netip.MustParseAddrPort("127.0.0.1:5099"), Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP})
	o := module.ReplyOpts{Headers: []string{"content-length: 3"}, Body: []byte("abc")}
	got, _, err := srv.ReplyWire(m, 200, "OK", o)
	if want := sipmsg.AppendResponse(nil, srv.BuildReply(m, 200, "OK", o)); err != nil || string(got) != string(want) || !strings.Contains(string(got), "content-length: 3") {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}

// TestWarningInURIAsReceived: the Warning's in_uri is the request line's
// text byte for byte (SER prints first_line.u.request.uri), not the
// parsed URI written again.
func TestWarningInURIAsReceived(t *testing.T) {
	raw := "INVITE SIP:Bob@example.com;Transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: w1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	srv := newTestServer(t, routerFunc(func(*sipmsg.Msg) int { return 1 }))
	msg, err := sipmsg.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := asRequest(msg)
	m := sipmsg.NewRequest(req, []byte(raw), sipmsg.RcvInfo{
		Src: netip.MustParseAddrPort("192.0.2.1:5062"), Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP,
	})
	got, _, err := srv.ReplyWire(m, 100, "Trying", module.ReplyOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), " in_uri=SIP:Bob@example.com;Transport=udp out_uri=") {
		t.Fatalf("Warning:\n%s", got)
	}
}
