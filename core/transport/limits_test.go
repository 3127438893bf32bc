package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ser/core/sipmsg"
)

// limitTransport is a transport on 127.0.0.1 counting what it receives.
func limitTransport(t *testing.T, o Options) (*Transport, string, *atomic.Int64) {
	t.Helper()
	var got atomic.Int64
	socks := []*sipmsg.Socket{{Proto: sipmsg.ProtoTCP, IP: netip.MustParseAddr("127.0.0.1"), Name: "127.0.0.1"}}
	tr, err := Listen(socks, func([]byte, sipmsg.RcvInfo) { got.Add(1) }, o)
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(tr.Close)
	return tr, tr.Sockets()[0].HostPort(), &got
}

// poll waits up to 10 s for cond.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// closedByPeer waits until the server closes c (EOF or reset).
func closedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

// TestTCPMaxConnections: over tcp_max_connections a new connection is
// reset at once; the open ones keep working; after one closes a new one
// is accepted again.
func TestTCPMaxConnections(t *testing.T) {
	tr, addr, got := limitTransport(t, Options{TCPMaxConns: 5})
	var open []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	poll(t, "5 connections", func() bool { return tr.ConnCount() == 5 })
	// The reset may even beat the end of the handshake.
	if over, err := net.Dial("tcp", addr); err == nil {
		closedByPeer(t, over)
		over.Close()
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal(err)
	}
	if n := tr.Stats.TCPRefused.Load(); n != 1 {
		t.Fatalf("refused %d, want 1", n)
	}
	for i, c := range open {
		if _, err := c.Write(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "a message on each open connection", func() bool { return got.Load() == 5 })
	open[0].Close()
	poll(t, "the closed connection to go", func() bool { return tr.ConnCount() == 4 })
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Write(msg(9))
	poll(t, "a message on the new connection", func() bool { return got.Load() == 6 })
}

// TestTCPDataTimeout: an accepted connection that sends nothing is closed
// after tcp_msg_data_timeout.
func TestTCPDataTimeout(t *testing.T) {
	tr, addr, _ := limitTransport(t, Options{TCPDataTimeout: 100 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closedByPeer(t, c)
	poll(t, "the connection to go", func() bool { return tr.ConnCount() == 0 })
	if tr.Stats.TCPTimeouts.Load() != 1 {
		t.Fatalf("timeouts %d", tr.Stats.TCPTimeouts.Load())
	}
}

// TestTCPReadTimeout: a message begun but not completed (slowloris) is
// cut off after tcp_msg_read_timeout, even while bytes keep trickling in.
func TestTCPReadTimeout(t *testing.T) {
	tr, addr, got := limitTransport(t, Options{TCPReadTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	go func() {
		for _, b := range []byte("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nX: " + string(make([]byte, 100))) {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	closedByPeer(t, c)
	close(stop)
	if got.Load() != 0 || tr.Stats.TCPTimeouts.Load() != 1 {
		t.Fatalf("received %d, timeouts %d", got.Load(), tr.Stats.TCPTimeouts.Load())
	}
}

// TestTCPLifetimeRefreshed: traffic keeps a connection open past
// tcp_connection_lifetime; without traffic it is closed.
func TestTCPLifetimeRefreshed(t *testing.T) {
	tr, addr, got := limitTransport(t, Options{TCPIdle: 1500 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for i := 0; time.Since(start) < 3*time.Second; i++ {
		if _, err := c.Write(msg(i)); err != nil {
			t.Fatalf("connection closed despite traffic: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := got.Load()
	poll(t, "the messages", func() bool { return tr.Stats.Received.Load() >= uint64(n) })
	if tr.ConnCount() != 1 {
		t.Fatal("connection closed despite traffic")
	}
	closedByPeer(t, c)
	if tr.Stats.TCPTimeouts.Load() != 0 {
		t.Fatal("an idle close counted as a timeout")
	}
}

// TestTCPOutboundBounded: connections we open count against
// tcp_max_connections, and no more peers than that wait for one.
func TestTCPOutboundBounded(t *testing.T) {
	tr := newTestTransport(t, Options{TCPMaxConns: 2, TCPMaxBackoff: 50 * time.Millisecond})
	var dsts []sipmsg.Dest
	for i := 0; i < 3; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		dsts = append(dsts, tcpDest(l.Addr().String()))
	}
	for i, d := range dsts[:2] {
		if err := tr.Send(d, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "two connections", func() bool { return tr.ConnCount() == 2 })
	if err := tr.Send(dsts[2], msg(2)); err != nil {
		t.Fatal(err) // queued: the peer waits as an unreachable one would
	}
	poll(t, "the third peer to be refused a connection", func() bool { return tr.PeerDown(dsts[2].Addr) })
	if tr.ConnCount() != 2 {
		t.Fatalf("%d connections", tr.ConnCount())
	}
	// Two peers wait already: a third address is not queued at all.
	for i := 0; i < 2; i++ {
		tr.Send(tcpDest(fmt.Sprintf("127.0.0.1:%d", 19+10*i)), msg(i)) // nobody listens
	}
	if err := tr.Send(tcpDest("127.0.0.1:9"), msg(0)); !errors.Is(err, ErrTooManyConns) {
		t.Fatalf("send to one more peer: %v", err)
	}
}

// TestTCPQueueBytesBounded: all queues together hold at most
// tcp_wq_max bytes; the bytes come back when the peer reads.
func TestTCPQueueBytesBounded(t *testing.T) {
	tr := newTestTransport(t, Options{TCPQueueBytes: 200 << 10, TCPWriteTimeout: 5 * time.Second})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst := tcpDest(l.Addr().String())
	big := make([]byte, 10<<10)
	copy(big, "MESSAGE sip:x SIP/2.0\r\nContent-Length: 10000\r\n\r\n")
	full := 0
	for i := 0; i < 100; i++ {
		if err := tr.Send(dst, big); errors.Is(err, ErrQueueFull) {
			full++
		}
	}
	if full == 0 || tr.queuedBytes.Load() > 200<<10 {
		t.Fatalf("%d sends refused, %d bytes queued", full, tr.queuedBytes.Load())
	}
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go io.Copy(io.Discard, c)
	poll(t, "the queue to drain", func() bool { return tr.queuedBytes.Load() == 0 })
}

// TestTCPIdleConnectionMemory: an accepted connection that sends nothing
// holds no read buffer and no writer; Go heap and stacks grow by a few KB
// per connection (it was ~164 KB: a 64 KB bufio reader and a 4096-slot
// channel reserved up front), and come back after close.
func TestTCPIdleConnectionMemory(t *testing.T) {
	const n = 400
	tr, addr, _ := limitTransport(t, Options{})
	before := inUse()
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	poll(t, "the connections", func() bool { return tr.ConnCount() == n })
	during := inUse()
	per := (during - before) / n
	t.Logf("%d idle connections: %d bytes each (heap and stacks, both ends of the connection in this process)", n, per)
	if per > 16<<10 {
		t.Errorf("%d bytes per idle connection", per)
	}
	for _, c := range conns {
		c.Close()
	}
	poll(t, "the connections to go", func() bool { return tr.ConnCount() == 0 })
	// Most of it comes back (a map keeps its buckets).
	if !raceDetector {
		poll(t, "the memory to come back", func() bool { return inUse() <= before+(during-before)/2 })
	}
}

func inUse() int64 {
	runtime.GC()
	runtime.GC() // and sync.Pool's victim cache
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// TestTCPAcceptIPLimit: one address may hold tcp_accept_iplimit accepted
// connections; another address is still accepted; a closed connection
// gives its address a slot back.
func TestTCPAcceptIPLimit(t *testing.T) {
	tr, addr, _ := limitTransport(t, Options{TCPMaxConns: 10, TCPPerIP: 2})
	dialFrom := func(src string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		return d.Dial("tcp", addr)
	}
	var first []net.Conn
	for i := 0; i < 2; i++ {
		c, err := dialFrom("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		first = append(first, c)
	}
	poll(t, "2 connections", func() bool { return tr.ConnCount() == 2 })
	if c, err := dialFrom("127.0.0.1"); err == nil {
		closedByPeer(t, c)
		c.Close()
	}
	other, err := dialFrom("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	poll(t, "the other address's connection", func() bool { return tr.ConnCount() == 3 })
	if tr.Stats.TCPRefused.Load() != 1 {
		t.Fatalf("refused %d", tr.Stats.TCPRefused.Load())
	}
	first[0].Close()
	poll(t, "a slot back", func() bool { return tr.ConnCount() == 2 })
	again, err := dialFrom("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	poll(t, "the address's new connection", func() bool { return tr.ConnCount() == 3 })
}
