package pa

import (
	"context"
	"strings"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// commands are pa's management commands (Exports.Commands): SER 0.9's
// pa_presence and ser's pa_status.
func (m *Module) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "pa_presence", Params: []string{"pdomain", "p_uri", "presence"}, Help: "set a presentity's state from outside SIP: presence online or offline (closed); none removes it", Handler: m.fifoPresence},
		{Name: "pa_status", Params: []string{"p_uri"}, Help: "print a presentity's presence: basic state (open/closed) and note", Handler: m.fifoStatus},
	}
}

// fifoPresence is pa_presence: pdomain, p_uri and "online"/"offline"
// ("open"/"closed" too, "none" clears it), answered "200 published" as in
// SER (whose command did not change the state; ser's sets it as
// SetExternalStatus does, in that domain).
func (m *Module) fifoPresence(_ context.Context, req *rpc.Request) *rpc.Reply {
	var v [3]string
	for i, what := range []string{"pdomain", "p_uri", "presence"} {
		l, ok := req.Params.Line()
		if !ok || strings.TrimSpace(l) == "" {
			return rpc.Errorf(400, "pa_presence: %s expected", what)
		}
		v[i] = strings.TrimSpace(l)
	}
	var b Basic
	switch strings.ToLower(v[2]) {
	case "online", "open":
		b = Open
	case "offline", "closed":
		b = Closed
	case "none":
	default:
		return rpc.Errorf(400, "pa_presence: presence must be online, offline or none")
	}
	uri := canonURI(v[1])
	if _, host := splitURI(uri); host == "" {
		return rpc.Errorf(400, "pa_presence: bad p_uri")
	}
	m.mu.Lock()
	d := m.domainLocked(v[0])
	p := d.presentityLocked(uri)
	if b == "" {
		p.ext = nil
	} else {
		p.ext = &publication{tupleID: "ext", basic: b, seq: m.now().UnixNano()}
	}
	m.changedLocked(d, p)
	d.dropIfIdleLocked(p)
	m.mu.Unlock()
	return rpc.NewReply(200, "published", "")
}

// fifoStatus is pa_status: "200 OK" then "basic note" (sercmd.Presence).
func (m *Module) fifoStatus(_ context.Context, req *rpc.Request) *rpc.Reply {
	l, ok := req.Params.Line()
	if !ok || strings.TrimSpace(l) == "" {
		return rpc.Errorf(400, "pa_status: p_uri expected")
	}
	b, note := m.Status("", l)
	return rpc.Typed(req.OK(), sercmd.Presence{Basic: string(b), Note: note})
}
