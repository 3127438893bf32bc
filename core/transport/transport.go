// Package transport owns the server's sockets: UDP and TCP listeners that
// hand every received message to one callback, and sending from the
// listening socket so that replies and forwarded requests leave from the
// advertised address. TCP connections are kept and reused in both
// directions (replies go back over the connection a request came on).
package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ser/core/counter"
	"ser/core/sipmsg"
)

// Handler receives one complete message. raw is owned by the callee.
type Handler func(raw []byte, rcv sipmsg.RcvInfo)

// Options tune the sockets.
type Options struct {
	// RcvBuf is the UDP receive buffer size to ask the kernel for (SER's
	// maxbuffer / -b); 0 keeps the default.
	RcvBuf int
	// TCPIdle closes TCP connections without traffic either way for this
	// long (tcp_connection_lifetime, default 120 s as Kamailio's).
	TCPIdle time.Duration
	// TCPMaxConns bounds the TCP connections, accepted and dialled
	// together (tcp_max_connections, default 2048). Connections accepted
	// over it are reset at once; dialling over it fails (the messages stay
	// queued for the peer, as for an unreachable one).
	TCPMaxConns int
	// TCPPerIP bounds the connections accepted from one address
	// (tcp_accept_iplimit, default 1024 as Kamailio's; -1: no bound), so
	// that one host cannot take every connection.
	TCPPerIP int
	// TCPDataTimeout closes an accepted connection that has not sent a
	// byte for this long after it was opened (tcp_msg_data_timeout,
	// default 20 s).
	TCPDataTimeout time.Duration
	// TCPReadTimeout closes a connection whose message, once begun, is
	// not complete within this long (tcp_msg_read_timeout, default 20 s).
	TCPReadTimeout time.Duration
	// TCPQueueBytes bounds the bytes waiting in all TCP write and peer
	// queues together (tcp_wq_max, default 32 MiB).
	TCPQueueBytes int
	// TCPConnectTimeout bounds outgoing connection set-up (default 3 s).
	TCPConnectTimeout time.Duration
	// TCPWriteTimeout bounds one write on a TCP connection (default 3 s)
	// — one gathered write of everything queued on it since the last —
	// after which the connection is closed. Workers never wait for it.
	TCPWriteTimeout time.Duration
	// MaxMsg is the largest TCP message accepted (default 256 KiB).
	MaxMsg int
	// TCPQueue bounds the messages waiting to be written on one TCP
	// connection, or for a peer that is being (re)connected; default 4096.
	TCPQueue int
	// TCPQueueLifetime drops messages that waited longer than this for an
	// unreachable peer (default 60 s).
	TCPQueueLifetime time.Duration
	// TCPMaxBackoff caps the time between connection attempts to an
	// unreachable peer (default 5 s).
	TCPMaxBackoff time.Duration
	Log           *slog.Logger
}

// Stats are the transport's counters.
type Stats struct {
	Received atomic.Uint64
	Sent     atomic.Uint64
	// SentRequests and SentReplies count what Sent counts by request
	// method or reply class and transport (retransmissions included),
	// read from the first bytes of the message.
	SentRequests counter.ByMethod
	SentReplies  counter.ByClass
	// TCPAccepted counts incoming TCP connections taken (not refused).
	TCPAccepted atomic.Uint64
	SendErr     atomic.Uint64
	Oversized   atomic.Uint64
	// BadFraming counts TCP messages whose Content-Length was missing its
	// digits, repeated or over the limit (answered 400, connection closed).
	BadFraming atomic.Uint64
	// TCPDropped counts messages dropped by the asynchronous TCP sender:
	// a full queue, messages that waited too long for an unreachable peer,
	// unwritten replies on a failed incoming connection.
	TCPDropped atomic.Uint64
	// TCPRefused counts connections reset because tcp_max_connections
	// were open.
	TCPRefused atomic.Uint64
	// TCPTimeouts counts connections closed by tcp_msg_data_timeout or
	// tcp_msg_read_timeout.
	TCPTimeouts atomic.Uint64
}

// Transport is the set of listening sockets of one server.
type Transport struct {
	opts    Options
	log     *slog.Logger
	handler Handler
	socks   []*sipmsg.Socket

	udp map[*sipmsg.Socket]*net.UDPConn
	tcp map[*sipmsg.Socket]*net.TCPListener

	connMu       sync.Mutex
	connPeak     int         // most connections since the last memory release
	releaseTimer *time.Timer // a memory release is due
	conns        map[uint64]*tcpConn
	byAddr       map[netip.AddrPort]*tcpConn
	perIP        map[netip.Addr]int // accepted connections per source address
	peers        map[netip.AddrPort]*peer
	nextID       atomic.Uint64
	closing      atomic.Bool
	started      atomic.Bool
	done         chan struct{}

	lastDropLog   atomic.Int64 // unix nanos of the last "dropped" log line
	lastRefuseLog atomic.Int64 // unix nanos of the last "refused" log line
	queuedBytes   atomic.Int64 // bytes in every write and peer queue
	wg            sync.WaitGroup

	Stats Stats
}

// Listen binds every socket. A socket with port 0 gets a free port; UDP and
// TCP sockets on the same address and port 0 share the port picked for the
// first of them, as SER listens on the same port for both.
func Listen(socks []*sipmsg.Socket, h Handler, o Options) (*Transport, error) {
	if o.TCPIdle == 0 {
		o.TCPIdle = 120 * time.Second
	}
	if o.TCPMaxConns == 0 {
		o.TCPMaxConns = 2048
	}
	if o.TCPPerIP == 0 {
		o.TCPPerIP = 1024
	}
	if o.TCPDataTimeout == 0 {
		o.TCPDataTimeout = 20 * time.Second
	}
	if o.TCPReadTimeout == 0 {
		o.TCPReadTimeout = 20 * time.Second
	}
	if o.TCPQueueBytes == 0 {
		o.TCPQueueBytes = 32 << 20
	}
	if o.TCPConnectTimeout == 0 {
		o.TCPConnectTimeout = 3 * time.Second
	}
	if o.TCPWriteTimeout == 0 {
		o.TCPWriteTimeout = 3 * time.Second
	}
	if o.MaxMsg == 0 {
		o.MaxMsg = 4 * sipmsg.MaxMsgLen
	}
	if o.TCPQueue == 0 {
		o.TCPQueue = 4096
	}
	if o.TCPQueueLifetime == 0 {
		o.TCPQueueLifetime = time.Minute
	}
	if o.TCPMaxBackoff == 0 {
		o.TCPMaxBackoff = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	t := &Transport{
		opts: o, log: o.Log, handler: h, socks: socks,
		udp:    map[*sipmsg.Socket]*net.UDPConn{},
		tcp:    map[*sipmsg.Socket]*net.TCPListener{},
		conns:  map[uint64]*tcpConn{},
		byAddr: map[netip.AddrPort]*tcpConn{},
		perIP:  map[netip.Addr]int{},
		peers:  map[netip.AddrPort]*peer{},
		done:   make(chan struct{}),
	}
	for attempt := 0; ; attempt++ {
		err := t.bindAll()
		if err == nil {
			return t, nil
		}
		t.closeListeners(true)
		if !errors.Is(err, syscall.EADDRINUSE) || attempt >= 20 || !hasZeroPort(socks) {
			return nil, err
		}
	}
}

func hasZeroPort(socks []*sipmsg.Socket) bool {
	for _, s := range socks {
		if s.Port == 0 {
			return true
		}
	}
	return false
}

// bindAll binds all sockets; port-0 sockets sharing an address get the
// same port.
func (t *Transport) bindAll() error {
	picked := map[netip.Addr]int{}
	orig := make([]int, len(t.socks))
	for i, s := range t.socks {
		orig[i] = s.Port
	}
	defer func() {
		// On failure the next attempt starts from the configured ports.
		if len(t.udp)+len(t.tcp) < len(t.socks) {
			for i, s := range t.socks {
				s.Port = orig[i]
			}
		}
	}()
	for _, s := range t.socks {
		port := s.Port
		if port == 0 {
			port = picked[s.IP]
		}
		ap := netip.AddrPortFrom(s.IP, uint16(port))
		switch s.Proto {
		case sipmsg.ProtoUDP:
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
			if err != nil {
				return fmt.Errorf("transport: listen %s: %w", s, err)
			}
			if t.opts.RcvBuf > 0 {
				_ = c.SetReadBuffer(t.opts.RcvBuf)
			}
			_ = c.SetWriteBuffer(4 << 20)
			t.udp[s] = c
			s.Port = c.LocalAddr().(*net.UDPAddr).Port
		case sipmsg.ProtoTCP:
			l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
			if err != nil {
				return fmt.Errorf("transport: listen %s: %w", s, err)
			}
			t.tcp[s] = l
			s.Port = l.Addr().(*net.TCPAddr).Port
		default:
			return fmt.Errorf("transport: listen %s: protocol not supported", s)
		}
		if picked[s.IP] == 0 {
			picked[s.IP] = s.Port
		}
	}
	return nil
}

// closeListeners closes the listening sockets; forget drops them from the
// maps (only before Start, when no loop reads the maps).
func (t *Transport) closeListeners(forget bool) {
	for s, c := range t.udp {
		c.Close()
		if forget {
			delete(t.udp, s)
		}
	}
	for s, l := range t.tcp {
		l.Close()
		if forget {
			delete(t.tcp, s)
		}
	}
}

// Sockets returns the bound sockets (ports filled in).
func (t *Transport) Sockets() []*sipmsg.Socket { return t.socks }

// Start launches the receive loops.
func (t *Transport) Start() {
	t.started.Store(true)
	for s, c := range t.udp {
		t.wg.Add(1)
		go t.udpLoop(s, c)
	}
	for s, l := range t.tcp {
		t.wg.Add(1)
		go t.acceptLoop(s, l)
	}
}

// Serving reports whether the sockets are receiving: Start was called and
// Close was not.
func (t *Transport) Serving() bool { return t.started.Load() && !t.closing.Load() }

// Close stops all loops and closes every socket and connection.
func (t *Transport) Close() {
	if !t.closing.CompareAndSwap(false, true) {
		return
	}
	close(t.done)
	t.closeListeners(false)
	t.connMu.Lock()
	conns := make([]*tcpConn, 0, len(t.conns))
	for _, c := range t.conns {
		conns = append(conns, c)
	}
	if t.releaseTimer != nil {
		t.releaseTimer.Stop()
	}
	for _, p := range t.peers {
		if p.retry != nil {
			p.retry.Stop()
		}
		t.dropQueued(p.pending)
		p.pending = nil
	}
	t.connMu.Unlock()
	for _, c := range conns {
		t.dropConn(c)
	}
	t.wg.Wait()
}

// SocketFor picks the socket to send to dst from: dst.Sock when set, else
// the first socket of the protocol and address family of the destination.
func (t *Transport) SocketFor(dst sipmsg.Dest) *sipmsg.Socket {
	if dst.Sock != nil && dst.Sock.Proto == dst.Proto {
		return dst.Sock
	}
	var fallback *sipmsg.Socket
	for _, s := range t.socks {
		if s.Proto != dst.Proto {
			continue
		}
		if dst.Sock != nil && s.IP == dst.Sock.IP {
			return s
		}
		if s.IP.Is4() == dst.Addr.Addr().Is4() {
			if fallback == nil {
				fallback = s
			}
		}
	}
	return fallback
}

// Send transmits data to dst.
func (t *Transport) Send(dst sipmsg.Dest, data []byte) error {
	var err error
	switch dst.Proto {
	case sipmsg.ProtoUDP, sipmsg.ProtoNone:
		err = t.sendUDP(dst, data)
	case sipmsg.ProtoTCP:
		err = t.sendTCP(dst, data)
	default:
		err = fmt.Errorf("transport: send to %s: protocol not supported", dst)
	}
	if err != nil {
		t.Stats.SendErr.Add(1)
		return err
	}
	t.Stats.Sent.Add(1)
	if m, class := counter.RawIndex(data); m == counter.Reply {
		t.Stats.SentReplies.Add(class*100, dst.Proto)
	} else {
		t.Stats.SentRequests.Add(m, dst.Proto)
	}
	return nil
}

func (t *Transport) sendUDP(dst sipmsg.Dest, data []byte) error {
	dst.Proto = sipmsg.ProtoUDP
	s := t.SocketFor(dst)
	if s == nil {
		return fmt.Errorf("transport: send to %s: no udp socket for this address family", dst)
	}
	c := t.udp[s]
	if c == nil {
		return fmt.Errorf("transport: send to %s: socket %s closed", dst, s)
	}
	if _, err := c.WriteToUDPAddrPort(data, dst.Addr); err != nil {
		return fmt.Errorf("transport: send to %s: %w", dst, err)
	}
	return nil
}
