package rtpengine

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestRelay creates a call over the control protocol, sends RTP both
// ways through it, and deletes it.
func TestRelay(t *testing.T) {
	s := Start(t)
	a, b := listen(t), listen(t)
	offer := strings.Fields(s.Command(t, fmt.Sprintf("U call1 127.0.0.1 %d ft;1", a.LocalAddr().(*net.UDPAddr).Port)))
	answer := strings.Fields(s.Command(t, fmt.Sprintf("L call1 127.0.0.1 %d ft;1 tt;1", b.LocalAddr().(*net.UDPAddr).Port)))
	if len(offer) < 2 || len(answer) < 2 || offer[1] != "127.0.0.1" {
		t.Fatalf("offer %v answer %v", offer, answer)
	}
	pkt := append([]byte{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, make([]byte, 160)...)
	for i := 0; i < 5; i++ {
		if _, err := a.WriteTo(pkt, udpAddr(t, "127.0.0.1:"+answer[0])); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteTo(pkt, udpAddr(t, "127.0.0.1:"+offer[0])); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []net.PacketConn{a, b} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadFrom(make([]byte, 2048)); err != nil {
			t.Fatalf("no packet relayed: %v", err)
		}
	}
	if got := s.Sessions(t); len(got) != 1 || got[0] != "call1" {
		t.Fatalf("sessions %v", got)
	}
	if n := s.Totals(t)["Total relayed packets"]; n < 2 {
		t.Fatalf("relayed packets %d", n)
	}
	if got := s.Command(t, "D call1 ft tt"); got != "0" {
		t.Fatalf("delete: %q", got)
	}
	if got := s.Sessions(t); len(got) != 0 {
		t.Fatalf("sessions after delete %v", got)
	}
}

func listen(t *testing.T) net.PacketConn {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func udpAddr(t *testing.T, s string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
