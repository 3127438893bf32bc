package core

import (
	"net/netip"
	"strings"

	"ser/core/sipmsg"
)

// defaultPort is the port a URI without one means.
func defaultPort(proto sipmsg.Proto) int {
	if proto == sipmsg.ProtoTLS {
		return 5061
	}
	return 5060
}

// Sockets returns the listening sockets.
func (s *Server) Sockets() []*sipmsg.Socket { return s.socks }

// IsMyself reports whether host:port names this server: a listen address
// or the advertised address and port (a URI without port matches the
// default port only) or an alias (an
// alias without port matches every port). proto 0 matches any protocol.
func (s *Server) IsMyself(host string, port int, proto sipmsg.Proto) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if port == 0 {
		port = defaultPort(proto)
	}
	for _, sk := range s.socks {
		if (proto == sipmsg.ProtoNone || sk.Proto == proto) && sk.Names(host, port) {
			return true
		}
	}
	for _, a := range s.aliases {
		if !strings.EqualFold(strings.TrimSuffix(a.Host, "."), host) {
			continue
		}
		if !a.PortSet || a.Port == port {
			return true
		}
	}
	return false
}

// IsMyselfIP reports whether ip is one of the listen addresses.
func (s *Server) IsMyselfIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, sk := range s.socks {
		if sk.IP == ip {
			return true
		}
	}
	return false
}
