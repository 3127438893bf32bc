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

// The bridge runs commands through an rpc.Executor: in the ser process
// rpc.NewLocal over the command registry, stand-alone a FIFO or
// unix-socket client (fifo.Client, fifo.UnixClient). It lists the commands
// (system.listMethods, system.methodHelp, system.methodSignature and the
// per-command methods) with the executor's own list when it has one
// (rpc.Lister: names, parameters, help), else with the server's "which"
// command (names only), cached for commandsTTL.

// commandsTTL is how long a list read with "which" is cached, so that a
// per-command method call does not cost a second round trip.
const commandsTTL = 10 * time.Second

// lister returns the command list source for exec.
func lister(exec rpc.Executor) rpc.Lister {
	if l, ok := exec.(rpc.Lister); ok {
		return l
	}
	return &whichLister{exec: exec}
}

// whichLister lists a remote server's commands with "which".
type whichLister struct {
	exec rpc.Executor

	mu      sync.Mutex
	cached  []rpc.CommandInfo
	fetched time.Time
}

func (w *whichLister) Commands(ctx context.Context) ([]rpc.CommandInfo, error) {
	w.mu.Lock()
	if w.cached != nil && time.Since(w.fetched) < commandsTTL {
		c := w.cached
		w.mu.Unlock()
		return c, nil
	}
	w.mu.Unlock()
	cmds, err := w.which(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.cached, w.fetched = cmds, time.Now()
	w.mu.Unlock()
	return cmds, nil
}

// which lists commands with the server's "which" command.
func (w *whichLister) which(ctx context.Context) ([]rpc.CommandInfo, error) {
	rep, err := w.exec.Execute(ctx, "which", nil)
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
	out := make([]rpc.CommandInfo, len(names))
	for i, n := range names {
		out[i] = rpc.CommandInfo{Name: n}
	}
	return out, nil
}
