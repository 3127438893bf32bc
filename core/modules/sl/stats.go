package sl

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"ser/core/rpc"
)

// Reply classes counted by sl_stats, in SER's order (sl_stats.h).
const (
	rt200 = iota
	rt202
	rt2xx
	rt300
	rt301
	rt302
	rt3xx
	rt400
	rt401
	rt403
	rt404
	rt407
	rt408
	rt483
	rt4xx
	rt500
	rt5xx
	rt6xx
	rtxxx
	rtEnd
)

// counters are the module's reply statistics.
type counters struct {
	err      [rtEnd]atomic.Int64
	failures atomic.Int64
}

// class maps a status code to its counter (update_sl_stats): the listed
// codes have their own, other codes count in their class; 1xx and codes
// outside 200..699 count as xxx.
func class(code int) int {
	switch {
	case code >= 700 || code < 200:
		return rtxxx
	case code >= 600:
		return rt6xx
	case code >= 500:
		if code == 500 {
			return rt500
		}
		return rt5xx
	case code >= 400:
		switch code {
		case 400:
			return rt400
		case 401:
			return rt401
		case 403:
			return rt403
		case 404:
			return rt404
		case 407:
			return rt407
		case 408:
			return rt408
		case 483:
			return rt483
		}
		return rt4xx
	case code >= 300:
		switch code {
		case 300:
			return rt300
		case 301:
			return rt301
		case 302:
			return rt302
		}
		return rt3xx
	}
	switch code {
	case 200:
		return rt200
	case 202:
		return rt202
	}
	return rt2xx
}

func (c *counters) count(code int) { c.err[class(code)].Add(1) }

func (c *counters) failure() { c.failures.Add(1) }

// Stats is a snapshot of the sl_stats counters. The 2xx..5xx fields count
// the codes of their class that have no field of their own; Rxxx counts
// 1xx replies.
type Stats struct {
	R200, R202, R2xx                               int64
	R300, R301, R302, R3xx                         int64
	R400, R401, R403, R404, R407, R408, R483, R4xx int64
	R500, R5xx, R6xx, Rxxx                         int64
	Failures                                       int64
}

// Stats returns the current counters.
func (m *Module) Stats() Stats {
	var v [rtEnd]int64
	for i := range v {
		v[i] = m.stats.err[i].Load()
	}
	return Stats{
		R200: v[rt200], R202: v[rt202], R2xx: v[rt2xx],
		R300: v[rt300], R301: v[rt301], R302: v[rt302], R3xx: v[rt3xx],
		R400: v[rt400], R401: v[rt401], R403: v[rt403], R404: v[rt404],
		R407: v[rt407], R408: v[rt408], R483: v[rt483], R4xx: v[rt4xx],
		R500: v[rt500], R5xx: v[rt5xx], R6xx: v[rt6xx], Rxxx: v[rtxxx],
		Failures: m.stats.failures.Load(),
	}
}

// cleanupEOL is SER's CLEANUP_EOL: six spaces and a newline.
const cleanupEOL = "      \n"

// Format prints the counters as the body of SER's sl_stats FIFO reply
// (sl_stats.c print_sl_stats).
func (s Stats) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "200: %d 202: %d 2xx: %d"+cleanupEOL, s.R200, s.R202, s.R2xx)
	fmt.Fprintf(&b, "300: %d 301: %d 302: %d 3xx: %d"+cleanupEOL, s.R300, s.R301, s.R302, s.R3xx)
	fmt.Fprintf(&b, "400: %d 401: %d 403: %d 404: %d 407: %d 408: %d 483: %d 4xx: %d"+cleanupEOL,
		s.R400, s.R401, s.R403, s.R404, s.R407, s.R408, s.R483, s.R4xx)
	fmt.Fprintf(&b, "500: %d 5xx: %d"+cleanupEOL, s.R500, s.R5xx)
	fmt.Fprintf(&b, "6xx: %d"+cleanupEOL, s.R6xx)
	fmt.Fprintf(&b, "xxx: %d"+cleanupEOL, s.Rxxx)
	fmt.Fprintf(&b, "failures: %d"+cleanupEOL, s.Failures)
	return b.String()
}

func (m *Module) registerRPC(r *rpc.Registry) error {
	return r.Register(rpc.Command{
		Name: "sl_stats",
		Help: "Print stateless reply statistics.",
		Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			return rpc.Raw(req.OK() + "\n" + m.Stats().Format())
		},
	})
}
