package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ser/core/sipmsg"
)

// tcpConn is one TCP connection, accepted or dialled. Writes go through a
// bounded queue drained by a writer goroutine that runs only while there
// is something to write, so a slow or stalled peer never blocks the
// goroutine that sends, and an idle connection holds no buffer and no
// writer.
type tcpConn struct {
	id     uint64
	conn   *net.TCPConn
	remote netip.AddrPort
	sock   *sipmsg.Socket // listening socket the connection belongs to
	dialed bool           // we opened it (undelivered messages go back to the peer queue)
	// mu guards the write queue and closed: once closed is set nothing
	// more is queued.
	mu      sync.Mutex
	queue   [][]byte
	writing bool // a writer goroutine is draining queue
	closed  bool
	last    atomic.Int64 // unix nanos of the last traffic, either way
	// lingering: reading stopped after a framing error; the connection
	// closes after its next write (the 400).
	lingering atomic.Bool
	// aliases are the other remote ports the connection stands for
	// (AddAlias; guarded by Transport.connMu).
	aliases []netip.AddrPort
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
		src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		t.connMu.Lock()
		why := ""
		switch {
		case len(t.conns) >= t.opts.TCPMaxConns:
			why = "tcp_max_connections"
		case t.opts.TCPPerIP > 0 && t.perIP[src] >= t.opts.TCPPerIP:
			why = "tcp_accept_iplimit"
		}
		var tc *tcpConn
		if why == "" {
			tc = t.addConnLocked(c, s, false)
			t.perIP[src]++
			t.Stats.TCPAccepted.Add(1)
		}
		t.connMu.Unlock()
		if why != "" {
			t.refuse(c, why)
			continue
		}
		t.wg.Add(1)
		go t.readLoop(tc)
	}
}

// refuse closes a connection accepted over tcp_max_connections (or
// tcp_accept_iplimit) at once, with a reset so that neither side keeps it
// in TIME_WAIT.
func (t *Transport) refuse(c *net.TCPConn, limit string) {
	// Counted before the reset: whoever sees the connection refused sees
	// it counted too (TestTCPMaxConnections reads the counter then).
	n := t.Stats.TCPRefused.Add(1)
	_ = c.SetLinger(0)
	_ = c.Close()
	now := time.Now().UnixNano()
	if last := t.lastRefuseLog.Load(); now-last >= int64(5*time.Second) && t.lastRefuseLog.CompareAndSwap(last, now) {
		t.log.Warn("tcp connection limit reached: new connections refused", "limit", limit,
			"remote", c.RemoteAddr().String(), "refused_total", n)
	}
}

// addConnLocked registers a connection (connMu held); pending are
// messages queued while it was being dialled, already counted in the
// queued bytes.
func (t *Transport) addConnLocked(c *net.TCPConn, s *sipmsg.Socket, dialed bool, pending ...[]byte) *tcpConn {
	ap := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	tc := &tcpConn{
		id: t.nextID.Add(1), conn: c, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), sock: s,
		dialed: dialed,
	}
	tc.last.Store(time.Now().UnixNano())
	t.conns[tc.id] = tc
	t.byAddr[tc.remote] = tc
	t.connPeak = max(t.connPeak, len(t.conns))
	if len(pending) > 0 {
		tc.queue = pending
		tc.writing = true
		t.wg.Add(1)
		go t.writeLoop(tc)
	}
	return tc
}

// dropConn closes a connection once. Messages still queued on it go back
// to the peer queue (connections we dialled) or are dropped, unless the
// writer is running: it does that itself when it sees closed.
func (t *Transport) dropConn(tc *tcpConn) {
	tc.mu.Lock()
	if tc.closed {
		tc.mu.Unlock()
		return
	}
	tc.closed = true
	var unsent [][]byte
	if !tc.writing {
		unsent, tc.queue = tc.queue, nil
	}
	tc.mu.Unlock()
	tc.conn.Close()
	t.connMu.Lock()
	delete(t.conns, tc.id)
	if !tc.dialed {
		if t.perIP[tc.remote.Addr()]--; t.perIP[tc.remote.Addr()] <= 0 {
			delete(t.perIP, tc.remote.Addr())
		}
	}
	if t.byAddr[tc.remote] == tc {
		delete(t.byAddr, tc.remote)
	}
	for _, a := range tc.aliases {
		if t.byAddr[a] == tc {
			delete(t.byAddr, a)
		}
	}
	if t.connPeak-len(t.conns) >= releaseAfter && t.releaseTimer == nil && !t.closing.Load() {
		t.releaseTimer = time.AfterFunc(releaseDelay, t.releaseMemory)
	}
	t.connMu.Unlock()
	t.unsent(tc, unsent)
}

// After a mass close (releaseAfter connections fewer than the peak), the
// memory they used is handed back to the operating system releaseDelay
// later: the Go runtime would keep it mapped for reuse, so a burst of
// idle connections would raise RSS for good.
const (
	releaseAfter = 256
	releaseDelay = 2 * time.Second
)

func (t *Transport) releaseMemory() {
	debug.FreeOSMemory()
	t.connMu.Lock()
	t.connPeak = len(t.conns)
	t.releaseTimer = nil
	t.connMu.Unlock()
}

// Read timeouts (Kamailio's names): an accepted connection must start a
// message within tcp_msg_data_timeout, a message once started must be
// complete within tcp_msg_read_timeout, and a connection without traffic
// either way for tcp_connection_lifetime is closed.
const (
	whyNoData   = "no message within tcp_msg_data_timeout"
	whySlow     = "message not completed within tcp_msg_read_timeout"
	whyLifetime = "idle for tcp_connection_lifetime"
)

// chunkPool holds the buffers reads land in. A connection takes one only
// for the moment it reads; bytes of an incomplete message are kept in a
// slice of their own size, so an idle connection holds no buffer at all.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readLoop frames SIP messages on a stream by Content-Length (RFC 3261
// §18.3) and hands each one to the handler.
func (t *Transport) readLoop(tc *tcpConn) {
	defer t.wg.Done()
	why := ""
	defer func() {
		if tc.lingering.Load() {
			return
		}
		if why != "" {
			t.log.Debug("closing tcp connection", "remote", tc.remote.String(), "reason", why)
		}
		t.dropConn(tc)
	}()
	rc, err := tc.conn.SyscallConn()
	if err != nil {
		return
	}
	var (
		pend     []byte    // bytes of an incomplete message
		started  time.Time // when pend's message began
		gotData  = tc.dialed
		deadline time.Time
	)
	for {
		// Wait for data without holding a buffer, under the deadline of
		// the current state.
		var want time.Time
		switch {
		case len(pend) > 0:
			want = started.Add(t.opts.TCPReadTimeout)
		case !gotData:
			want = time.Unix(0, tc.last.Load()).Add(t.opts.TCPDataTimeout)
		default:
			want = time.Unix(0, tc.last.Load()).Add(t.opts.TCPIdle)
		}
		if !want.Equal(deadline) {
			deadline = want
			_ = tc.conn.SetReadDeadline(deadline)
		}
		bp, n, err := readChunk(rc)
		if err != nil {
			if errors.Is(err, errTimeout) {
				if len(pend) == 0 && gotData && time.Unix(0, tc.last.Load()).Add(t.opts.TCPIdle).After(time.Now()) {
					continue // we wrote meanwhile: the lifetime starts again
				}
				switch {
				case len(pend) > 0:
					why = whySlow
					t.Stats.TCPTimeouts.Add(1)
				case !gotData:
					why = whyNoData
					t.Stats.TCPTimeouts.Add(1)
				default:
					why = whyLifetime
				}
			} else if !errors.Is(err, io.EOF) && !t.closing.Load() && !errors.Is(err, net.ErrClosed) {
				t.log.Debug("tcp read ended", "remote", tc.remote.String(), "err", err)
			}
			return
		}
		tc.last.Store(time.Now().UnixNano())
		gotData = true
		data := (*bp)[:n]
		if len(pend) > 0 {
			pend = append(pend, data...)
			data = pend
		}
		rest, ferr := t.deliver(tc, data)
		switch {
		case ferr != nil:
			chunkPool.Put(bp)
			return
		case len(rest) == 0:
			pend = nil
		case len(pend) > 0 && len(rest) == len(pend):
			// no message completed: keep growing pend
		default:
			started = time.Now()
			pend = append([]byte(nil), rest...) // rest may be in the chunk
		}
		chunkPool.Put(bp)
	}
}

var errTimeout = errors.New("transport: read deadline")

// readChunk waits until the socket has data (or EOF, or an error),
// honouring the read deadline, and reads it into a chunk from chunkPool,
// taken only once there is something to read: a waiting connection holds
// no buffer. One read(2) per chunk (a peek for readiness first would be a
// second system call each time). At EOF it returns io.EOF; the chunk is
// returned whenever err is nil or n > 0.
func readChunk(rc syscall.RawConn) (bp *[]byte, n int, err error) {
	var serr error
	err = rc.Read(func(fd uintptr) bool {
		bp = chunkPool.Get().(*[]byte)
		for {
			n, serr = syscall.Read(int(fd), *bp)
			if serr != syscall.EINTR {
				break
			}
		}
		if serr == syscall.EAGAIN {
			chunkPool.Put(bp)
			bp = nil
			return false
		}
		return true
	})
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errTimeout
		}
		return nil, 0, err
	}
	switch {
	case serr != nil:
		chunkPool.Put(bp)
		return nil, 0, serr
	case n <= 0:
		chunkPool.Put(bp)
		return nil, 0, io.EOF
	}
	return bp, n, nil
}

// deliver hands every complete message in data to the handler and
// returns the bytes of the incomplete one that follows. A framing error
// is answered as FramingError describes; the connection is then done.
func (t *Transport) deliver(tc *tcpConn, data []byte) ([]byte, error) {
	for len(data) > 0 {
		skip, n, err := frame(data, t.opts.MaxMsg)
		if skip > 0 {
			if isPing(data[:skip]) && skip == len(data) {
				// RFC 5626 keep-alive: answer a double CRLF with one CRLF.
				_ = t.enqueue(tc, []byte("\r\n"))
			}
			data = data[skip:]
			continue
		}
		if err != nil {
			var fe *FramingError
			if errors.Is(err, errTooBig) {
				t.Stats.Oversized.Add(1)
			}
			if !errors.As(err, &fe) {
				t.log.Warn("tcp message too large, closing connection", "remote", tc.remote.String())
				return nil, err
			}
			t.Stats.BadFraming.Add(1)
			t.log.Warn("tcp message without a usable Content-Length; answering and closing the connection",
				"remote", tc.remote.String(), "err", err)
			t.closeAfterAnswer(tc)
			t.received(tc, fe.head)
			return nil, err
		}
		if n == 0 {
			return data, nil
		}
		msg := make([]byte, n)
		copy(msg, data)
		data = data[n:]
		t.received(tc, msg)
	}
	return nil, nil
}

func (t *Transport) received(tc *tcpConn, raw []byte) {
	t.Stats.Received.Add(1)
	t.handler(raw, sipmsg.RcvInfo{Src: tc.remote, Sock: tc.sock, Proto: sipmsg.ProtoTCP, ConnID: tc.id})
}

// isPing reports whether CR/LF bytes hold a double CRLF.
func isPing(b []byte) bool {
	return bytes.Contains(b, []byte("\r\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
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

var errTooBig = errors.New("transport: message too large")

// frame looks for the first message in b. skip > 0: that many CR/LF bytes
// before it are to be dropped (RFC 3261 §7.5). n > 0: the message is
// b[:n]. n == 0 and no error: it is incomplete. errTooBig: the header
// block alone is over max (the connection is closed). *FramingError: a
// bad, repeated or too large Content-Length.
func frame(b []byte, max int) (skip, n int, err error) {
	for skip < len(b) && (b[skip] == '\r' || b[skip] == '\n') {
		skip++
	}
	if skip > 0 {
		return skip, 0, nil
	}
	end := headerEnd(b)
	if end < 0 {
		if len(b) > max {
			return 0, 0, errTooBig
		}
		return 0, 0, nil
	}
	clen, _, err := ContentLength(b[:end])
	if err != nil {
		return 0, 0, &FramingError{Err: err, head: bytes.Clone(b[:end])}
	}
	if clen > max-end {
		return 0, 0, &FramingError{Err: fmt.Errorf("%w: %d bytes, over the %d-byte limit", errTooBig, clen, max), head: bytes.Clone(b[:end])}
	}
	if len(b) < end+clen {
		return 0, 0, nil
	}
	return 0, end + clen, nil
}

// headerEnd returns the length of the header block of b including the
// empty line (CRLF CRLF, or bare LFs), or -1.
func headerEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// FramingError is a message on a stream whose end cannot be found (bad or
// repeated Content-Length, or a body over the limit): the header block is
// handed on (core answers it 400) and the connection is closed once that
// answer is written, since the stream's framing is lost.
type FramingError struct {
	Err  error
	head []byte
}

func (e *FramingError) Error() string { return "tcp framing: " + e.Err.Error() }
func (e *FramingError) Unwrap() error { return e.Err }

// ConnCount returns the number of open TCP connections.
func (t *Transport) ConnCount() int {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return len(t.conns)
}

// MaxAliases bounds the port aliases of one connection (SER's
// TCP_CON_MAX_ALIASES).
const MaxAliases = 4

// AddAlias makes TCP connection id also the connection to port on its
// remote address (SER's tcpconn_add_alias, behind force_tcp_alias and
// tcp_accept_aliases): requests sent there reuse it instead of opening a
// new connection. Port 0 is 5060. It fails for a connection that is gone,
// after MaxAliases aliases, and when another live connection already
// stands for that address (SER's "possible port hijack attempt").
func (t *Transport) AddAlias(id uint64, port int) error {
	if port == 0 {
		port = 5060
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	tc := t.conns[id]
	if tc == nil {
		return fmt.Errorf("transport: alias: no connection %d", id)
	}
	a := netip.AddrPortFrom(tc.remote.Addr(), uint16(port))
	switch other := t.byAddr[a]; {
	case other == tc:
		return nil
	case other != nil:
		return fmt.Errorf("transport: alias %s already stands for another connection (possible port hijack attempt)", a)
	case len(tc.aliases) >= MaxAliases:
		return fmt.Errorf("transport: alias %s: too many aliases for the connection from %s", a, tc.remote)
	}
	tc.aliases = append(tc.aliases, a)
	t.byAddr[a] = tc
	return nil
}
