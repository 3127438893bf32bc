package nathelper

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ser/core/rpc"
)

// commands are nh_enable_ping and nh_ping_stats (Exports.Commands).
func (n *NATHelper) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "nh_enable_ping", Params: []string{"value"}, Help: "switch NAT pinging on (value > 0) or off (0)", Handler: n.fifoEnable},
		{Name: "nh_ping_stats", Help: "print the NAT pinger's counters", Handler: n.fifoStats},
		{Name: "nh_show_rtpp", Help: "list the RTP proxies: index, disabled, weight, seconds to the next recheck", Handler: n.fifoShowRTPP},
		{Name: "nh_enable_rtpp", Params: []string{"url", "value"}, Help: "enable (value > 0) or disable (0) the RTP proxy url of rtpproxy_sock", Handler: n.fifoEnableRTPP},
	}
}

// fifoEnable is Kamailio's nh_enable_ping: "200 OK", "400 Too few or too
// many arguments" without a value, "400 Bad parameter" for a value that
// is not a number.
func (n *NATHelper) fifoEnable(_ context.Context, req *rpc.Request) *rpc.Reply {
	l, ok := req.Params.Line()
	l = strings.TrimSpace(l)
	if !ok || l == "" {
		return rpc.NewReply(400, "Too few or too many arguments", "")
	}
	v, err := strconv.Atoi(l)
	if err != nil {
		return rpc.NewReply(400, "Bad parameter", "")
	}
	n.enabled.Store(v > 0)
	if v <= 0 {
		// A round already running finishes first: once this answers, no
		// more pings leave.
		n.roundMu.Lock()
		n.roundMu.Unlock()
	}
	n.log.Info("nathelper: NAT pinging switched", "on", v > 0)
	return rpc.NewReply(200, "OK", "")
}

// Stats is a snapshot of the NAT pinger's counters.
type Stats struct {
	// Enabled is nh_enable_ping's switch.
	Enabled bool
	// Rounds, Sent and Errors count since start; LastRound is the number
	// of packets of the last round.
	Rounds, Sent, Errors, LastRound uint64
}

// Stats returns the pinger's counters.
func (n *NATHelper) Stats() Stats {
	return Stats{
		Enabled: n.enabled.Load(), Rounds: n.stats.rounds.Load(), Sent: n.stats.sent.Load(),
		Errors: n.stats.errors.Load(), LastRound: n.stats.last.Load(),
	}
}

// fifoStats is nh_ping_stats: "200 OK" then "name:: value" lines.
func (n *NATHelper) fifoStats(_ context.Context, _ *rpc.Request) *rpc.Reply {
	s := n.Stats()
	state := "off"
	if n.pingInterval > 0 && s.Enabled {
		state = "on"
	}
	body := fmt.Sprintf("natping:: %s\nnatping_interval:: %d\nrounds:: %d\nsent:: %d\nerrors:: %d\nlast_round:: %d\n",
		state, int(n.pingInterval.Seconds()), s.Rounds, s.Sent, s.Errors, s.LastRound)
	return rpc.NewReply(200, "OK", body)
}

// RTPProxyState is one RTP proxy as nh_show_rtpp lists it.
type RTPProxyState struct {
	URL      string // as in rtpproxy_sock, without the weight
	Index    int    // position in rtpproxy_sock (force_rtp_proxy's N)
	Disabled bool
	Weight   int
	// Recheck is the time left until a disabled proxy is tested again;
	// -1 when it never is (nh_enable_rtpp 0, rtpproxy_disable_tout -1).
	Recheck time.Duration
}

// RTPProxies is nh_show_rtpp's value.
type RTPProxies []RTPProxyState

// WriteBody writes Kamailio's nh_show_rtpp layout: per proxy its URL
// with the set (always 0: one list), then index, disabled, weight and
// recheck_ticks (here: seconds to the next recheck, -1 never).
func (ps RTPProxies) WriteBody(b *strings.Builder) {
	for _, p := range ps {
		recheck := int64(0)
		switch {
		case p.Recheck < 0:
			recheck = -1
		case p.Disabled:
			recheck = int64((p.Recheck + time.Second - 1) / time.Second)
		}
		dis := 0
		if p.Disabled {
			dis = 1
		}
		fmt.Fprintf(b, "%s:: set=0\n\tindex:: %d\n\tdisabled:: %d\n\tweight:: %d\n\trecheck_ticks:: %d\n",
			p.URL, p.Index, dis, p.Weight, recheck)
	}
}

// RTPProxyStates returns the RTP proxies of rtpproxy_sock and their state
// (none with rtpproxy_disable).
func (n *NATHelper) RTPProxyStates() RTPProxies {
	if n.rtpDisable {
		return RTPProxies{}
	}
	now := n.rtp.now()
	out := make(RTPProxies, 0, len(n.rtp.nodes))
	for i, node := range n.rtp.nodes {
		node.mu.Lock()
		st := RTPProxyState{URL: node.url, Index: i, Disabled: node.disabled, Weight: node.weight}
		if node.disabled {
			st.Recheck = max(node.recheck.Sub(now), 0)
			if n.rtp.disableTout < 0 || node.manual {
				st.Recheck = -1
			}
		}
		node.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// fifoShowRTPP is Kamailio's nh_show_rtpp.
func (n *NATHelper) fifoShowRTPP(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Typed("200 OK", n.RTPProxyStates())
}

// fifoEnableRTPP is Kamailio's nh_enable_rtpp url value: value > 0
// enables the proxy (it is used at once, without a test), 0 disables it
// until it is enabled again. "404 RTP proxy not found" for a URL not in
// rtpproxy_sock.
func (n *NATHelper) fifoEnableRTPP(_ context.Context, req *rpc.Request) *rpc.Reply {
	url, ok1 := req.Params.Line()
	val, ok2 := req.Params.Line()
	url, val = strings.TrimSpace(url), strings.TrimSpace(val)
	if !ok1 || !ok2 || url == "" || val == "" {
		return rpc.NewReply(400, "Too few or too many arguments", "")
	}
	v, err := strconv.Atoi(val)
	if err != nil {
		return rpc.NewReply(400, "Bad parameter", "")
	}
	if n.rtpDisable {
		return rpc.NewReply(404, "RTP proxy not found", "")
	}
	for _, node := range n.rtp.nodes {
		if node.url != url {
			continue
		}
		node.mu.Lock()
		node.disabled, node.manual = v <= 0, v <= 0
		node.recheck = n.rtp.now()
		node.mu.Unlock()
		n.log.Info("nathelper: RTP proxy switched", "proxy", url, "enabled", v > 0)
		return rpc.NewReply(200, "OK", "")
	}
	return rpc.NewReply(404, "RTP proxy not found", "")
}
