package web

import (
	"context"

	"ser/core/rpc"
)

// Executor runs one FIFO command with its parameter lines and returns the
// command's reply whatever its status; an error means the command could
// not be run at all (server unavailable, timeout). *fifo.Client and
// *fifo.UnixClient implement it, as do the XML-RPC bridge's executors.
type Executor interface {
	Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error)
}

// NewLocal returns an Executor over the in-process command registry: each
// call is reg.Execute with FIFO framing (rpc.Lines) and FIFO wording
// (rpc.FIFO), exactly what the FIFO server runs for the same request.
func NewLocal(reg *rpc.Registry) Executor { return local{reg} }

type local struct{ reg *rpc.Registry }

func (l local) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	return l.reg.Execute(ctx, cmd, rpc.Lines(params), rpc.FIFO), nil
}
