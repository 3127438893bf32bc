package core

import (
	"context"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// registerStats adds the core_stats command (an extension of SER's
// command set): the core's and the transport's counters, one "name: value"
// per line, so operators and the web console can watch malformed input,
// stateless forwarding and dropped TCP messages (replicas to a dead peer).
func (s *Server) registerStats(reg *rpc.Registry) error {
	return reg.Register(rpc.Command{
		Name: "core_stats",
		Help: "core and transport counters: requests, replies, malformed and dropped messages, stateless forwarding, TCP",
		Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			var out sercmd.CoreStats
			st := &s.Stats
			line := func(name string, v uint64) { out = append(out, sercmd.Counter{Name: name, Value: v}) }
			line("requests", st.Requests.Total())
			line("replies", st.Replies.Total())
			line("malformed", st.Malformed.Total())
			line("dropped", st.Dropped.Total())
			line("bad_replies", st.BadReplies.Load())
			line("fwd_requests", st.FwdRequests.Total())
			line("fwd_replies", st.FwdReplies.Total())
			line("cfg_reloads", st.Reloads.Load())
			if s.tr != nil {
				ts := &s.tr.Stats
				line("received", ts.Received.Load())
				line("sent", ts.Sent.Load())
				line("send_errors", ts.SendErr.Load())
				line("oversized", ts.Oversized.Load())
				line("tcp_dropped", ts.TCPDropped.Load())
				line("tcp_bad_framing", ts.BadFraming.Load())
				line("tcp_accepted", ts.TCPAccepted.Load())
				line("tcp_refused", ts.TCPRefused.Load())
				line("tcp_timeouts", ts.TCPTimeouts.Load())
				line("tcp_queued", uint64(s.tr.QueuedTotal()))
				line("tcp_connections", uint64(s.tr.ConnCount()))
			}
			for _, f := range s.Frontends() {
				if f.Stats != nil {
					f.Stats(line)
				}
			}
			return rpc.Typed(req.OK(), out)
		},
	})
}
