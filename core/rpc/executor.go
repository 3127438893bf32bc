package rpc

import (
	"context"
	"slices"
)

// Executor runs one management command with its parameter lines. It is
// the one client interface of the management plane: the in-process
// registry (NewLocal), the FIFO and unix-socket clients (package fifo)
// implement it, and the XML-RPC bridge, the web console and serctl take
// one. The reply is the command's answer whatever its status; an error
// means the command could not be run at all (server unavailable, transport
// timeout).
type Executor interface {
	Execute(ctx context.Context, cmd string, params []string) (*Reply, error)
}

// CommandInfo describes one command for listings (XML-RPC's
// system.listMethods, system.methodHelp, system.methodSignature).
type CommandInfo struct {
	Name string
	// Params names the parameter lines in order; a "[x]" entry is
	// optional. Nil when unknown (a remote server only tells names).
	Params []string
	Help   string
}

// Lister is implemented by executors that know the server's commands with
// their parameters and help (Local). Remote clients do not: a caller then
// lists the names with the "which" command.
type Lister interface {
	Commands(ctx context.Context) ([]CommandInfo, error)
}

// Local is the in-process Executor over a command registry: each call is
// reg.Execute with FIFO framing (Lines) and FIFO wording (FIFO), exactly
// what the FIFO server runs for the same request. Its replies carry the
// command's structured result (Reply.Value) as well as its text.
type Local struct {
	reg   *Registry
	iface int
}

// NewLocal returns the in-process Executor over reg.
func NewLocal(reg *Registry) *Local { return &Local{reg: reg, iface: ifaceLocal} }

// For returns an executor over the same registry whose calls count as
// coming through the named interface (one of Interfaces, e.g. "web"),
// unless their context says otherwise (WithInterface).
func (l *Local) For(iface string) *Local {
	c := *l
	if i, ok := WithInterface(context.Background(), iface).Value(ifaceKey{}).(int); ok {
		c.iface = i
	}
	return &c
}

// Execute runs cmd in process; it never fails. A call whose context has
// no interface mark (WithInterface) counts as "local" (or as For said).
func (l *Local) Execute(ctx context.Context, cmd string, params []string) (*Reply, error) {
	if _, ok := ctx.Value(ifaceKey{}).(int); !ok {
		ctx = context.WithValue(ctx, ifaceKey{}, l.iface)
	}
	return l.reg.Execute(ctx, cmd, Lines(params), FIFO), nil
}

// Commands lists the registered commands sorted by name.
func (l *Local) Commands(context.Context) ([]CommandInfo, error) {
	cmds := l.reg.Sorted()
	out := make([]CommandInfo, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, CommandInfo{Name: c.Name, Params: slices.Clone(c.Params), Help: c.Help})
	}
	return out, nil
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, cmd string, params []string) (*Reply, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, cmd string, params []string) (*Reply, error) {
	return f(ctx, cmd, params)
}
