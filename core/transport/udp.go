package transport

import (
	"net"

	"ser/core/sipmsg"
)

// udpLoop reads datagrams from one socket until it is closed.
func (t *Transport) udpLoop(s *sipmsg.Socket, c *net.UDPConn) {
	defer t.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if t.closing.Load() {
				return
			}
			t.log.Warn("udp read failed", "sock", s.String(), "err", err)
			continue
		}
		if isKeepAlive(buf[:n]) {
			continue
		}
		t.Stats.Received.Add(1)
		raw := make([]byte, n)
		copy(raw, buf[:n])
		t.handler(raw, sipmsg.RcvInfo{Src: src, Sock: s, Proto: sipmsg.ProtoUDP})
	}
}

// isKeepAlive reports whether b is a NAT keep-alive (CRLFs, a NUL or
// whitespace only) rather than a SIP message.
func isKeepAlive(b []byte) bool {
	for _, c := range b {
		switch c {
		case '\r', '\n', ' ', '\t', 0:
		default:
			return false
		}
	}
	return true
}
