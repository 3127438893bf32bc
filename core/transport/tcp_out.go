package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"ser/core/sipmsg"
)

// Errors of asynchronous TCP sending.
var (
	// ErrQueueFull: the connection's write queue is full (a stalled peer);
	// the message was dropped.
	ErrQueueFull = errors.New("transport: tcp write queue full")
	// ErrPeerDown: connecting to the peer failed recently; messages are
	// dropped until the back-off ends.
	ErrPeerDown = errors.New("transport: tcp peer down")
)

// peer is an outgoing connection being set up (or recently failed) to one
// address: messages wait in pending while the dial runs in the
// background; after a failed dial, sends fail fast until downUntil.
type peer struct {
	dialing   bool
	pending   [][]byte
	downUntil time.Time
	backoff   time.Duration
	lastErr   error
}

// sendTCP queues data on the connection dst.ConnID names when it is still
// open, else on a connection to dst.Addr, dialling one in the background
// when needed. It never blocks on the network: a full queue or a peer that
// is down drops the message and returns an error (counted in
// Stats.TCPDropped).
func (t *Transport) sendTCP(dst sipmsg.Dest, data []byte) error {
	t.connMu.Lock()
	var tc *tcpConn
	if dst.ConnID != 0 {
		tc = t.conns[dst.ConnID]
	}
	if tc == nil {
		tc = t.byAddr[dst.Addr]
	}
	if tc != nil {
		t.connMu.Unlock()
		return t.enqueue(tc, data)
	}
	defer t.connMu.Unlock()
	if t.closing.Load() {
		return fmt.Errorf("transport: send to %s: shutting down", dst)
	}
	p := t.peers[dst.Addr]
	if p == nil {
		p = &peer{}
		t.peers[dst.Addr] = p
	}
	switch {
	case p.dialing:
		if len(p.pending) >= t.opts.TCPQueue {
			t.Stats.TCPDropped.Add(1)
			return fmt.Errorf("transport: send to %s: %w", dst, ErrQueueFull)
		}
		p.pending = append(p.pending, data)
		return nil
	case time.Now().Before(p.downUntil):
		t.Stats.TCPDropped.Add(1)
		t.noteDrop(dst.Addr, ErrPeerDown)
		return fmt.Errorf("transport: send to %s: %w (%v)", dst, ErrPeerDown, p.lastErr)
	}
	p.dialing = true
	p.pending = append(p.pending[:0], data)
	t.wg.Add(1)
	go t.dial(dst, p)
	return nil
}

// enqueue hands data to a connection's writer without blocking.
func (t *Transport) enqueue(tc *tcpConn, data []byte) (err error) {
	defer func() {
		if recover() != nil { // the writer closed the queue meanwhile
			t.Stats.TCPDropped.Add(1)
			err = fmt.Errorf("transport: send to tcp:%s: connection closed", tc.remote)
		}
	}()
	if tc.closed.Load() {
		t.Stats.TCPDropped.Add(1)
		return fmt.Errorf("transport: send to tcp:%s: connection closed", tc.remote)
	}
	select {
	case tc.out <- data:
		return nil
	default:
		t.Stats.TCPDropped.Add(1)
		t.noteDrop(tc.remote, ErrQueueFull)
		return fmt.Errorf("transport: send to tcp:%s: %w", tc.remote, ErrQueueFull)
	}
}

// noteDrop logs dropped TCP messages at most every five seconds, with the
// total so far, so a stalled peer cannot flood the log.
func (t *Transport) noteDrop(remote netip.AddrPort, why error) {
	now := time.Now().UnixNano()
	last := t.lastDropLog.Load()
	if now-last < int64(5*time.Second) || !t.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	t.log.Warn("tcp messages dropped", "remote", remote.String(), "reason", why.Error(), "dropped_total", t.Stats.TCPDropped.Load())
}

// writeLoop writes a connection's queue; a write error or timeout closes
// the connection and the rest of the queue is dropped (counted).
func (t *Transport) writeLoop(tc *tcpConn) {
	defer t.wg.Done()
	for b := range tc.out {
		if tc.closed.Load() {
			t.Stats.TCPDropped.Add(1)
			continue
		}
		_ = tc.conn.SetWriteDeadline(time.Now().Add(t.opts.TCPWriteTimeout))
		if _, err := tc.conn.Write(b); err != nil {
			t.Stats.TCPDropped.Add(1)
			t.log.Warn("tcp write failed, closing the connection", "remote", tc.remote.String(), "err", err)
			t.dropConn(tc)
			continue
		}
		tc.last.Store(time.Now().UnixNano())
	}
}

// dial connects to dst in the background; on success the pending messages
// move to the new connection's queue, on failure they are dropped and the
// peer is marked down for a back-off (1 s doubling to 30 s).
func (t *Transport) dial(dst sipmsg.Dest, p *peer) {
	defer t.wg.Done()
	c, s, err := t.connect(dst)
	t.connMu.Lock()
	pending := p.pending
	p.pending, p.dialing = nil, false
	if err != nil || t.closing.Load() {
		if err == nil {
			c.Close()
			err = errors.New("shutting down")
		}
		p.backoff = min(max(2*p.backoff, time.Second), 30*time.Second)
		p.downUntil, p.lastErr = time.Now().Add(p.backoff), err
		t.connMu.Unlock()
		t.Stats.TCPDropped.Add(uint64(len(pending)))
		t.Stats.SendErr.Add(uint64(len(pending)))
		t.log.Warn("tcp connect failed; messages dropped, peer marked down", "remote", dst.Addr.String(),
			"dropped", len(pending), "retry_in", p.backoff.String(), "err", err)
		return
	}
	delete(t.peers, dst.Addr)
	t.connMu.Unlock()
	tc := t.addConn(c, s, pending...)
	t.wg.Add(1)
	go t.readLoop(tc)
}

// connect opens a TCP connection from the socket's address.
func (t *Transport) connect(dst sipmsg.Dest) (*net.TCPConn, *sipmsg.Socket, error) {
	s := t.SocketFor(sipmsg.Dest{Proto: sipmsg.ProtoTCP, Addr: dst.Addr, Sock: dst.Sock})
	if s == nil {
		return nil, nil, fmt.Errorf("no tcp socket")
	}
	d := net.Dialer{Timeout: t.opts.TCPConnectTimeout}
	if !s.IP.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: s.IP.AsSlice()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.TCPConnectTimeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", dst.Addr.String())
	if err != nil {
		return nil, nil, err
	}
	return c.(*net.TCPConn), s, nil
}

// PeerDown reports whether sends to addr over TCP are currently failing
// fast after a failed connection attempt.
func (t *Transport) PeerDown(addr netip.AddrPort) bool {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	p := t.peers[addr]
	return p != nil && !p.dialing && time.Now().Before(p.downUntil)
}
