package tm

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// LocalNextHop is where a request this server originates for ruri goes
// so that its own script routes it (lookup to the registered contact):
// this server's own socket when ruri's host is one of its names (a domain
// served here — SER 0.9 resolved it in DNS, which reaches the same server
// where the DNS is right); else "" (tm resolves ruri). msilo and the
// jabber gateway send their MESSAGEs to local users this way.
func LocalNextHop(core module.Core, ruri string) string {
	var u sip.Uri
	if core == nil || sip.ParseUri(ruri, &u) != nil || u.Host == "" {
		return ""
	}
	proto := sipmsg.ProtoUDP
	if t, ok := u.UriParams.Get("transport"); ok {
		if p, ok := sipmsg.ParseProto(t); ok {
			proto = p
		}
	}
	if _, err := netip.ParseAddr(strings.Trim(u.Host, "[]")); err == nil {
		return "" // an address: tm sends there
	}
	if !core.IsMyself(u.Host, u.Port, proto) {
		return ""
	}
	for _, s := range core.Sockets() {
		if s.Proto == proto {
			hp := s.IP.String()
			if s.IP.Is6() {
				hp = "[" + hp + "]"
			}
			return "sip:" + hp + ":" + strconv.Itoa(s.Port) + ";transport=" + proto.String()
		}
	}
	return ""
}
