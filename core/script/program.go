package script

import (
	"log/slog"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// MaxDepth bounds nested route(n) calls; a script that goes deeper is
// stopped with an error in the log.
const MaxDepth = 100

// MaxRoute is the highest route block number.
const MaxRoute = 1023

// ctl tells the caller of a statement how to go on.
type ctl uint8

const (
	ctlNext  ctl = iota // go on with the next statement
	ctlLeave            // break or return: leave the current route block
	ctlStop             // drop, return(0) or an action returning 0: end the script
)

// stmtFn runs a compiled statement. It returns the statement's value and
// how to go on. depth is the number of route(n) calls in progress.
type stmtFn func(m *sipmsg.Msg, depth int) (int, ctl)

// condFn evaluates a compiled condition: >0 true, <0 false, 0 stop the
// script (an action in the condition returned 0).
type condFn func(m *sipmsg.Msg, depth int) int

// route is a compiled route block.
type route struct {
	kind  module.Route
	n     int
	block *cfg.RouteBlock
	body  stmtFn
	// ctx are the block kinds the block runs in: its own kind, and for
	// route[n] the kinds of the blocks that call it with route(n).
	ctx module.Route
	// from names, for route[n] run from other block kinds, a caller of
	// each such kind (for error messages).
	from map[module.Route]string
}

// Program is a compiled routing script.
type Program struct {
	tables [3][]*route // Request, Failure, OnReply; indexed by number
	log    *slog.Logger
}

// kindIndex maps a block kind to its table.
func kindIndex(kind module.Route) int {
	switch kind {
	case module.Request:
		return 0
	case module.Failure:
		return 1
	case module.OnReply:
		return 2
	}
	return -1
}

// lookup returns the block kind[n] or nil.
func (p *Program) lookup(kind module.Route, n int) *route {
	if p == nil {
		return nil
	}
	i := kindIndex(kind)
	if i < 0 || n < 0 || n >= len(p.tables[i]) {
		return nil
	}
	return p.tables[i][n]
}

// HasRoute reports whether the script defines the block: kind Request is
// route[n], Failure failure_route[n] (reply_route[n]), OnReply
// onreply_route[n].
func (p *Program) HasRoute(kind module.Route, n int) bool { return p.lookup(kind, n) != nil }

// Run runs route[n], failure_route[n] or onreply_route[n] for m and
// returns the block's value: the value of the last statement executed, the
// n of return(n), 1 after break, 0 when the script was stopped (drop —
// m.Dropped is then set —, return(0), an action returning 0). A block the
// script does not define returns 1 and does nothing.
func (p *Program) Run(kind module.Route, n int, m *sipmsg.Msg) int {
	r := p.lookup(kind, n)
	if r == nil {
		return 1
	}
	v, _ := r.body(m, 0)
	return v
}

// runRoute is the statement route(n): it runs r and continues in the
// caller unless r stopped the script.
func (p *Program) runRoute(r *route, pos cfg.Pos) stmtFn {
	return func(m *sipmsg.Msg, depth int) (int, ctl) {
		if depth >= MaxDepth {
			p.log.ErrorContext(module.MsgCtx(m), "route(n) nested too deep, script stopped", "route", r.n, "depth", depth, "pos", pos.String())
			return 0, ctlStop
		}
		v, c := r.body(m, depth+1)
		if c == ctlStop {
			return v, ctlStop
		}
		return v, ctlNext
	}
}

// scriptCore is the module.Core that module fixups see: HasRoute answers
// from the script being compiled (the server does not know it yet) and
// RunRoute runs its blocks.
type scriptCore struct {
	module.Core
	prog *Program
}

// HasRoute reports whether the compiled script has the block.
func (c scriptCore) HasRoute(kind module.Route, n int) bool { return c.prog.HasRoute(kind, n) }

// RunRoute runs a block of the compiled script.
func (c scriptCore) RunRoute(kind module.Route, n int, m *sipmsg.Msg) int {
	return c.prog.Run(kind, n, m)
}
