package core

import (
	"net"
	"net/netip"
	"testing"

	"ser/core/sipmsg"
)

// BenchmarkStatelessRelay is the relay path of the core with a real UDP
// socket: parse, count, run the route (a stateless forward), serialise
// with our Via and send to a sink. It is the path the per-method and
// per-transport counters sit on (issue 18): run it before and after a
// change to the counting.
func BenchmarkStatelessRelay(b *testing.B) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	sinkPort := sink.LocalAddr().(*net.UDPAddr).Port
	srv := newTestServerFn(b, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			dst, err := srv.ResolveHost("127.0.0.1", sinkPort, sipmsg.ProtoUDP)
			if err == nil {
				err = srv.Forward(m, dst)
			}
			if err != nil {
				b.Error(err)
			}
			return 1
		})
	})
	raw := []byte(invite(5099, "sip:bob@example.com"))
	rcv := sipmsg.RcvInfo{Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP}
	rcv.Src = netip.MustParseAddrPort("127.0.0.1:5099")
	b.ReportAllocs()
	for b.Loop() {
		srv.process(raw, rcv)
	}
}
