// Package pike is SER's pike module: flood detection per source address.
// pike_check_req() counts the requests of each source IP per sampling
// unit in SER's IP tree and returns false for an address that sent more
// than reqs_density_per_unit of them, so the script can drop its requests;
// an address is forgotten remove_latency seconds after its last request.
package pike

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

func positive(name string, set func(p *Pike, n int)) func(any, module.Value) error {
	return module.IntParam(func(p *Pike, n int) error {
		if n <= 0 {
			return fmt.Errorf("%s must be positive", name)
		}
		set(p, n)
		return nil
	})
}

// Exports is the pike module's export table.
var Exports = &module.Exports{
	Name: "pike",
	Params: []module.Param{
		{Name: "sampling_time_unit", Kind: module.Int, Set: positive("sampling_time_unit", func(p *Pike, n int) { p.unit = n })},
		{Name: "reqs_density_per_unit", Kind: module.Int, Set: positive("reqs_density_per_unit", func(p *Pike, n int) { p.density = n })},
		{Name: "remove_latency", Kind: module.Int, Set: positive("remove_latency", func(p *Pike, n int) { p.latency = n })},
		{Name: "max_nodes", Kind: module.Int, Set: positive("max_nodes", func(p *Pike, n int) { p.maxNodes = n })},
	},
	Funcs: []module.Func{
		{Name: "pike_check_req", Routes: module.Request, Fixup: module.FixupOf(func(p *Pike, _ *module.Env, _ []module.Value) (module.Handler, error) {
			return p.checkReq, nil
		})},
	},
	New: func() any {
		return &Pike{unit: 2, density: 30, latency: 120, maxNodes: DefaultMaxNodes, log: slog.Default()}
	},
	Init:     module.InitOf(initPike),
	Commands: module.CommandsOf((*Pike).commands),
	Start:    module.StartOf((*Pike).Start),
	Stop:     module.StopOf((*Pike).Stop),
}

// DefaultMaxNodes bounds the IP tree (about 100 bytes a node).
const DefaultMaxNodes = 100000

// Pike is one server's pike instance.
type Pike struct {
	unit, density, latency, maxNodes int

	mu    sync.Mutex
	tree  *tree
	ticks int64
	timer module.Periodic
	log   *slog.Logger
}

func initPike(p *Pike, env *module.Env) error {
	if env.Log != nil {
		p.log = env.Log
	}
	p.tree = newTree(p.density, p.latency, p.maxNodes)
	return nil
}

// Check counts a request from ip and reports whether it may pass: false
// once the address exceeded the limit.
func (p *Pike) Check(ip []byte) bool {
	p.mu.Lock()
	wasFull := p.tree.full
	red, ok := p.tree.check(ip, p.ticks)
	full := p.tree.full
	p.mu.Unlock()
	if !wasFull && full {
		p.log.Warn("pike: the IP tree reached max_nodes; the least recently hit addresses are forgotten to make room", "max_nodes", p.maxNodes)
	}
	if !ok {
		return true // no room even after evicting: not counted
	}
	return !red
}

func (p *Pike) checkReq(m *sipmsg.Msg) (int, error) {
	ip := m.Rcv.Src.Addr().Unmap()
	if !ip.IsValid() {
		return 1, nil
	}
	if p.Check(ip.AsSlice()) {
		return 1, nil
	}
	p.log.WarnContext(module.MsgCtx(m), "pike_check_req: ALARM - TOO MANY HITS on "+sipmsg.SERAddr(ip)+" !!")
	return -1, nil
}

// Tick advances pike's clock by one second: expired addresses are
// removed, and every sampling_time_unit seconds a new unit starts.
func (p *Pike) Tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ticks++
	p.tree.clean(p.ticks)
	if p.ticks%int64(p.unit) == 0 {
		p.tree.swap()
	}
}

// Start runs the clock.
func (p *Pike) Start(ctx context.Context) error {
	return p.timer.Start(ctx, time.Second, p.Tick)
}

// Stop stops the clock.
func (p *Pike) Stop() { p.timer.Stop() }

// Nodes returns the number of nodes in the IP tree.
func (p *Pike) Nodes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tree.nodes
}

// commands are SER 0.9's print_ip_tree and print_timer_list.
func (p *Pike) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "print_ip_tree", Help: "print pike's IP tree: a line per node, depth first, with its hits in the previous and current sampling unit", Handler: p.printed((*tree).print)},
		{Name: "print_timer_list", Help: "print pike's expiry list: the byte and expiry tick of each node", Handler: p.printed((*tree).printTimer)},
	}
}

// printed is a command that prints the tree under the lock.
func (p *Pike) printed(print func(*tree, io.Writer)) rpc.Handler {
	return func(context.Context, *rpc.Request) *rpc.Reply {
		var b strings.Builder
		p.mu.Lock()
		print(p.tree, &b)
		p.mu.Unlock()
		return rpc.NewReply(200, "OK", b.String())
	}
}
