package transport

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ser/core/sipmsg"
)

func newTestTransport(t *testing.T, o Options) *Transport {
	t.Helper()
	socks := []*sipmsg.Socket{
		{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Name: "127.0.0.1"},
		{Proto: sipmsg.ProtoTCP, IP: netip.MustParseAddr("127.0.0.1"), Name: "127.0.0.1"},
	}
	tr, err := Listen(socks, func([]byte, sipmsg.RcvInfo) {}, o)
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(tr.Close)
	return tr
}

func tcpDest(addr string) sipmsg.Dest {
	return sipmsg.Dest{Proto: sipmsg.ProtoTCP, Addr: netip.MustParseAddrPort(addr)}
}

func msg(i int) []byte {
	return []byte(fmt.Sprintf("OPTIONS sip:x SIP/2.0\r\nCall-ID: %d\r\nContent-Length: 0\r\n\r\n", i))
}

// TestTCPDeliveryInOrder dials a peer in the background and delivers the
// messages queued meanwhile, in order.
func TestTCPDeliveryInOrder(t *testing.T) {
	tr := newTestTransport(t, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst := tcpDest(l.Addr().String())
	for i := 0; i < 100; i++ {
		if err := tr.Send(dst, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < 100; i++ {
		m, err := readMessage(r, 1<<16)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !strings.Contains(string(m), fmt.Sprintf("Call-ID: %d\r\n", i)) {
			t.Fatalf("message %d out of order: %q", i, m)
		}
	}
}

// TestTCPPeerDownFailsFast sends to a port nobody listens on: the first
// send is queued and dropped when the connect fails; later sends fail at
// once while the peer is marked down.
func TestTCPPeerDownFailsFast(t *testing.T) {
	tr := newTestTransport(t, Options{})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dst := tcpDest(addr)
	if err := tr.Send(dst, msg(1)); err != nil {
		t.Fatalf("first send should be queued: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !tr.PeerDown(dst.Addr) {
		if time.Now().After(deadline) {
			t.Fatal("peer never marked down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	for i := 0; i < 1000; i++ {
		if err := tr.Send(dst, msg(i)); !errors.Is(err, ErrPeerDown) {
			t.Fatalf("send %d to a down peer: %v", i, err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("1000 sends to a down peer took %v", d)
	}
	if n := tr.Stats.TCPDropped.Load(); n < 1001 {
		t.Fatalf("TCPDropped = %d, want at least 1001", n)
	}
}

// TestTCPStalledPeerNeverBlocks connects to a peer that accepts but never
// reads (a hung SER, as in Inode's forward_tcp problem): sends keep
// returning at once; when the queue is full they fail with ErrQueueFull.
func TestTCPStalledPeerNeverBlocks(t *testing.T) {
	tr := newTestTransport(t, Options{TCPQueue: 64, TCPWriteTimeout: 200 * time.Millisecond})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c // never read from
		}
	}()
	dst := tcpDest(l.Addr().String())
	big := make([]byte, 64<<10)
	copy(big, "MESSAGE sip:x SIP/2.0\r\nContent-Length: 65000\r\n\r\n")
	start := time.Now()
	var full int
	for i := 0; i < 2000; i++ {
		if err := tr.Send(dst, big); errors.Is(err, ErrQueueFull) {
			full++
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("sending blocked: %d sends took %v", i, d)
		}
	}
	if full == 0 {
		t.Fatal("queue never reported full against a stalled peer")
	}
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(time.Second):
	}
}
