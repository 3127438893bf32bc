package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
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

// TestTCPGatheredWrites queues messages of very different sizes faster
// than a slow reader takes them, so that the writer sends batches of them
// in gathered writes that the kernel accepts only in part: every message
// arrives whole and in order, and the queued bytes all come back.
func TestTCPGatheredWrites(t *testing.T) {
	tr := newTestTransport(t, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst := tcpDest(l.Addr().String())
	const n = 400
	body := func(i int) string { return strings.Repeat("x", (i*7919)%30000) }
	for i := 0; i < n; i++ {
		b := body(i)
		m := fmt.Sprintf("MESSAGE sip:x SIP/2.0\r\nCall-ID: %d\r\nContent-Length: %d\r\n\r\n%s", i, len(b), b)
		if err := tr.Send(dst, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(c, 512)
	for i := 0; i < n; i++ {
		if i%50 == 0 {
			time.Sleep(10 * time.Millisecond) // let the kernel buffers fill up
		}
		m, err := readWhole(r)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !strings.Contains(m, fmt.Sprintf("Call-ID: %d\r\n", i)) || !strings.HasSuffix(m, "\r\n\r\n"+body(i)) {
			t.Fatalf("message %d out of order or cut: %.80q", i, m)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); tr.queuedBytes.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still counted as queued", tr.queuedBytes.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readWhole reads one message: header lines up to the empty one, then
// Content-Length bytes.
func readWhole(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	clen := 0
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return sb.String(), err
		}
		sb.WriteString(l)
		if v, ok := strings.CutPrefix(l, "Content-Length: "); ok {
			clen, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if l == "\r\n" {
			break
		}
	}
	b := make([]byte, clen)
	_, err := io.ReadFull(r, b)
	sb.Write(b)
	return sb.String(), err
}

// TestTCPPeerCatchesUp sends to a port nobody listens on: the messages
// wait in the peer's queue (sending never blocks), the peer is retried,
// and when it listens again it gets every message in order — how a
// restarted replication peer catches up. Beyond the queue's bound, sends
// fail with ErrQueueFull.
func TestTCPPeerCatchesUp(t *testing.T) {
	tr := newTestTransport(t, Options{TCPQueue: 200, TCPMaxBackoff: 300 * time.Millisecond})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dst := tcpDest(addr)
	start := time.Now()
	for i := 0; i < 200; i++ {
		if err := tr.Send(dst, msg(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := tr.Send(dst, msg(200)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("send beyond the bound: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("queueing for a down peer took %v", d)
	}
	waitDown := time.Now().Add(5 * time.Second)
	for !tr.PeerDown(dst.Addr) {
		if time.Now().After(waitDown) {
			t.Fatal("peer never marked down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if q := tr.Queued(dst.Addr); q != 200 {
		t.Fatalf("queued = %d, want 200", q)
	}
	// The peer comes back on the same port.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < 200; i++ {
		m, err := readMessage(r, 1<<16)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !strings.Contains(string(m), fmt.Sprintf("Call-ID: %d\r\n", i)) {
			t.Fatalf("message %d out of order: %q", i, m)
		}
	}
}

// TestTCPQueueLifetime drops messages that waited too long for a peer.
func TestTCPQueueLifetime(t *testing.T) {
	tr := newTestTransport(t, Options{TCPQueueLifetime: 100 * time.Millisecond, TCPMaxBackoff: 50 * time.Millisecond})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dst := tcpDest(addr)
	for i := 0; i < 10; i++ {
		tr.Send(dst, msg(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for tr.Queued(dst.Addr) != 0 || tr.Stats.TCPDropped.Load() < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("queued=%d dropped=%d", tr.Queued(dst.Addr), tr.Stats.TCPDropped.Load())
		}
		time.Sleep(10 * time.Millisecond)
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
