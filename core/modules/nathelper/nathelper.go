// Package nathelper is SER's nathelper module for ser: nat_uac_test(flags)
// detects clients behind a NAT, fix_nated_contact() and fix_nated_sdp()
// rewrite their private addresses to the address the message came from,
// fix_nated_register() makes the registrar store that address as the
// contact's received address, and the NAT pinger keeps the NAT bindings
// of registered contacts open by sending them a keep-alive (or a SIP
// OPTIONS request) every natping_interval seconds.
package nathelper

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// NATHelper is one nathelper module instance.
type NATHelper struct {
	pingInterval  time.Duration
	pingNatedOnly bool
	sippingFrom   string
	sippingMethod string
	tables        []string

	log  *slog.Logger
	core module.Core
	ul   *usrloc.Module

	// enabled is nh_enable_ping's switch; roundMu is held for a whole
	// round, so that switching pings off can wait for one in progress.
	enabled atomic.Bool
	roundMu sync.Mutex
	stats   pingStats
	// seq numbers SIP pings (Call-ID, branch).
	seq atomic.Uint64

	pinger module.Periodic
	// forceSocket (force_socket) is the address of the listening socket
	// pings leave from; forceSock the socket, found at Init.
	forceSocket string
	forceSock   *sipmsg.Socket

	// The RTP proxy part (force_rtp_proxy, unforce_rtp_proxy).
	rtp        rtpProxies
	rtpDisable bool // rtpproxy_disable
	// rtpUsed is set when the script calls an RTP proxy function: only
	// then are the proxies tested at start.
	rtpUsed bool
}

// pingStats counts the pinger's work.
type pingStats struct {
	rounds, sent, errors, last atomic.Uint64
}

// New returns an instance with SER's defaults: pinging off, every contact
// pinged when it is on, keep-alive packets rather than SIP requests.
func New() *NATHelper {
	n := &NATHelper{sippingMethod: "OPTIONS", log: slog.Default().With("module", "nathelper")}
	n.enabled.Store(true)
	n.rtp = rtpProxies{retr: 5, tout: time.Second, disableTout: 60 * time.Second, now: time.Now}
	n.rtp.nodes, _ = parseRTPProxySock(defaultRTPProxySock)
	return n
}

// defaultRTPProxySock is SER's default rtpproxy_sock.
const defaultRTPProxySock = "unix:/var/run/rtpproxy.sock"

func setRTPProxySock(n *NATHelper, v module.Value) error {
	nodes, err := parseRTPProxySock(v.String())
	if err != nil {
		return err
	}
	n.rtp.nodes = nodes
	return nil
}

// secondsParam returns a modparam setter for a number of seconds not
// below lowest.
func secondsParam(name string, lowest int, set func(*NATHelper, int)) func(any, module.Value) error {
	return module.SetOf(func(n *NATHelper, v module.Value) error {
		s, err := v.Int()
		if err != nil {
			return err
		}
		if s < lowest {
			return fmt.Errorf("nathelper: %s must be at least %d, not %d", name, lowest, s)
		}
		set(n, s)
		return nil
	})
}

func setPingInterval(n *NATHelper, v module.Value) error {
	s, err := v.Int()
	if err != nil {
		return err
	}
	if s < 0 {
		return fmt.Errorf("nathelper: natping_interval must not be negative, not %d", s)
	}
	n.pingInterval = time.Duration(s) * time.Second
	return nil
}

func setSippingFrom(n *NATHelper, v module.Value) error {
	var u sip.Uri
	if err := sip.ParseUri(v.String(), &u); err != nil || u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips") {
		return fmt.Errorf("nathelper: sipping_from %q is not a SIP URI", v.String())
	}
	n.sippingFrom = v.String()
	return nil
}

func setSippingMethod(n *NATHelper, v module.Value) error {
	s := v.String()
	if s == "" || strings.ContainsAny(s, " \t\r\n:;") {
		return fmt.Errorf("nathelper: sipping_method %q is not a SIP method", s)
	}
	n.sippingMethod = s
	return nil
}

// setPingTables takes the usrloc tables to ping, separated by commas,
// semicolons or spaces.
func setPingTables(n *NATHelper, v module.Value) error {
	n.tables = nil
	for _, t := range strings.FieldsFunc(v.String(), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' }) {
		n.tables = append(n.tables, t)
	}
	if len(n.tables) == 0 {
		return fmt.Errorf("nathelper: natping_tables %q names no table", v.String())
	}
	return nil
}

func initModule(n *NATHelper, env *module.Env) error {
	if env.Log != nil {
		n.log = env.Log
	}
	n.core = env.Core
	if n.forceSocket != "" {
		if n.forceSock = findSocket(env.Core, n.forceSocket); n.forceSock == nil {
			return fmt.Errorf("nathelper: force_socket %q is not the address of a UDP socket ser listens on", n.forceSocket)
		}
	}
	if n.pingInterval > 0 {
		u, ok := module.Get[*usrloc.Module](env, "usrloc")
		if !ok {
			return fmt.Errorf("nathelper: NAT pinging (natping_interval) needs the usrloc module")
		}
		n.ul = u
	} else if len(n.tables) > 0 {
		return fmt.Errorf("nathelper: natping_tables is set but NAT pinging is off (natping_interval 0)")
	}
	return nil
}

// findSocket returns the UDP listening socket that addr ("ip", "name" or
// "ip:port") names, as SER's grep_sock_info found force_socket's.
func findSocket(core module.Core, addr string) *sipmsg.Socket {
	if core == nil {
		return nil
	}
	host, port := addr, 0
	if h, p, err := net.SplitHostPort(addr); err == nil {
		if port, err = strconv.Atoi(p); err != nil {
			return nil
		}
		host = h
	}
	host = strings.Trim(host, "[]")
	for _, s := range core.Sockets() {
		if s.Proto != sipmsg.ProtoUDP || port != 0 && port != s.Port {
			continue
		}
		if strings.EqualFold(host, strings.Trim(s.Name, "[]")) {
			return s
		}
		if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap() == s.IP {
			return s
		}
	}
	return nil
}
