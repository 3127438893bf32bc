package daemon

import (
	"context"
	"net/http"
	"time"

	"ser/core"
	"ser/core/counter"
	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
	"ser/internal/metrics"
)

// metricsHandler serves /metrics: every figure is read from where it is
// counted when Prometheus scrapes — the core's and the transport's atomic
// counters, the modules' statistics commands (t_stats, sl_stats, ul_stats,
// through the registry without being counted as commands), the
// registry's command counters, the databases' statement counters and the
// Go runtime. Nothing is counted twice and nothing runs between scrapes.
func metricsHandler(srv *core.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(rpc.Uncounted(r.Context()), 10*time.Second)
		defer cancel()
		var mw metrics.Writer
		writeMetrics(ctx, &mw, srv)
		w.Header().Set("Content-Type", metrics.ContentType)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(mw.Bytes())
	})
}

func writeMetrics(ctx context.Context, w *metrics.Writer, srv *core.Server) {
	w.Family("ser_build_info", metrics.Gauge, "The server's version.")
	w.Sample("ser_build_info", 1, "version", core.Version)
	writeSIP(w, srv)
	client := sercmd.Client{Exec: rpc.NewLocal(srv.RPC())}
	writeTM(ctx, w, &client)
	writeSL(ctx, w, &client)
	writeUsrloc(ctx, w, &client)
	writeCommands(w, srv.RPC().Stats())
	writeDatabases(w, srv.Databases())
	metrics.WriteRuntime(w, srv.StartTime())
}

// byMethod writes a family counted by method and transport.
func byMethod(w *metrics.Writer, name, help string, c *counter.ByMethod) {
	w.Family(name, metrics.Counter, help)
	c.Each(func(method, proto string, v uint64) {
		w.Sample(name, float64(v), "method", method, "transport", proto)
	})
}

// byClass writes a family counted by reply class and transport.
func byClass(w *metrics.Writer, name, help string, c *counter.ByClass) {
	w.Family(name, metrics.Counter, help)
	c.Each(func(class, proto string, v uint64) {
		w.Sample(name, float64(v), "class", class, "transport", proto)
	})
}

func writeSIP(w *metrics.Writer, srv *core.Server) {
	st := &srv.Stats
	byMethod(w, "ser_sip_requests_received_total", "SIP requests received and parsed, by method and transport.", &st.Requests)
	byClass(w, "ser_sip_replies_received_total", "SIP replies received and parsed, by class and transport.", &st.Replies)
	byMethod(w, "ser_sip_messages_malformed_total", "Messages the parser refused (a request is answered 400 when it can be), by method (\"reply\" for replies, \"other\" when unknown) and transport.", &st.Malformed)
	byMethod(w, "ser_sip_messages_dropped_total", "Messages dropped without an answer (malformed and unanswerable, or their processing failed), by method and transport.", &st.Dropped)
	byMethod(w, "ser_sip_requests_forwarded_total", "Requests forwarded statelessly (forward, forward_tcp, …), by method and outgoing transport.", &st.FwdRequests)
	byClass(w, "ser_sip_replies_forwarded_total", "Replies relayed statelessly along their Via, by class and outgoing transport.", &st.FwdReplies)
	w.Single("ser_sip_replies_not_ours_total", metrics.Counter, "Replies dropped because their top Via is not ours or nothing is left to relay them to.", float64(st.BadReplies.Load()))
	w.Single("ser_cfg_reloads_total", metrics.Counter, "Configuration reloads installed (cfg_reload, SIGHUP).", float64(st.Reloads.Load()))
	w.Single("ser_sip_processing_panics_total", metrics.Counter, "Messages whose processing panicked (a bug; each is logged).", float64(st.Panics.Load()))
	tr := srv.Transport()
	if tr == nil {
		return
	}
	ts := &tr.Stats
	byMethod(w, "ser_sip_requests_sent_total", "SIP requests sent (relayed statefully or statelessly, generated, retransmitted), by method and transport.", &ts.SentRequests)
	byClass(w, "ser_sip_replies_sent_total", "SIP replies sent (local, relayed, retransmitted), by class and transport.", &ts.SentReplies)
	w.Single("ser_sip_send_errors_total", metrics.Counter, "Messages the transport failed to send.", float64(ts.SendErr.Load()))
	w.Single("ser_sip_oversized_total", metrics.Counter, "Received messages over the size limit, dropped.", float64(ts.Oversized.Load()))
	w.Single("ser_tcp_connections", metrics.Gauge, "Open TCP connections (accepted and opened by ser).", float64(tr.ConnCount()))
	w.Single("ser_tcp_connections_accepted_total", metrics.Counter, "Incoming TCP connections accepted.", float64(ts.TCPAccepted.Load()))
	w.Single("ser_tcp_connections_refused_total", metrics.Counter, "Incoming TCP connections reset at once by tcp_max_connections or tcp_accept_iplimit.", float64(ts.TCPRefused.Load()))
	w.Single("ser_tcp_timeouts_total", metrics.Counter, "TCP connections closed by tcp_msg_data_timeout or tcp_msg_read_timeout.", float64(ts.TCPTimeouts.Load()))
	w.Single("ser_tcp_bad_framing_total", metrics.Counter, "TCP messages with a missing, repeated or oversized Content-Length (answered 400, connection closed).", float64(ts.BadFraming.Load()))
	w.Single("ser_tcp_dropped_total", metrics.Counter, "Messages the asynchronous TCP sender dropped (queue full, peer unreachable too long).", float64(ts.TCPDropped.Load()))
	w.Single("ser_tcp_queued_messages", metrics.Gauge, "Messages waiting for a connection to their peer.", float64(tr.QueuedTotal()))
}

// writeTM writes tm's t_stats figures (nothing when tm is not loaded).
func writeTM(ctx context.Context, w *metrics.Writer, c *sercmd.Client) {
	ts, err := c.TStats(ctx)
	if err != nil {
		return
	}
	w.Single("ser_tm_transactions", metrics.Gauge, "Transactions in the table now (tm's t_stats current).", float64(ts.Current))
	w.Single("ser_tm_transactions_waiting", metrics.Gauge, "Completed transactions on the wait timer.", float64(ts.Waiting))
	w.Single("ser_tm_transactions_total", metrics.Counter, "Transactions created.", float64(ts.Total))
	w.Single("ser_tm_transactions_local_total", metrics.Counter, "Transactions created by ser itself (UAC: t_uac_dlg, probes).", float64(ts.Local))
	w.Single("ser_tm_replied_locally_total", metrics.Counter, "Transactions answered by ser itself (t_reply, local 408 and 487).", float64(ts.RepliedLocally))
	w.Single("ser_tm_timeouts_total", metrics.Counter, "Branches whose final response timer (fr_timer, fr_inv_timer) fired.", float64(ts.Timeouts))
	w.Single("ser_tm_refused_total", metrics.Counter, "New transactions refused because max_transactions were live.", float64(ts.Refused))
	w.Family("ser_tm_transactions_completed_total", metrics.Counter, "Transactions completed, by the class of their final reply.")
	for i, n := range ts.Completed {
		w.Sample("ser_tm_transactions_completed_total", float64(n), "class", counter.Classes[i+2])
	}
}

// writeSL writes sl's sl_stats counters (nothing without sl).
func writeSL(ctx context.Context, w *metrics.Writer, c *sercmd.Client) {
	sl, err := c.SLStats(ctx)
	if err != nil {
		return
	}
	w.Family("ser_sl_replies_total", metrics.Counter, "Stateless replies sent by sl, by sl_stats' code slot (a code without a slot of its own counts in its class, \"xxx\" out of range).")
	var failures uint64
	for _, cn := range sl.Counters() {
		if cn.Name == "failures" {
			failures = cn.Value
			continue
		}
		w.Sample("ser_sl_replies_total", float64(cn.Value), "code", cn.Name)
	}
	w.Single("ser_sl_failures_total", metrics.Counter, "Stateless replies sl failed to send.", float64(failures))
}

// writeUsrloc writes ul_stats per table (nothing without usrloc).
func writeUsrloc(ctx context.Context, w *metrics.Writer, c *sercmd.Client) {
	ul, err := c.ULStats(ctx)
	if err != nil {
		return
	}
	w.Family("ser_usrloc_contacts", metrics.Gauge, "Registered contacts per usrloc table (expired ones the timer has not removed yet included).")
	for _, t := range ul {
		w.Sample("ser_usrloc_contacts", float64(t.Contacts), "table", t.Table)
	}
	w.Family("ser_usrloc_aors", metrics.Gauge, "Addresses of record with contacts per usrloc table.")
	for _, t := range ul {
		w.Sample("ser_usrloc_aors", float64(t.Registered), "table", t.Table)
	}
	w.Family("ser_usrloc_expired_total", metrics.Counter, "Contacts the expiry timer removed, per usrloc table.")
	for _, t := range ul {
		w.Sample("ser_usrloc_expired_total", float64(t.Expired), "table", t.Table)
	}
}

func writeCommands(w *metrics.Writer, st *rpc.CommandStats) {
	w.Family("ser_commands_total", metrics.Counter, "Management commands run, by interface (fifo, unixsock, xmlrpc, jsonrpc, web, local) and outcome (the reply's status class).")
	st.Each(func(iface, outcome string, n uint64) {
		w.Sample("ser_commands_total", float64(n), "interface", iface, "outcome", outcome)
	})
}

func writeDatabases(w *metrics.Writer, dbs []core.Database) {
	if len(dbs) == 0 {
		return
	}
	w.Family("ser_db_query_duration_seconds", metrics.Histogram, "Time of each database statement until the driver answered (the first rows of a query), commits and transaction starts included, per database.")
	bounds := store.LatencyBuckets[:]
	for _, db := range dbs {
		st := db.Store.Stats()
		counts := make([]uint64, len(st.Buckets))
		for i := range st.Buckets {
			counts[i] = st.Buckets[i].Load()
		}
		w.HistogramSamples("ser_db_query_duration_seconds", bounds, counts, float64(st.SumNanos.Load())/1e9, "db", db.Name)
	}
	w.Family("ser_db_errors_total", metrics.Counter, "Database statements, transactions and connection attempts that failed, per database.")
	for _, db := range dbs {
		w.Sample("ser_db_errors_total", float64(db.Store.Stats().Errors.Load()), "db", db.Name)
	}
}
