package sipmsg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// sipgoParser is sipgo's own parser with Parse's size limit: Parse must
// accept and refuse exactly what it does, and build the same message.
var sipgoParser = func() *sip.Parser {
	p := sip.NewParser()
	p.MaxMessageLength = maxParse
	return p
}()

// parseCorpus is the RFC 4475 torture messages and hand-written edge
// cases of the framing: folded lines, multi-value headers, compact and
// odd-case names, bodies shorter and longer than Content-Length, missing
// CRLFs, bad start lines.
func parseCorpus(tb testing.TB) [][]byte {
	files, _ := filepath.Glob("../testdata/torture/*/*.dat")
	if len(files) < 20 {
		tb.Fatalf("torture messages missing: %d files", len(files))
	}
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	hdrs := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP h;branch=z9hG4bK2\r\n" +
		"v: SIP/2.0/UDP [::1]:5070;branch=z9hG4bK3\r\n" +
		"f: \"A, B\" <sip:a@b;user=phone>;tag=1\r\n" +
		"TO: <sip:b@c>\r\n" +
		"i: abc@host\r\n" +
		"CSEQ: 1 INVITE\r\n" +
		"m: <sip:a@1.2.3.4>;expires=60, <sip:b@1.2.3.5>;q=0.5\r\n" +
		"Route: <sip:p1;lr>, <sip:p2;lr>\r\n" +
		"Record-Route: <sip:p3;lr>\r\n" +
		"Max-Forwards: 70\r\n" +
		"Subject: folded\r\n   over\t\r\n\tlines \r\n" +
		"X-Custom-Header-With-A-Very-Long-Name-Beyond-32: v\r\n" +
		"Expires: 60\r\n"
	for _, s := range []string{
		"INVITE sip:bob@example.com;transport=udp SIP/2.0\r\n" + hdrs + "c: application/sdp\r\nl: 4\r\n\r\nv=0\r\n",
		"INVITE sip:bob@example.com SIP/2.0\r\n" + hdrs + "Content-Length: 10\r\n\r\nshort",
		"INVITE sip:bob@example.com SIP/2.0\r\n" + hdrs + "\r\nbody without length",
		"INVITE sip:bob@example.com SIP/2.0\r\n" + hdrs + "Content-Length: 2\r\nContent-Length: 4\r\n\r\nabcdef",
		"invite sip:bob@example.com sip/2.0\r\n" + hdrs + "\r\n",
		"SIP/2.0 200 OK\r\n" + hdrs + "Content-Length: 0\r\n\r\n",
		"SIP/2.0 180 Ringing now\r\n" + hdrs + "\r\n",
		"SIP/2.0 99999 Big\r\n" + hdrs + "\r\n",
		"SIP/2.0 abc Bad\r\n\r\n",
		"INVITE * SIP/2.0\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nSubject: a\r\n b",
		"INVITE sip:a@b SIP/2.0\r\nCSeq: x INVITE\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nMax-Forwards: -1\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: garbage\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nFrom: <sip:a@b\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nTo: *\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\n\r\n",
		"INVITE sip:a@b SIP/2.0",
		"INVITE sip:a@b\r\n\r\n",
		"HELLO\r\n\r\n",
		"\r\n\r\n",
		"",
		"\r",
	} {
		out = append(out, []byte(s))
	}
	out = append(out, bytes.Repeat([]byte("x"), maxParse+1))
	return out
}

// checkSameAsSipgo fails when Parse and sipgo's parser disagree on raw:
// one refuses what the other accepts, the errors differ, or the messages
// serialise differently.
func checkSameAsSipgo(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := sipgoParser.ParseSIP(bytes.Clone(raw))
	got, err := Parse(raw)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%q: error %v, sipgo %v", raw, err, wantErr)
	}
	if err != nil {
		return
	}
	if g, w := got.String(), want.String(); g != w {
		t.Fatalf("%q:\nparsed  %q\nsipgo's %q", raw, g, w)
	}
	if !bytes.Equal(got.Body(), want.Body()) {
		t.Fatalf("%q: body %q, sipgo %q", raw, got.Body(), want.Body())
	}
	for _, name := range []string{"via", "from", "to", "call-id", "cseq", "contact", "route", "record-route", "max-forwards", "content-length", "content-type", "expires", "subject"} {
		g, w := got.GetHeaders(name), want.GetHeaders(name)
		if len(g) != len(w) {
			t.Fatalf("%q: %d %s headers, sipgo %d", raw, len(g), name, len(w))
		}
		for i := range g {
			if g[i].Name() != w[i].Name() || g[i].Value() != w[i].Value() {
				t.Fatalf("%q: %s header %d is %q, sipgo %q", raw, name, i, g[i].String(), w[i].String())
			}
		}
	}
	if r, ok := got.(*sip.Request); ok {
		w := want.(*sip.Request)
		if r.Method != w.Method || r.Recipient.String() != w.Recipient.String() || r.SipVersion != w.SipVersion {
			t.Fatalf("%q: request line %s %s %s, sipgo %s %s %s", raw, r.Method, r.Recipient.String(), r.SipVersion, w.Method, w.Recipient.String(), w.SipVersion)
		}
	}
}

func TestParseSameAsSipgo(t *testing.T) {
	for _, raw := range parseCorpus(t) {
		checkSameAsSipgo(t, raw)
	}
}

// TestParseKeepsNoCopy: what Parse returns points into the bytes given
// instead of copying each header (the point of it).
func TestParseKeepsNoCopy(t *testing.T) {
	raw := []byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: abc\r\nX-Any: v\r\nContent-Length: 3\r\n\r\nabc")
	msg, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	body := msg.Body()
	if &body[0] != &raw[len(raw)-3] || cap(body) != 3 {
		t.Fatalf("body is a copy, or may grow into the bytes after it (cap %d)", cap(body))
	}
	got := testing.AllocsPerRun(100, func() { _, _ = Parse(raw) })
	sipgo := testing.AllocsPerRun(100, func() { _, _ = sipgoParser.ParseSIP(raw) })
	if got+3 > sipgo {
		t.Fatalf("Parse allocates %.0f times for a 5-header request, sipgo's parser %.0f", got, sipgo)
	}
}

func FuzzParseSameAsSipgo(f *testing.F) {
	for _, raw := range parseCorpus(f) {
		if len(raw) <= MaxMsgLen {
			f.Add(raw)
		}
	}
	f.Fuzz(checkSameAsSipgo)
}

// TestOrigURI: the received R-URI comes from the request line, parsed
// when first asked for, and survives rewrites; tm's stored copy sets it
// as text.
func TestOrigURI(t *testing.T) {
	raw := []byte("INVITE sip:bob@example.com;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.com>\r\nContent-Length: 0\r\n\r\n")
	parsed, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := NewRequest(parsed.(*sip.Request), raw, RcvInfo{})
	if err := m.SetURI("sip:carol@example.net"); err != nil {
		t.Fatal(err)
	}
	if got := m.OrigURIText(); got != "sip:bob@example.com;transport=udp" {
		t.Fatalf("OrigURIText %q", got)
	}
	if got := m.OrigURI().String(); got != "sip:bob@example.com;transport=udp" {
		t.Fatalf("OrigURI %q", got)
	}
	m.RevertURI()
	if got := m.URIString(); got != "sip:bob@example.com;transport=udp" {
		t.Fatalf("after revert_uri %q", got)
	}
	m.SetOrigURIText("sip:dave@example.org")
	if got := m.OrigURI().User; got != "dave" {
		t.Fatalf("after SetOrigURIText the user is %q", got)
	}
	// A reply has none.
	if r := NewReply(sip.NewResponse(200, "OK"), nil, RcvInfo{}); r.OrigURIText() != "" || r.OrigURI().Host != "" {
		t.Fatal("a reply has a received R-URI")
	}
}

// benchInvite is a typical INVITE as SIPp's uac sends it, with SDP.
var benchInvite = []byte("INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n" +
	"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1\r\n" +
	"To: sut <sip:service@127.0.0.1:5060>\r\n" +
	"Call-ID: 1-1@127.0.0.1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: sip:sipp@127.0.0.1:5061\r\n" +
	"Max-Forwards: 70\r\n" +
	"Subject: Performance Test\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 129\r\n\r\n" +
	"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

// BenchmarkParse: Parse against sipgo's parser on the same INVITE
// (go test -run '^$' -bench Parse -benchmem ./core/sipmsg).
func BenchmarkParse(b *testing.B) {
	b.Run("sipmsg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(benchInvite); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sipgo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sipgoParser.ParseSIP(benchInvite); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPrependHeader: the in-place PrependHeader leaves the message as
// sipgo's does — same text, same header its accessor returns — with room
// in the list and without.
func TestPrependHeader(t *testing.T) {
	base := "INVITE sip:b@c SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nRecord-Route: <sip:old;lr>\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
	for _, extra := range []string{"", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n", "A: 1\r\nB: 2\r\nC: 3\r\n"} {
		raw := []byte(base + extra + "Content-Length: 0\r\n\r\n")
		m1, _ := Parse(raw)
		m2, _ := Parse(raw)
		r1, r2 := m1.(*sip.Request), m2.(*sip.Request)
		rr := func() *sip.RecordRouteHeader {
			h := &sip.RecordRouteHeader{}
			_ = sip.ParseUri("sip:new;lr", &h.Address)
			return h
		}
		PrependHeader(r1, rr())
		r2.PrependHeader(rr())
		mf1, mf2 := sip.MaxForwardsHeader(70), sip.MaxForwardsHeader(70)
		PrependHeader(r1, &mf1)
		r2.PrependHeader(&mf2)
		if r1.String() != r2.String() {
			t.Fatalf("%d headers:\n%q\n%q", len(r2.Headers()), r1.String(), r2.String())
		}
		if r1.RecordRoute().Address.Host != "new" || r1.MaxForwards() != &mf1 {
			t.Fatalf("%d headers: the accessors do not return the prepended headers", len(r2.Headers()))
		}
	}
}

// TestHeadersNamed: HeadersNamed and FirstHeader find what sipgo's
// GetHeaders and GetHeader find (names without case, message order), and
// an early break stops the walk.
func TestHeadersNamed(t *testing.T) {
	raw := []byte("REGISTER sip:c SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@c>;tag=1\r\nTo: <sip:a@c>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" +
		"Path: <sip:p1;lr>\r\nUser-Agent: x\r\npath: <sip:p2;lr>\r\nPATH: <sip:p3;lr>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n")
	parsed, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	msg := parsed.(*sip.Request)
	for _, name := range []string{"Path", "path", "User-Agent", "user-agent", "Expires", "Contact", "m"} {
		var got []sip.Header
		for h := range HeadersNamed(msg, name) {
			got = append(got, h)
		}
		want := msg.GetHeaders(name)
		if len(got) != len(want) {
			t.Fatalf("%s: %d headers, sipgo %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: header %d differs", name, i)
			}
		}
		if FirstHeader(msg, name) != msg.GetHeader(name) {
			t.Fatalf("%s: FirstHeader differs from GetHeader", name)
		}
	}
	n := 0
	for range HeadersNamed(msg, "Path") {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("break: %d", n)
	}
	if a := testing.AllocsPerRun(100, func() {
		for h := range HeadersNamed(msg, "User-Agent") {
			_ = h
		}
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}
