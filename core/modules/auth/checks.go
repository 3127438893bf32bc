package auth

import (
	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// authorized returns the accepted credentials of m, logging SER's script
// error when there are none.
func (a *Module) authorized(m *sipmsg.Msg, fn string) *Credentials {
	if !m.IsRequest() {
		return nil
	}
	c := Authorized(m)
	if c == nil && !m.Req.IsAck() && !m.Req.IsCancel() {
		a.log.ErrorContext(module.MsgCtx(m), "auth: no authorized credentials found (error in script): call www_authorize or proxy_authorize first", "function", fn)
	}
	return c
}

func fixupConsume(a *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return a.ConsumeCredentials(m), nil }, nil
}

// ConsumeCredentials is consume_credentials: it removes the Authorization
// or Proxy-Authorization header whose credentials were authorized, so that
// they are not relayed further. 1 when removed, -1 when no credentials
// were authorized.
func (a *Module) ConsumeCredentials(m *sipmsg.Msg) int {
	c := a.authorized(m, "consume_credentials")
	if c == nil || c.header == nil {
		return -1
	}
	if !removeHeader(m.Req, c.header) {
		return -1
	}
	c.header = nil
	return 1
}

// removeHeader removes the header instance h from req, keeping the order
// of the others (sipgo only removes the first header of a name).
func removeHeader(req *sip.Request, h sip.Header) bool {
	all := append([]sip.Header(nil), req.Headers()...)
	found := false
	for _, x := range all {
		if x == h {
			found = true
		}
	}
	if !found {
		return false
	}
	for _, x := range all {
		req.RemoveHeader(x.Name())
	}
	for _, x := range all {
		if x != h {
			req.AppendHeader(x)
		}
	}
	return true
}
