package sipmsg

import (
	"fmt"
	"net/netip"
)

// Dest is a resolved next hop: where to send a message and from which socket.
type Dest struct {
	Proto Proto
	Addr  netip.AddrPort
	// Sock is the local socket to send from; nil lets the transport choose
	// one of the right protocol and address family.
	Sock *Socket
	// ConnID reuses an existing TCP connection (replies go back over the
	// connection the request came on).
	ConnID uint64
}

// String returns "proto:ip:port".
func (d Dest) String() string { return fmt.Sprintf("%s:%s", d.Proto, d.Addr) }
