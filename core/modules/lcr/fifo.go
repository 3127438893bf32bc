package lcr

import (
	"context"
	"fmt"
	"strings"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// commands are lcr_reload and lcr_dump (Exports.Commands).
func (l *LCR) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "lcr_reload", Help: "re-read the gw, gw_cap, gw_grp and lcr tables", Handler: l.fifoReload},
		{Name: "lcr_dump", Help: "print the gateways in memory", Handler: l.fifoDump},
	}
}

// fifoReload is lcr_reload: "200 OK" or "400 Reload of gateways failed"
// (SER's lcr fifo.c texts).
func (l *LCR) fifoReload(ctx context.Context, _ *rpc.Request) *rpc.Reply {
	if err := l.Reload(ctx); err != nil {
		l.log.Error("lcr: lcr_reload failed", "err", err)
		return rpc.NewReply(400, "Reload of gateways failed", "")
	}
	return rpc.NewReply(200, "OK", "")
}

// fifoDump is lcr_dump: "200 OK", then one line per gateway, by name, in
// SER's print_gws format: "sip:" or "sips:", the IP address, ":port" when
// set, ":udp"/":tcp"/":tls" when a transport is set.
func (l *LCR) fifoDump(_ context.Context, req *rpc.Request) *rpc.Reply {
	var out sercmd.LCRGateways
	for _, g := range l.tab.Load().gws {
		gw := sercmd.LCRGateway{Name: g.Name, GroupID: g.GroupID, IP: g.IP.String(), Port: g.Port, Scheme: "sip", Prefix: g.Prefix}
		if g.Scheme == store.SchemeSIPS {
			gw.Scheme = "sips"
		}
		var b strings.Builder
		b.WriteString(gw.Scheme + ":" + gw.IP)
		if g.Port != 0 {
			fmt.Fprintf(&b, ":%d", g.Port)
		}
		switch g.Transport {
		case store.TransportUDP:
			gw.Transport = "udp"
		case store.TransportTCP:
			gw.Transport = "tcp"
		case store.TransportTLS:
			gw.Transport = "tls"
		}
		if gw.Transport != "" {
			b.WriteString(":" + gw.Transport)
		}
		gw.URI = b.String()
		out = append(out, gw)
	}
	return rpc.Typed("200 OK", out)
}
