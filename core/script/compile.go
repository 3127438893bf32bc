package script

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// compiler checks a script and turns it into closures.
type compiler struct {
	f       *cfg.File
	ms      *module.Modules
	core    module.Core
	newEnv  func(string) *module.Env
	prog    *Program
	errs    cfg.ErrorList
	regexes map[string]*regexp.Regexp
	envs    map[string]*module.Env
	log     *slog.Logger
	cur     *route // block being compiled
	// check: a config check (module.Env.Check) — host names are not
	// resolved (a failed lookup is only a warning anyway).
	check bool
}

// Compile checks the route blocks of f against the loaded modules and the
// built-in actions and compiles them. Every error is returned, with its
// position. Module functions are bound through their Fixup with the
// module's environment (from Modules.Init, or newEnv when the modules were
// not initialised); in it, Core.HasRoute answers from this script and
// Core.RunRoute runs its blocks.
func Compile(f *cfg.File, ms *module.Modules, core module.Core, newEnv func(name string) *module.Env) (*Program, cfg.ErrorList) {
	if ms == nil {
		ms = &module.Modules{}
	}
	c := &compiler{
		f: f, ms: ms, core: core, newEnv: newEnv,
		prog:    &Program{log: slog.Default().With("module", "script")},
		regexes: map[string]*regexp.Regexp{},
		envs:    map[string]*module.Env{},
	}
	if newEnv != nil {
		if env := newEnv("script"); env != nil {
			if env.Log != nil {
				c.prog.log = env.Log
			}
			c.check = env.Check
		}
	}
	c.log = c.prog.log
	c.collectRoutes()
	c.computeContexts()
	for _, tab := range c.prog.tables {
		for _, r := range tab {
			if r == nil {
				continue
			}
			c.cur = r
			r.body = c.block(r.block.Body)
		}
	}
	c.errs.Sort()
	return c.prog, c.errs
}

// routeKind maps a block kind of the syntax to a module.Route.
func routeKind(k cfg.RouteKind) module.Route {
	switch k {
	case cfg.FailureRoute:
		return module.Failure
	case cfg.OnReplyRoute:
		return module.OnReply
	}
	return module.Request
}

// kindName names one block kind.
func kindName(k module.Route) string { return k.String() }

// kindList names the block kinds in r: "route, failure_route".
func kindList(r module.Route) string { return strings.ReplaceAll(r.String(), "|", ", ") }

// collectRoutes fills the route tables. Duplicates were reported by the
// parser; the first definition wins.
func (c *compiler) collectRoutes() {
	for _, rb := range c.f.Routes {
		if rb.Body == nil {
			continue
		}
		kind := routeKind(rb.Kind)
		if rb.N < 0 || rb.N > MaxRoute {
			c.errs.Addf(rb.Pos, "%s: route number out of range 0..%d", rb.Name(), MaxRoute)
			continue
		}
		i := kindIndex(kind)
		tab := c.prog.tables[i]
		for len(tab) <= rb.N {
			tab = append(tab, nil)
		}
		if tab[rb.N] == nil {
			tab[rb.N] = &route{kind: kind, n: rb.N, block: rb, ctx: kind}
		}
		c.prog.tables[i] = tab
	}
}

// routeCalls returns the route(n) calls in a block.
func routeCalls(s cfg.Node, out *[]*cfg.Call) {
	switch s := s.(type) {
	case *cfg.Block:
		for _, x := range s.Stmts {
			routeCalls(x, out)
		}
	case *cfg.If:
		routeCalls(s.Cond, out)
		routeCalls(s.Then, out)
		if s.Else != nil {
			routeCalls(s.Else, out)
		}
	case *cfg.Not:
		routeCalls(s.X, out)
	case *cfg.StmtExpr:
		routeCalls(s.Stmt, out)
	case *cfg.Logic:
		routeCalls(s.X, out)
		routeCalls(s.Y, out)
	case *cfg.Call:
		if s.Name == "route" && len(s.Args) == 1 {
			*out = append(*out, s)
		}
	}
}

// computeContexts works out the block kinds each route[n] runs in: the
// kinds of the blocks calling it with route(n), transitively; route[0] and
// blocks nobody calls run as request routes.
func (c *compiler) computeContexts() {
	type edge struct {
		from *route
		to   int
		pos  cfg.Pos
	}
	var edges []edge
	called := map[int]bool{}
	for _, tab := range c.prog.tables {
		for _, r := range tab {
			if r == nil {
				continue
			}
			var calls []*cfg.Call
			routeCalls(r.block.Body, &calls)
			for _, call := range calls {
				if n, err := intArg(call.Args[0]); err == nil {
					edges = append(edges, edge{r, n, call.Pos})
					if r.kind != module.Request || r.n != n {
						called[n] = true
					}
				}
			}
		}
	}
	req := c.prog.tables[0]
	for _, r := range req {
		if r != nil {
			r.ctx = 0
			if r.n == 0 || !called[r.n] {
				r.ctx = module.Request
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			if e.to < 0 || e.to >= len(req) || req[e.to] == nil {
				continue
			}
			to := req[e.to]
			add := e.from.ctx &^ to.ctx
			if add == 0 {
				continue
			}
			to.ctx |= add
			for _, k := range []module.Route{module.Failure, module.OnReply} {
				if add&k != 0 {
					if to.from == nil {
						to.from = map[module.Route]string{}
					}
					to.from[k] = fmt.Sprintf("route(%d) at %s", e.to, e.pos)
				}
			}
			changed = true
		}
		if !changed {
			// Blocks only reachable from uncalled cycles run as request
			// routes.
			for _, r := range req {
				if r != nil && r.ctx == 0 {
					r.ctx = module.Request
					changed = true
				}
			}
		}
	}
}

// block compiles a statement list: its value is the value of the last
// statement executed.
func (c *compiler) block(b *cfg.Block) stmtFn {
	fns := make([]stmtFn, 0, len(b.Stmts))
	for _, s := range b.Stmts {
		if fn := c.stmt(s); fn != nil {
			fns = append(fns, fn)
		}
	}
	switch len(fns) {
	case 0:
		return func(*sipmsg.Msg, int) (int, ctl) { return 1, ctlNext }
	case 1:
		return fns[0]
	}
	return func(m *sipmsg.Msg, depth int) (int, ctl) {
		v := 1
		for _, fn := range fns {
			var next ctl
			if v, next = fn(m, depth); next != ctlNext {
				return v, next
			}
		}
		return v, ctlNext
	}
}

// stmt compiles one statement.
func (c *compiler) stmt(s cfg.Stmt) stmtFn {
	switch s := s.(type) {
	case *cfg.Block:
		return c.block(s)
	case *cfg.If:
		return c.ifStmt(s)
	case *cfg.Call:
		return c.callStmt(s)
	case *cfg.Break:
		return func(*sipmsg.Msg, int) (int, ctl) { return 1, ctlLeave }
	case *cfg.Drop:
		return func(m *sipmsg.Msg, _ int) (int, ctl) {
			m.Dropped = true
			return 0, ctlStop
		}
	case *cfg.Return:
		v := 1
		if s.HasValue {
			v = s.Value.N
		}
		if v == 0 {
			return func(*sipmsg.Msg, int) (int, ctl) { return 0, ctlStop }
		}
		return func(*sipmsg.Msg, int) (int, ctl) { return v, ctlLeave }
	}
	return nil
}

// ifStmt compiles if/else. An if whose condition is false and that has no
// else has the value 1.
func (c *compiler) ifStmt(s *cfg.If) stmtFn {
	cond := c.cond(s.Cond)
	then := c.stmt(s.Then)
	if then == nil {
		then = func(*sipmsg.Msg, int) (int, ctl) { return 1, ctlNext }
	}
	if s.Else == nil {
		return func(m *sipmsg.Msg, depth int) (int, ctl) {
			switch v := cond(m, depth); {
			case v > 0:
				return then(m, depth)
			case v == 0:
				return 0, ctlStop
			}
			return 1, ctlNext
		}
	}
	els := c.stmt(s.Else)
	if els == nil {
		els = func(*sipmsg.Msg, int) (int, ctl) { return 1, ctlNext }
	}
	return func(m *sipmsg.Msg, depth int) (int, ctl) {
		switch v := cond(m, depth); {
		case v > 0:
			return then(m, depth)
		case v == 0:
			return 0, ctlStop
		}
		return els(m, depth)
	}
}

// callee is a resolved action call.
type callee struct {
	h     module.Handler // module function or built-in action
	rt    stmtFn         // route(n)
	owner string         // module name, "core" for built-ins
	name  string
	pos   cfg.Pos
	log   *slog.Logger
}

// run calls the handler; an error is logged and counts as false.
func (ce *callee) run(m *sipmsg.Msg) int {
	v, err := ce.h(m)
	if err != nil {
		ce.log.ErrorContext(module.MsgCtx(m), "action failed", "func", ce.name, "pos", ce.pos.String(), "err", err)
		return -1
	}
	return v
}

// callStmt compiles an action call used as a statement.
func (c *compiler) callStmt(call *cfg.Call) stmtFn {
	ce := c.resolve(call)
	if ce == nil {
		return nil
	}
	if ce.rt != nil {
		return ce.rt
	}
	return func(m *sipmsg.Msg, _ int) (int, ctl) {
		if v := ce.run(m); v != 0 {
			return v, ctlNext
		}
		return 0, ctlStop
	}
}

// callCond compiles an action call used as a condition.
func (c *compiler) callCond(call *cfg.Call) condFn {
	ce := c.resolve(call)
	if ce == nil {
		return condFalse
	}
	if ce.rt != nil {
		rt := ce.rt
		return func(m *sipmsg.Msg, depth int) int {
			v, ctl := rt(m, depth)
			if ctl == ctlStop {
				return 0
			}
			return v
		}
	}
	return func(m *sipmsg.Msg, _ int) int { return ce.run(m) }
}

// resolve binds a call to a built-in action or a module function, checking
// arity and block kinds. It returns nil after reporting an error.
func (c *compiler) resolve(call *cfg.Call) *callee {
	switch call.Name {
	case "break", "drop", "return":
		c.errs.Addf(call.Pos, "'%s' cannot be used in a condition", call.Name)
		return nil
	}
	if b, ok := builtins[call.Name]; ok {
		if !c.checkArity(call, b.MinArgs, b.MaxArgs) || !c.checkRoutes(call, b.Routes) {
			return nil
		}
		ce := &callee{owner: "core", name: call.Name, pos: call.Pos, log: c.log}
		if call.Name == "route" {
			ce.rt = c.routeCall(call)
			if ce.rt == nil {
				return nil
			}
			return ce
		}
		h, err := b.Compile(c, call)
		if err != nil {
			c.errs.Addf(call.Pos, "%s: %v", call.Name, err)
			return nil
		}
		ce.h = h
		return ce
	}
	fn, found := c.ms.FindFunc(call.Name, len(call.Args))
	if fn == nil {
		c.errs.Addf(call.Pos, "unknown command '%s', missing loadmodule?", call.Name)
		return nil
	}
	if !c.checkArity(call, fn.MinArgs, fn.MaxArgs) || !c.checkRoutes(call, fn.Routes) {
		return nil
	}
	args := make([]module.Value, len(call.Args))
	for i, a := range call.Args {
		args[i] = moduleValue(a)
	}
	env := c.fixupEnv(found)
	h, err := fn.Fixup(found.Inst(), env, args)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, call.Name) {
			msg = call.Name + ": " + msg
		}
		c.errs.Add(call.Pos, msg)
		return nil
	}
	if h == nil {
		c.errs.Addf(call.Pos, "%s: module '%s' returned no handler", call.Name, found.Name())
		return nil
	}
	log := env.Log
	if log == nil {
		log = slog.Default().With("module", found.Name())
	}
	return &callee{h: h, owner: found.Name(), name: call.Name, pos: call.Pos, log: log}
}

// fixupEnv returns the environment a module's fixups get.
func (c *compiler) fixupEnv(l *module.Loaded) *module.Env {
	if env, ok := c.envs[l.Name()]; ok {
		return env
	}
	env := *c.ms.Env(l, c.newEnv, c.core)
	core := env.Core
	if core == nil {
		core = c.core
	}
	env.Core = scriptCore{Core: core, prog: c.prog}
	c.envs[l.Name()] = &env
	return &env
}

// moduleValue converts an argument for a module function.
func moduleValue(v cfg.Value) module.Value {
	switch v.Kind {
	case cfg.NumberValue, cfg.BoolValue:
		return module.Value{N: v.N, IsInt: true, S: strconv.Itoa(v.N)}
	case cfg.StringValue:
		return module.Value{S: v.Text, Quoted: true}
	}
	return module.Value{S: v.Text}
}

// checkArity reports a wrong number of arguments.
func (c *compiler) checkArity(call *cfg.Call, min, max int) bool {
	n := len(call.Args)
	if n >= min && n <= max {
		return true
	}
	var want string
	switch {
	case max == 0:
		want = "no arguments"
	case min == max && max == 1:
		want = "1 argument"
	case min == max:
		want = fmt.Sprintf("%d arguments", max)
	case max == min+1:
		want = fmt.Sprintf("%d or %d arguments", min, max)
	default:
		want = fmt.Sprintf("%d to %d arguments", min, max)
	}
	c.errs.Addf(call.Pos, "'%s' takes %s, %d given", call.Name, want, n)
	return false
}

// checkRoutes reports a function used in a block kind it does not allow.
func (c *compiler) checkRoutes(call *cfg.Call, allowed module.Route) bool {
	bad := c.cur.ctx &^ allowed
	if bad == 0 {
		return true
	}
	where := c.cur.block.Name()
	for _, k := range []module.Route{module.Request, module.Failure, module.OnReply} {
		if bad&k == 0 {
			continue
		}
		if k == c.cur.kind {
			c.errs.Addf(call.Pos, "command '%s' cannot be used in %s (allowed in: %s)", call.Name, kindName(k), kindList(allowed))
		} else {
			c.errs.Addf(call.Pos, "command '%s' cannot be used in %s: it runs in %s through %s (allowed in: %s)",
				call.Name, where, kindName(k), c.cur.from[k], kindList(allowed))
		}
	}
	return false
}

// routeCall compiles route(n).
func (c *compiler) routeCall(call *cfg.Call) stmtFn {
	a := call.Args[0]
	n, err := intArg(a)
	if err != nil {
		c.errs.Addf(a.Pos, "route: route number expected, found %s", a)
		return nil
	}
	r := c.prog.lookup(module.Request, n)
	if r == nil {
		c.errs.Addf(call.Pos, "route(%d): route[%d] is not defined", n, n)
		return nil
	}
	return c.prog.runRoute(r, call.Pos)
}

// intArg reads a number argument (a number or a quoted number).
func intArg(v cfg.Value) (int, error) {
	if v.IsNumber() {
		return v.N, nil
	}
	if v.Kind == cfg.StringValue {
		if n, err := strconv.Atoi(strings.TrimSpace(v.Text)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("number expected, found %s", v)
}

// condFalse is the condition of a call that failed to compile.
func condFalse(*sipmsg.Msg, int) int { return -1 }
