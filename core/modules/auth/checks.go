package auth

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

func fixupCheckURI(to bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return func(inst any, env *module.Env, args []module.Value) (module.Handler, error) {
		a := inst.(*Module)
		return func(m *sipmsg.Msg) (int, error) { return a.checkURI(m, to), nil }, nil
	}
}

// CheckTo is check_to (to true) or check_from: 1 when the user part of
// the To (From) URI equals the authorized digest username's user part,
// compared case-insensitively as SER did; -1 otherwise, and when no
// credentials were authorized (a script error, logged).
func (a *Module) CheckTo(m *sipmsg.Msg, to bool) int { return a.checkURI(m, to) }

func (a *Module) checkURI(m *sipmsg.Msg, to bool) int {
	c := a.authorized(m, "check_to/check_from")
	if c == nil {
		return -1
	}
	var uri *sip.Uri
	if to {
		if h := m.Req.To(); h != nil {
			uri = &h.Address
		}
	} else if h := m.Req.From(); h != nil {
		uri = &h.Address
	}
	if uri == nil || uri.User == "" {
		return -1
	}
	if strings.EqualFold(uri.User, c.User) {
		return 1
	}
	a.log.Debug("auth: digest username and URI username do not match", "username", c.User, "uri_user", uri.User)
	return -1
}

// authorized returns the accepted credentials of m, logging SER's script
// error when there are none.
func (a *Module) authorized(m *sipmsg.Msg, fn string) *Credentials {
	if !m.IsRequest() {
		return nil
	}
	c := Authorized(m)
	if c == nil && !m.Req.IsAck() && !m.Req.IsCancel() {
		a.log.Error("auth: no authorized credentials found (error in script): call www_authorize or proxy_authorize first", "function", fn)
	}
	return c
}

func fixupIsUser(inst any, env *module.Env, args []module.Value) (module.Handler, error) {
	a := inst.(*Module)
	user := args[0].String()
	if user == "" {
		return nil, errors.New("is_user: empty user name")
	}
	return func(m *sipmsg.Msg) (int, error) {
		c := a.authorized(m, "is_user")
		if c == nil || c.Username != user {
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupConsume(inst any, env *module.Env, args []module.Value) (module.Handler, error) {
	a := inst.(*Module)
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
