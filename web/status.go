package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"ser/core/rpc/sercmd"
)

// statusRanges are the chart windows offered.
var statusRanges = []struct {
	Key string
	D   time.Duration
}{{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour}}

// statusData is the status page's content. Each *Err is set when that
// command failed (module not loaded, server down).
type statusData struct {
	Version, VersionErr string
	Uptime              sercmd.Uptime
	UptimeErr           string
	TM                  sercmd.TStats
	TMErr               string
	SL                  []sercmd.Counter // sl_stats in SER's order
	SLErr               string
	UL                  []sercmd.ULStat
	ULErr               string
	Charts              []chart
	Range               string
	Ranges              []string
	Every               string // "every minute"
	From, To            time.Time
}

// cmdErrText describes a failed command for the status page.
func cmdErrText(err error) string {
	switch {
	case sercmd.IsNotAvailable(err):
		return "not available (module not loaded)"
	case errors.Is(err, sercmd.ErrUnavailable):
		return "the SIP server did not answer: " + err.Error()
	}
	return err.Error()
}

// handleStatus shows the server status: version, uptime, transaction,
// stateless-reply and usrloc figures read now, and charts of the sampled
// history.
func (a *App) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	d := statusData{Range: "1h", Every: everyText(a.opts.SampleInterval)}
	var span time.Duration
	for _, rg := range statusRanges {
		d.Ranges = append(d.Ranges, rg.Key)
		if rg.Key == r.URL.Query().Get("range") {
			d.Range = rg.Key
		}
		if rg.Key == d.Range {
			span = rg.D
		}
	}
	var err error
	if d.Version, err = a.ser.Version(ctx); err != nil {
		d.VersionErr = cmdErrText(err)
	}
	if d.Uptime, err = a.ser.Uptime(ctx); err != nil {
		d.UptimeErr = cmdErrText(err)
	}
	if d.TM, err = a.ser.TStats(ctx); err != nil {
		d.TMErr = cmdErrText(err)
	}
	if sl, err := a.ser.SLStats(ctx); err != nil {
		d.SLErr = cmdErrText(err)
	} else {
		d.SL = sl.Counters()
	}
	if d.UL, err = a.ser.ULStats(ctx); err != nil {
		d.ULErr = cmdErrText(err)
	}
	to := a.now()
	from := chartWindow(a.stats.since(to.Add(-span)), to, span, a.opts.SampleInterval)
	d.From, d.To = from, to
	samples := a.stats.since(from)
	iv := a.opts.SampleInterval
	hasT := func(s sample) bool { return s.HasT }
	hasSL := func(s sample) bool { return s.HasSL }
	d.Charts = []chart{
		drawChart("Transactions in progress", countMeasure,
			gauge(samples, hasT, func(s sample) float64 { return float64(s.TM.Current) }), from, to, iv),
		drawChart("New transactions (per minute)", perMinMeasure,
			rate(samples, hasT, func(s sample) uint64 { return s.TM.Total }), from, to, iv),
		drawChart("Stateless replies (per minute)", perMinMeasure,
			rate(samples, hasSL, func(s sample) uint64 { return s.SLReplies }), from, to, iv),
		drawChart("Registered users ("+a.opts.LocationTable+")", countMeasure,
			gauge(samples, func(s sample) bool { return s.HasUL }, func(s sample) float64 { return float64(s.Registered) }),
			from, to, iv),
	}
	a.render(w, r, http.StatusOK, "admin_status", view{Title: "Server status", Section: "status", Data: d})
}

// chartWindow returns where the charts' time axis starts: the range's
// start, or — when the samples began later (the console started within
// the range) — one interval before the first sample, so fresh data fills
// the chart instead of hugging its right edge. The window is at least
// ten intervals long.
func chartWindow(samples []sample, to time.Time, span, interval time.Duration) time.Time {
	from := to.Add(-span)
	if len(samples) == 0 {
		return from
	}
	start := samples[0].T.Add(-interval)
	if min := to.Add(-10 * interval); start.After(min) {
		start = min
	}
	if start.After(from) {
		return start
	}
	return from
}
