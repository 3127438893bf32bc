package sipmsg

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestAppendMatchesSipgo checks that our serialiser writes exactly what
// sipgo's StringWrite writes, over varied messages (the RFC 4475 torture
// messages that parse, plus IPv6 and parameter cases).
func TestAppendMatchesSipgo(t *testing.T) {
	msgs := []string{
		"INVITE sip:bob@[2001:db8::1]:5060;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::2]:5070;branch=z9hG4bK1;rport\r\nVia: SIP/2.0/TCP host.example.com;branch=z9hG4bK2;received=192.0.2.1\r\nMax-Forwards: 70\r\nFrom: \"A B\" <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.9>;expires=60\r\nRecord-Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2;lr>\r\nX-Custom: hello world\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	}
	files, _ := filepath.Glob("../testdata/torture/valid/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		msgs = append(msgs, string(b))
	}
	checked := 0
	for i, raw := range msgs {
		m, err := Parse([]byte(raw))
		if err != nil {
			continue
		}
		var got []byte
		switch v := m.(type) {
		case *sip.Request:
			got = AppendRequest(nil, v)
		case *sip.Response:
			got = AppendResponse(nil, v)
		}
		if want := m.String(); string(got) != want {
			t.Errorf("message %d:\ngot  %q\nwant %q", i, got, want)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d messages checked", checked)
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	m, _ := Parse([]byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n"))
	req := m.(*sip.Request)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendRequest(buf[:0], req)
	}
}
