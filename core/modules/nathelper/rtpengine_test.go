package nathelper

import (
	"fmt"
	"strings"
	"testing"

	"ser/internal/testing/modtest"
	"ser/internal/testing/rtpengine"
)

// TestRTPEngine runs force_rtp_proxy and unforce_rtp_proxy against a real
// rtpengine (its rtpproxy-compatible control protocol over UDP): the
// offer and the answer get rtpengine's address and ports of its range,
// the call exists there until unforce_rtp_proxy deletes it.
func TestRTPEngine(t *testing.T) {
	re := rtpengine.Start(t)
	n, env := loadRTP(t, "udp:"+re.Control, nil)
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
	unforce := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy")
	start(t, n)

	inv := invite(t, offerSDP)
	if r, _ := force(inv); r != 1 {
		t.Fatalf("force_rtp_proxy on the INVITE: %d\n%s", r, re.Output())
	}
	ok := reply200(t, "v=0\r\no=bob 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n")
	if r, _ := force(ok); r != 1 {
		t.Fatalf("force_rtp_proxy on the 200: %d", r)
	}
	var ports []int
	for _, m := range []string{body(inv), body(ok)} {
		if !strings.Contains(m, "c=IN IP4 127.0.0.1\r\n") || !strings.HasSuffix(m, "a=nortpproxy:yes\r\n") {
			t.Fatalf("SDP not relayed:\n%s", m)
		}
		var port int
		i := strings.Index(m, "m=audio ")
		if _, err := fmt.Sscanf(m[i:], "m=audio %d", &port); err != nil || port < re.PortMin || port > re.PortMax {
			t.Fatalf("port %d not in rtpengine's range %d-%d:\n%s", port, re.PortMin, re.PortMax, m)
		}
		ports = append(ports, port)
	}
	if ports[0] == ports[1] {
		t.Fatalf("offer and answer got the same port %d", ports[0])
	}
	if s := re.Sessions(t); len(s) != 1 || s[0] != "call-1@10.0.0.5" {
		t.Fatalf("rtpengine sessions %v", s)
	}
	bye := modtest.Request{Method: "BYE", To: "Bob <sip:bob@example.com>;tag=b0b", CallID: "call-1@10.0.0.5"}.Msg(t)
	if r, _ := unforce(bye); r != 1 {
		t.Fatalf("unforce_rtp_proxy: %d", r)
	}
	if s := re.Sessions(t); len(s) != 0 {
		t.Fatalf("rtpengine sessions after unforce_rtp_proxy: %v", s)
	}
}
