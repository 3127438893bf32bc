package xmlrpc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"ser/core/rpc"
)

// Executor runs FIFO commands for the bridge: in the ser process over the
// command registry (NewLocal), or stand-alone over a FIFO or unix-socket
// client (NewRemote).
type Executor interface {
	// Execute runs one command with its parameter lines. The reply is the
	// command's answer, whatever its status; an error means the command
	// could not be run at all (server unavailable, transport timeout).
	Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error)
	// Commands lists the commands the server knows, for system.listMethods,
	// system.methodHelp, system.methodSignature and per-command methods.
	Commands(ctx context.Context) ([]CommandInfo, error)
}

// CommandInfo describes one FIFO command.
type CommandInfo struct {
	Name string
	// Params names the parameter lines in order; a "[x]" entry is
	// optional. Nil when unknown (a remote server only tells names).
	Params []string
	Help   string
}

// NewLocal returns an Executor over the in-process command registry: each
// call is reg.Execute with FIFO framing (rpc.Lines) and FIFO wording
// (rpc.FIFO), exactly what the FIFO server runs for the same request.
func NewLocal(reg *rpc.Registry) Executor { return &local{reg: reg} }

type local struct{ reg *rpc.Registry }

func (l *local) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	return l.reg.Execute(ctx, cmd, rpc.Lines(params), rpc.FIFO), nil
}

func (l *local) Commands(context.Context) ([]CommandInfo, error) {
	cmds := l.reg.Sorted()
	out := make([]CommandInfo, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, CommandInfo{Name: c.Name, Params: slices.Clone(c.Params), Help: c.Help})
	}
	return out, nil
}

// ExecFunc runs one command over a transport (e.g. fifo.Client.Execute).
type ExecFunc func(ctx context.Context, cmd string, params []string) (*rpc.Reply, error)

// CommandsFunc lists a server's commands.
type CommandsFunc func(ctx context.Context) ([]CommandInfo, error)

// commandsTTL is how long NewRemote caches the command list.
const commandsTTL = 10 * time.Second

// NewRemote returns an Executor over a client of a running server. exec
// runs commands; commands lists them — when nil, the list is read from the
// server's "which" command (names only). The list is cached for 10 s so a
// per-command method call does not cost a second round trip.
func NewRemote(exec ExecFunc, commands CommandsFunc) Executor {
	r := &remote{exec: exec, commands: commands}
	if r.commands == nil {
		r.commands = r.which
	}
	return r
}

type remote struct {
	exec     ExecFunc
	commands CommandsFunc

	mu      sync.Mutex
	cached  []CommandInfo
	fetched time.Time
}

func (r *remote) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	return r.exec(ctx, cmd, params)
}

func (r *remote) Commands(ctx context.Context) ([]CommandInfo, error) {
	r.mu.Lock()
	if r.cached != nil && time.Since(r.fetched) < commandsTTL {
		c := r.cached
		r.mu.Unlock()
		return c, nil
	}
	r.mu.Unlock()
	cmds, err := r.commands(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cached, r.fetched = cmds, time.Now()
	r.mu.Unlock()
	return cmds, nil
}

// which lists commands with the server's "which" command.
func (r *remote) which(ctx context.Context) ([]CommandInfo, error) {
	rep, err := r.exec(ctx, "which", nil)
	if err != nil {
		return nil, err
	}
	if rep.Code >= 300 {
		return nil, fmt.Errorf("xmlrpc: which: %d %s", rep.Code, rep.Reason())
	}
	var names []string
	for _, l := range rep.Lines() {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]CommandInfo, len(names))
	for i, n := range names {
		out[i] = CommandInfo{Name: n}
	}
	return out, nil
}
