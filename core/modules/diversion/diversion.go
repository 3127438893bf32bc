// Package diversion is SER's diversion module: add_diversion(reason) puts
// a Diversion header (draft-levy-sip-diversion, later RFC 5806) with the
// Request-URI as received on the request, so that the next hop — typically
// a PSTN gateway — learns the original callee of a forwarded call.
package diversion

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

// Exports is the diversion module's export table.
var Exports = &module.Exports{
	Name: "diversion",
	Params: []module.Param{
		{Name: "suffix", Kind: module.Str, Set: module.SetOf(func(d *Diversion, v module.Value) error {
			if strings.ContainsAny(v.String(), "\r\n") {
				return fmt.Errorf("suffix spans lines")
			}
			d.suffix = v.String()
			return nil
		})},
	},
	Funcs: []module.Func{
		{Name: "add_diversion", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupAdd)},
	},
	New: func() any { return &Diversion{log: slog.Default()} },
	Init: module.InitOf(func(d *Diversion, env *module.Env) error {
		if env.Log != nil {
			d.log = env.Log
		}
		return nil
	}),
}

// Diversion is one server's diversion instance.
type Diversion struct {
	suffix string
	log    *slog.Logger
}

func fixupAdd(d *Diversion, _ *module.Env, args []module.Value) (module.Handler, error) {
	reason := args[0].String()
	if reason == "" || strings.ContainsAny(reason, "\r\n") {
		return nil, fmt.Errorf("add_diversion: bad reason %q", reason)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if err := d.Add(m, reason); err != nil {
			d.log.ErrorContext(module.MsgCtx(m), "add_diversion failed", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// Value returns the Diversion header value add_diversion writes for m:
// "<R-URI as received>;reason=REASON" and the suffix modparam.
func (d *Diversion) Value(m *sipmsg.Msg, reason string) string {
	return "<" + receivedURI(m) + ">;reason=" + reason + d.suffix
}

// Add puts the Diversion header on the request in m, in front of the
// Diversion headers it was received with (it becomes the topmost of
// those), else after its last header; several calls add headers in call
// order, as SER's lumps at one anchor did.
func (d *Diversion) Add(m *sipmsg.Msg, reason string) error {
	if m.Req == nil {
		return fmt.Errorf("not a request")
	}
	received := 0
	if len(m.Raw) > 0 {
		received = len(sipmsg.RawHeaders(m.Raw, "Diversion", 0))
	}
	insertBefore(m.Req, sip.NewHeader("Diversion", d.Value(m, reason)), "diversion", received)
	return nil
}

// receivedURI is the Request-URI of the start line as received (SER's
// first_line.u.request.uri), unaffected by rewrites.
func receivedURI(m *sipmsg.Msg) string {
	if len(m.Raw) > 0 {
		if f := strings.Fields(sipmsg.StartLine(m.Raw)); len(f) == 3 {
			return f[1]
		}
	}
	return m.OrigURI().String()
}

// insertBefore puts h in front of the last n headers called name (lower
// case); with n 0 or fewer such headers, at the end.
func insertBefore(req *sip.Request, h sip.Header, name string, n int) {
	all := append([]sip.Header(nil), req.Headers()...)
	var idx []int
	for i, x := range all {
		if strings.ToLower(x.Name()) == name {
			idx = append(idx, i)
		}
	}
	if n <= 0 || len(idx) < n {
		req.AppendHeader(h)
		return
	}
	at := idx[len(idx)-n]
	for _, x := range all {
		for req.RemoveHeader(x.Name()) {
		}
	}
	for i, x := range all {
		if i == at {
			req.AppendHeader(h)
		}
		req.AppendHeader(x)
	}
}
