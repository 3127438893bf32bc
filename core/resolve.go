package core

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// resolveListenHost turns a listen host into addresses: "*" is every IPv4
// interface address (SER's default), otherwise an IP literal, an
// interface name or a host name.
func resolveListenHost(host string) ([]netip.Addr, error) {
	if host == "*" {
		return interfaceIPv4s()
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	if ifc, err := net.InterfaceByName(host); err == nil {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, err
		}
		var out []netip.Addr
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, p.Addr().Unmap())
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("interface %s has no address", host)
		}
		return out, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("cannot resolve %q: %v", host, err)
	}
	return []netip.Addr{ips[0].Unmap()}, nil
}

func interfaceIPv4s() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			out = append(out, p.Addr())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no IPv4 interface found")
	}
	return out, nil
}

// dnsCache keeps name lookups for a minute so that a busy proxy does not
// ask the resolver for every message.
type dnsCache struct {
	mu sync.Mutex
	m  map[string]dnsEntry
}

type dnsEntry struct {
	addr netip.Addr
	port int // from SRV, 0 when none
	err  error
	exp  time.Time
}

var resolver = &dnsCache{m: map[string]dnsEntry{}}

const dnsTTL = time.Minute

// lookup resolves host (SRV first when srvProto is set) with a cache.
func (c *dnsCache) lookup(host string, srvProto string) (netip.Addr, int, error) {
	key := srvProto + "/" + host
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.addr, e.port, e.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	e = dnsEntry{exp: now.Add(dnsTTL)}
	target := host
	if srvProto != "" {
		if _, srvs, err := net.DefaultResolver.LookupSRV(ctx, "sip", srvProto, host); err == nil && len(srvs) > 0 {
			target = strings.TrimSuffix(srvs[0].Target, ".")
			e.port = int(srvs[0].Port)
		}
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", target)
	switch {
	case err != nil:
		e.err = fmt.Errorf("cannot resolve %q: %w", host, err)
		e.exp = now.Add(5 * time.Second) // negative entries expire soon
	case len(ips) == 0:
		e.err = fmt.Errorf("cannot resolve %q: no address", host)
	default:
		e.addr = ips[0].Unmap()
		for _, ip := range ips {
			if ip.Unmap().Is4() { // prefer IPv4 like SER
				e.addr = ip.Unmap()
				break
			}
		}
	}
	c.mu.Lock()
	c.m[key] = e
	c.mu.Unlock()
	return e.addr, e.port, e.err
}

// ResolveHost resolves host and port (0 = default port, after an SRV
// lookup for names) for the protocol.
func (s *Server) ResolveHost(host string, port int, proto sipmsg.Proto) (sipmsg.Dest, error) {
	if proto == sipmsg.ProtoNone {
		proto = sipmsg.ProtoUDP
	}
	h := strings.Trim(host, "[]")
	d := sipmsg.Dest{Proto: proto}
	if ip, err := netip.ParseAddr(h); err == nil {
		if port == 0 {
			port = defaultPort(proto)
		}
		d.Addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		return d, nil
	}
	srv := ""
	if port == 0 {
		srv = proto.String()
	}
	ip, srvPort, err := resolver.lookup(h, srv)
	if err != nil {
		return d, fmt.Errorf("core: %w", err)
	}
	if port == 0 {
		port = srvPort
	}
	if port == 0 {
		port = defaultPort(proto)
	}
	d.Addr = netip.AddrPortFrom(ip, uint16(port))
	return d, nil
}

// Resolve turns a next-hop URI into a destination: maddr, host, port and
// the transport parameter (sips means TLS).
func (s *Server) Resolve(u *sip.Uri) (sipmsg.Dest, error) {
	proto := sipmsg.ProtoUDP
	if t, ok := u.UriParams.Get("transport"); ok {
		p, ok := sipmsg.ParseProto(t)
		if !ok {
			return sipmsg.Dest{}, fmt.Errorf("core: resolve %s: unsupported transport %q", u.String(), t)
		}
		proto = p
	}
	if strings.EqualFold(u.Scheme, "sips") {
		proto = sipmsg.ProtoTLS
	}
	host := u.Host
	if maddr, ok := u.UriParams.Get("maddr"); ok && maddr != "" {
		host = maddr
	}
	if host == "" {
		return sipmsg.Dest{}, fmt.Errorf("core: resolve %q: no host", u.String())
	}
	return s.ResolveHost(host, u.Port, proto)
}

// SocketFor picks the socket to send to dst from.
func (s *Server) SocketFor(dst sipmsg.Dest) *sipmsg.Socket { return s.tr.SocketFor(dst) }

// Send transmits data to dst.
func (s *Server) Send(dst sipmsg.Dest, data []byte) error { return s.tr.Send(dst, data) }
