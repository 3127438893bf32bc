package nathelper

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"ser/core/rpc"
)

// commands are nh_enable_ping and nh_ping_stats (Exports.Commands).
func (n *NATHelper) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "nh_enable_ping", Params: []string{"value"}, Help: "switch NAT pinging on (value > 0) or off (0)", Handler: n.fifoEnable},
		{Name: "nh_ping_stats", Help: "print the NAT pinger's counters", Handler: n.fifoStats},
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
