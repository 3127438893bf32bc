package sl

import (
	"context"
	"sync/atomic"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
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

// Stats is a snapshot of the sl_stats counters, sl_stats' result (its
// text is SER 0.9's sl_stats.c print_sl_stats output). The 2xx..5xx
// fields count the codes of their class that have no field of their own;
// Rxxx counts 1xx replies.
type Stats = sercmd.SLStats

// Stats returns the current counters.
func (m *Module) Stats() Stats {
	var v [rtEnd]uint64
	for i := range v {
		v[i] = uint64(m.stats.err[i].Load())
	}
	return Stats{
		R200: v[rt200], R202: v[rt202], R2xx: v[rt2xx],
		R300: v[rt300], R301: v[rt301], R302: v[rt302], R3xx: v[rt3xx],
		R400: v[rt400], R401: v[rt401], R403: v[rt403], R404: v[rt404],
		R407: v[rt407], R408: v[rt408], R483: v[rt483], R4xx: v[rt4xx],
		R500: v[rt500], R5xx: v[rt5xx], R6xx: v[rt6xx], Rxxx: v[rtxxx],
		Failures: uint64(m.stats.failures.Load()),
	}
}

// commands is sl_stats (Exports.Commands).
func (m *Module) commands() []rpc.Command {
	return []rpc.Command{{
		Name: "sl_stats",
		Help: "Print stateless reply statistics.",
		Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			return rpc.Typed(req.OK(), m.Stats())
		},
	}}
}
