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

// ErrQueueFull reports a message dropped because the queue towards a TCP
// peer is full (a stalled or long-unreachable peer), or all queues
// together hold tcp_wq_max bytes.
var ErrQueueFull = errors.New("transport: tcp queue full")

// ErrTooManyConns reports that tcp_max_connections connections are open
// (or as many peers wait for one): no new connection is opened.
var ErrTooManyConns = errors.New("transport: tcp_max_connections reached")

// reserve counts n more queued bytes, unless that would exceed
// TCPQueueBytes.
func (t *Transport) reserve(n int) bool {
	if t.queuedBytes.Add(int64(n)) > int64(t.opts.TCPQueueBytes) {
		t.queuedBytes.Add(-int64(n))
		return false
	}
	return true
}

// release uncounts n queued bytes (written or dropped).
func (t *Transport) release(n int) { t.queuedBytes.Add(-int64(n)) }

// dropQueued drops queued messages: counted and their bytes released.
func (t *Transport) dropQueued(q []queued) {
	for _, m := range q {
		t.release(len(m.data))
	}
	t.Stats.TCPDropped.Add(uint64(len(q)))
}

// dropMsgs is dropQueued for messages taken from a connection's queue.
func (t *Transport) dropMsgs(msgs [][]byte) {
	for _, m := range msgs {
		t.release(len(m))
	}
	t.Stats.TCPDropped.Add(uint64(len(msgs)))
}

// queued is a message waiting for a connection.
type queued struct {
	data []byte
	at   time.Time
}

// peer holds the messages for an address that has no connection yet (or
// whose connection failed): a dial runs in the background; after a failed
// dial the peer is retried with a back-off (1 s doubling to MaxBackoff)
// while new messages keep queueing, up to TCPQueue messages no older than
// TCPQueueLifetime. When the peer comes back, the queue is delivered in
// order — a restarted replication peer catches up on what it missed.
type peer struct {
	addr      netip.AddrPort
	sock      *sipmsg.Socket
	pending   []queued
	dialing   bool
	retry     *time.Timer
	downUntil time.Time
	backoff   time.Duration
	lastErr   error
}

// sendTCP queues data on the connection dst.ConnID names when it is still
// open, else on the connection to dst.Addr, else on the address's peer
// queue (dialling in the background). It never blocks on the network; a
// full queue drops the message and returns ErrQueueFull (counted in
// Stats.TCPDropped and logged at most every few seconds).
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
		if len(t.peers) >= t.opts.TCPMaxConns {
			// As many peers waiting for a connection as connections may
			// exist: one more is refused, not queued.
			t.Stats.TCPDropped.Add(1)
			t.noteDrop(dst.Addr, ErrTooManyConns)
			return fmt.Errorf("transport: send to %s: %w", dst, ErrTooManyConns)
		}
		p = &peer{addr: dst.Addr, sock: dst.Sock}
		t.peers[dst.Addr] = p
	}
	t.expire(p)
	if len(p.pending) >= t.opts.TCPQueue || !t.reserve(len(data)) {
		t.Stats.TCPDropped.Add(1)
		t.noteDrop(dst.Addr, ErrQueueFull)
		if len(p.pending) == 0 && !p.dialing && p.retry == nil {
			delete(t.peers, dst.Addr)
		}
		return fmt.Errorf("transport: send to %s: %w", dst, ErrQueueFull)
	}
	p.pending = append(p.pending, queued{data: data, at: time.Now()})
	t.schedule(p)
	return nil
}

// schedule starts a dial for p now, or when its back-off ends; connMu is
// held.
func (t *Transport) schedule(p *peer) {
	if p.dialing || p.retry != nil || len(p.pending) == 0 {
		return
	}
	if wait := time.Until(p.downUntil); wait > 0 {
		p.retry = time.AfterFunc(wait, func() {
			t.connMu.Lock()
			defer t.connMu.Unlock()
			p.retry = nil
			if !t.closing.Load() && t.peers[p.addr] == p {
				t.schedule(p)
			}
		})
		return
	}
	p.dialing = true
	t.wg.Add(1)
	go t.dial(p)
}

// expire drops queued messages older than TCPQueueLifetime; connMu is
// held.
func (t *Transport) expire(p *peer) {
	cut := time.Now().Add(-t.opts.TCPQueueLifetime)
	n := 0
	for n < len(p.pending) && p.pending[n].at.Before(cut) {
		n++
	}
	if n > 0 {
		t.dropQueued(p.pending[:n])
		p.pending = append(p.pending[:0], p.pending[n:]...)
		t.noteDrop(p.addr, fmt.Errorf("%d queued messages expired (peer unreachable: %v)", n, p.lastErr))
	}
}

// dial connects to a peer in the background. On success the queue moves
// to the new connection; on failure the peer backs off and is retried
// while messages are queued.
func (t *Transport) dial(p *peer) {
	defer t.wg.Done()
	t.connMu.Lock()
	full := len(t.conns) >= t.opts.TCPMaxConns
	t.connMu.Unlock()
	var c *net.TCPConn
	var s *sipmsg.Socket
	err := ErrTooManyConns
	if !full {
		c, s, err = t.connect(p.addr, p.sock)
	}
	t.connMu.Lock()
	p.dialing = false
	if err == nil && t.closing.Load() {
		c.Close()
		err = errors.New("shutting down")
	}
	if err == nil && len(t.conns) >= t.opts.TCPMaxConns {
		c.Close()
		err = ErrTooManyConns
	}
	if err != nil {
		p.backoff = min(max(2*p.backoff, time.Second), t.opts.TCPMaxBackoff)
		p.downUntil, p.lastErr = time.Now().Add(p.backoff), err
		t.expire(p)
		queued, backoff := len(p.pending), p.backoff
		if !t.closing.Load() {
			t.schedule(p)
		}
		t.connMu.Unlock()
		t.log.Warn("tcp connect failed; messages stay queued", "remote", p.addr.String(),
			"queued", queued, "retry_in", backoff.String(), "err", err)
		return
	}
	t.expire(p)
	pending := make([][]byte, len(p.pending))
	for i, q := range p.pending {
		pending[i] = q.data
	}
	// Register the connection before the peer entry goes, under one lock,
	// so that no send in between starts a second connection.
	tc := t.addConnLocked(c, s, true, pending...)
	delete(t.peers, p.addr)
	wasDown := p.lastErr != nil
	t.wg.Add(1)
	t.connMu.Unlock()
	if wasDown {
		t.log.Info("tcp peer reachable again; delivering queued messages", "remote", p.addr.String(), "queued", len(pending))
	}
	go t.readLoop(tc)
}

// requeue puts messages a failed outgoing connection could not write back
// in front of its peer's queue, so they are delivered once the peer is
// reachable again.
func (t *Transport) requeue(tc *tcpConn, msgs [][]byte) {
	if len(msgs) == 0 {
		return
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if t.closing.Load() {
		t.dropMsgs(msgs)
		return
	}
	p := t.peers[tc.remote]
	if p == nil {
		p = &peer{addr: tc.remote, sock: tc.sock, backoff: time.Second, downUntil: time.Now().Add(time.Second)}
		t.peers[tc.remote] = p
	}
	now := time.Now()
	front := make([]queued, 0, len(msgs)+len(p.pending))
	for _, m := range msgs {
		front = append(front, queued{data: m, at: now})
	}
	p.pending = append(front, p.pending...)
	if over := len(p.pending) - t.opts.TCPQueue; over > 0 {
		t.dropQueued(p.pending[t.opts.TCPQueue:])
		p.pending = p.pending[:t.opts.TCPQueue]
		t.noteDrop(tc.remote, ErrQueueFull)
	}
	t.schedule(p)
}

// enqueue hands data to a connection's writer without blocking, starting
// the writer when it is not running.
func (t *Transport) enqueue(tc *tcpConn, data []byte) error {
	tc.mu.Lock()
	if tc.closed {
		tc.mu.Unlock()
		if tc.dialed && t.reserve(len(data)) {
			t.requeue(tc, [][]byte{data})
			return nil
		}
		t.Stats.TCPDropped.Add(1)
		return fmt.Errorf("transport: send to tcp:%s: connection closed", tc.remote)
	}
	if len(tc.queue) >= t.opts.TCPQueue || !t.reserve(len(data)) {
		tc.mu.Unlock()
		t.Stats.TCPDropped.Add(1)
		t.noteDrop(tc.remote, ErrQueueFull)
		return fmt.Errorf("transport: send to tcp:%s: %w", tc.remote, ErrQueueFull)
	}
	tc.queue = append(tc.queue, data)
	if !tc.writing {
		tc.writing = true
		t.wg.Add(1)
		go t.writeLoop(tc)
	}
	tc.mu.Unlock()
	return nil
}

// writeLoop writes a connection's queue until it is empty, then ends. A
// write error or timeout closes the connection; for a connection we
// dialled, the unwritten messages go back to the peer's queue, otherwise
// they are dropped (counted).
func (t *Transport) writeLoop(tc *tcpConn) {
	defer t.wg.Done()
	var iovs net.Buffers // the batch's slices for writev, reused
	for {
		tc.mu.Lock()
		batch := tc.queue
		tc.queue = nil
		if len(batch) == 0 || tc.closed {
			tc.writing = false
			tc.mu.Unlock()
			t.unsent(tc, batch)
			return
		}
		tc.mu.Unlock()
		// Everything queued goes out in one gathered write (writev): one
		// system call, and as few segments as the bytes need, instead of
		// one write per message.
		_ = tc.conn.SetWriteDeadline(time.Now().Add(t.opts.TCPWriteTimeout))
		iovs = append(iovs[:0], batch...)
		iov := iovs // WriteTo consumes iov, not iovs
		n, err := iov.WriteTo(tc.conn)
		clear(iovs)
		for i, b := range batch {
			if int64(len(b)) > n {
				// Not (wholly) written: the connection failed. The
				// message and those after it are disposed of whole.
				t.log.Warn("tcp write failed, closing the connection", "remote", tc.remote.String(), "err", err)
				tc.mu.Lock()
				tc.writing = false
				rest := append(batch[i:len(batch):len(batch)], tc.queue...)
				tc.queue = nil
				tc.mu.Unlock()
				t.dropConn(tc)
				t.unsent(tc, rest)
				return
			}
			n -= int64(len(b))
			t.release(len(b))
			batch[i] = nil
		}
		tc.last.Store(time.Now().UnixNano())
		if tc.lingering.Load() {
			t.dropConn(tc)
		}
	}
}

// unsent disposes of messages a closed connection did not write: back to
// the peer queue for connections we dialled, else dropped.
func (t *Transport) unsent(tc *tcpConn, msgs [][]byte) {
	if len(msgs) == 0 {
		return
	}
	if tc.dialed {
		t.requeue(tc, msgs)
		return
	}
	t.dropMsgs(msgs)
}

// connect opens a TCP connection from the socket's address.
func (t *Transport) connect(addr netip.AddrPort, sock *sipmsg.Socket) (*net.TCPConn, *sipmsg.Socket, error) {
	s := t.SocketFor(sipmsg.Dest{Proto: sipmsg.ProtoTCP, Addr: addr, Sock: sock})
	if s == nil {
		return nil, nil, fmt.Errorf("no tcp socket")
	}
	d := net.Dialer{Timeout: t.opts.TCPConnectTimeout}
	if !s.IP.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: s.IP.AsSlice()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.TCPConnectTimeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, nil, err
	}
	return c.(*net.TCPConn), s, nil
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

// PeerDown reports whether the last connection attempt to addr failed and
// the peer is waiting for its next attempt.
func (t *Transport) PeerDown(addr netip.AddrPort) bool {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	p := t.peers[addr]
	return p != nil && !p.dialing && p.lastErr != nil
}

// Queued returns the number of messages waiting for a connection to addr.
func (t *Transport) Queued(addr netip.AddrPort) int {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if p := t.peers[addr]; p != nil {
		return len(p.pending)
	}
	return 0
}

// QueuedTotal returns the number of messages waiting for connections to
// any peer.
func (t *Transport) QueuedTotal() int {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	n := 0
	for _, p := range t.peers {
		n += len(p.pending)
	}
	return n
}
