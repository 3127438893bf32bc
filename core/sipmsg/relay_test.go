package sipmsg

import (
	"strings"
	"testing"
)

func TestAppendWithoutTopVia(t *testing.T) {
	const tail = "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\n"
	for _, c := range []struct {
		name, in string
		bodyLen  int
		want     string // "" = not cut
	}{
		{"plain", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP them;branch=z9hG4bKb\r\n" + tail + "body",
			4, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP them;branch=z9hG4bKb\r\n" + tail + "body"},
		{"compact, lower case, spaced name", "SIP/2.0 180 Ringing\r\nRecord-Route: <sip:p;lr>\r\nv : SIP/2.0/UDP ours\r\nvIA: SIP/2.0/TCP them\r\n" + tail + "body",
			4, "SIP/2.0 180 Ringing\r\nRecord-Route: <sip:p;lr>\r\nvIA: SIP/2.0/TCP them\r\n" + tail + "body"},
		{"bare LF", strings.ReplaceAll("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\nVia: SIP/2.0/UDP them\r\n"+tail+"body", "\r\n", "\n"),
			4, strings.ReplaceAll("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP them\r\n"+tail+"body", "\r\n", "\n")},
		{"bytes after the body are not relayed", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\nVia: SIP/2.0/UDP them\r\n" + tail + "bodyJUNK",
			4, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP them\r\n" + tail + "body"},
		{"a folded line before the Via", "SIP/2.0 200 OK\r\nSubject: a\r\n via: b\r\nVia: SIP/2.0/UDP ours\r\nVia: SIP/2.0/UDP them\r\n" + tail + "body",
			4, "SIP/2.0 200 OK\r\nSubject: a\r\n via: b\r\nVia: SIP/2.0/UDP them\r\n" + tail + "body"},
		{"two values on the line", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours, SIP/2.0/UDP them\r\n" + tail + "body", 4, ""},
		{"folded Via", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\n ;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP them\r\n" + tail + "body", 4, ""},
		{"no Via", "SIP/2.0 200 OK\r\n" + tail + "body", 4, ""},
		{"no end of headers", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\n", 0, ""},
		{"leading CRLF", "\r\nSIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\nVia: SIP/2.0/UDP them\r\n" + tail + "body", 4, ""},
		{"short body", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ours\r\n" + tail + "bo", 4, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("x")
			got, ok := AppendWithoutTopVia(prefix, []byte(c.in), c.bodyLen)
			if c.want == "" {
				if ok || string(got) != "x" {
					t.Fatalf("cut %q, want no cut", got)
				}
				return
			}
			if !ok || string(got) != "x"+c.want {
				t.Fatalf("got %v %q\nwant %q", ok, got, "x"+c.want)
			}
		})
	}
}
