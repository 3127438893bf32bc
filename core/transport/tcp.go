package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"ser/core/sipmsg"
)

// tcpConn is one TCP connection, accepted or dialled. Writes go through a
// bounded queue drained by the connection's writer goroutine, so a slow or
// stalled peer never blocks the goroutine that sends.
type tcpConn struct {
	id     uint64
	conn   *net.TCPConn
	remote netip.AddrPort
	sock   *sipmsg.Socket // listening socket the connection belongs to
	out    chan []byte
	// mu orders sends on out against closing: once closed is set (under
	// the write lock) nothing more is queued, and done tells the writer
	// to drain what is left.
	mu     sync.RWMutex
	closed bool
	done   chan struct{}
	dialed bool         // we opened it (undelivered messages go back to the peer queue)
	last   atomic.Int64 // unix nanos of the last activity
	// lingering: reading stopped after a framing error; the connection
	// closes after its next write (the 400).
	lingering atomic.Bool
}

func (t *Transport) acceptLoop(s *sipmsg.Socket, l *net.TCPListener) {
	defer t.wg.Done()
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if t.closing.Load() {
				return
			}
			t.log.Warn("tcp accept failed", "sock", s.String(), "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		tc := t.addConn(c, s, false)
		t.wg.Add(1)
		go t.readLoop(tc)
	}
}

// addConn registers a connection and starts its writer; pending are
// messages queued while it was being dialled.
func (t *Transport) addConn(c *net.TCPConn, s *sipmsg.Socket, dialed bool, pending ...[]byte) *tcpConn {
	t.connMu.Lock()
	tc := t.addConnLocked(c, s, dialed, pending...)
	t.connMu.Unlock()
	return tc
}

// addConnLocked is addConn with connMu held.
func (t *Transport) addConnLocked(c *net.TCPConn, s *sipmsg.Socket, dialed bool, pending ...[]byte) *tcpConn {
	ap := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	tc := &tcpConn{
		id: t.nextID.Add(1), conn: c, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), sock: s,
		out: make(chan []byte, t.opts.TCPQueue), done: make(chan struct{}), dialed: dialed,
	}
	tc.last.Store(time.Now().UnixNano())
	for _, b := range pending {
		tc.out <- b // the peer queue is bounded by TCPQueue too
	}
	t.conns[tc.id] = tc
	t.byAddr[tc.remote] = tc
	t.wg.Add(1)
	go t.writeLoop(tc)
	return tc
}

// dropConn closes a connection once; its writer then drains what was
// still queued (back to the peer queue for connections we dialled).
func (t *Transport) dropConn(tc *tcpConn) {
	tc.mu.Lock()
	if tc.closed {
		tc.mu.Unlock()
		return
	}
	tc.closed = true
	tc.mu.Unlock()
	tc.conn.Close()
	t.connMu.Lock()
	delete(t.conns, tc.id)
	if t.byAddr[tc.remote] == tc {
		delete(t.byAddr, tc.remote)
	}
	t.connMu.Unlock()
	close(tc.done)
}

// readLoop frames SIP messages on a stream by Content-Length (RFC 3261
// §18.3) and hands each one to the handler.
func (t *Transport) readLoop(tc *tcpConn) {
	defer t.wg.Done()
	defer func() {
		if !tc.lingering.Load() {
			t.dropConn(tc)
		}
	}()
	r := bufio.NewReaderSize(tc.conn, 64<<10)
	for {
		raw, err := readMessage(r, t.opts.MaxMsg)
		if err != nil {
			if errors.Is(err, errPing) {
				// RFC 5626 keep-alive: answer a double CRLF with one CRLF.
				t.enqueue(tc, []byte("\r\n"))
				continue
			}
			var fe *FramingError
			if errors.As(err, &fe) {
				t.Stats.BadFraming.Add(1)
				if errors.Is(err, errTooBig) {
					t.Stats.Oversized.Add(1)
				}
				t.log.Warn("tcp message without a usable Content-Length; answering and closing the connection",
					"remote", tc.remote.String(), "err", err)
				t.closeAfterAnswer(tc)
				t.handler(raw, sipmsg.RcvInfo{Src: tc.remote, Sock: tc.sock, Proto: sipmsg.ProtoTCP, ConnID: tc.id})
				return
			}
			if errors.Is(err, errTooBig) {
				t.Stats.Oversized.Add(1)
				t.log.Warn("tcp message too large, closing connection", "remote", tc.remote.String())
			} else if !errors.Is(err, io.EOF) && !t.closing.Load() && !errors.Is(err, net.ErrClosed) {
				t.log.Debug("tcp read ended", "remote", tc.remote.String(), "err", err)
			}
			return
		}
		tc.last.Store(time.Now().UnixNano())
		t.Stats.Received.Add(1)
		t.handler(raw, sipmsg.RcvInfo{Src: tc.remote, Sock: tc.sock, Proto: sipmsg.ProtoTCP, ConnID: tc.id})
	}
}

// answerLinger is how long a connection whose framing was lost stays
// open for the 400 that answers it.
const answerLinger = 2 * time.Second

// closeAfterAnswer stops reading tc (its framing is lost) and closes it
// after the next message written on it — the 400 core sends for the bad
// message — or after answerLinger.
func (t *Transport) closeAfterAnswer(tc *tcpConn) {
	tc.lingering.Store(true)
	_ = tc.conn.CloseRead()
	time.AfterFunc(answerLinger, func() { t.dropConn(tc) })
}

var (
	errPing   = errors.New("transport: keep-alive")
	errTooBig = errors.New("transport: message too large")
)

// readMessage reads one message: headers up to the empty line, then
// Content-Length bytes of body (0 when the header is missing).
func readMessage(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	// Skip CRLFs between messages (RFC 3261 §7.5); a double CRLF alone is
	// a keep-alive ping.
	crlf := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == '\r' || b == '\n' {
			crlf++
			if crlf == 4 && r.Buffered() == 0 {
				return nil, errPing
			}
			continue
		}
		r.UnreadByte()
		break
	}
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, errTooBig
			}
			return nil, err
		}
		buf = append(buf, line...)
		if len(buf) > max {
			return nil, errTooBig
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	clen, _, err := ContentLength(buf)
	if err != nil {
		return buf, &FramingError{Err: err}
	}
	if clen > max-len(buf) {
		return buf, &FramingError{Err: fmt.Errorf("%w: %d bytes, over the %d-byte limit", errTooBig, clen, max)}
	}
	start := len(buf)
	buf = append(buf, make([]byte, clen)...)
	if _, err := io.ReadFull(r, buf[start:]); err != nil {
		return nil, err
	}
	return buf, nil
}

// FramingError is a message on a stream whose end cannot be found (bad or
// repeated Content-Length, or a body over the limit): the header block is
// handed on (core answers it 400) and the connection is closed once that
// answer is written, since the stream's framing is lost.
type FramingError struct{ Err error }

func (e *FramingError) Error() string { return "tcp framing: " + e.Err.Error() }
func (e *FramingError) Unwrap() error { return e.Err }

// idleLoop closes connections idle for longer than TCPIdle.
func (t *Transport) idleLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
		}
		limit := time.Now().Add(-t.opts.TCPIdle).UnixNano()
		t.connMu.Lock()
		var idle []*tcpConn
		for _, c := range t.conns {
			if c.last.Load() < limit {
				idle = append(idle, c)
			}
		}
		t.connMu.Unlock()
		for _, c := range idle {
			c.conn.Close()
		}
	}
}

// ConnCount returns the number of open TCP connections.
func (t *Transport) ConnCount() int {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return len(t.conns)
}
