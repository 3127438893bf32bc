package uri

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/auth"
	"ser/core/sipmsg"
	"ser/core/store"
)

// credentials returns the credentials www_authorize/proxy_authorize
// accepted for m, logging SER's script error when there are none.
func (u *Module) credentials(m *sipmsg.Msg, fn string) *auth.Credentials {
	if !m.IsRequest() {
		return nil
	}
	c := auth.Authorized(m)
	if c == nil && !m.Req.IsAck() && !m.Req.IsCancel() {
		u.log.ErrorContext(module.MsgCtx(m), "uri: no authorized credentials found (error in script): call www_authorize or proxy_authorize first", "function", fn)
	}
	return c
}

// fixupCheck binds check_to (to) or check_from; v08 is SER 0.8's auth
// version, which never reads the uri table.
func fixupCheck(to, v08 bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(u *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
		useTable := !v08 && u.cfg.UseURITable
		fn := "check_from"
		if to {
			fn = "check_to"
		}
		if useTable {
			if err := u.need(fn, true); err != nil {
				return nil, err
			}
		}
		return func(m *sipmsg.Msg) (int, error) { return u.check(m, fn, to, useTable), nil }, nil
	})
}

// check is check_to/check_from: 1 when the user part of the To (From) URI
// belongs to the authorized digest user, -1 otherwise (also without
// authorized credentials, a script error, and when the URI has no user
// part).
//
// Without the uri table the URI's user part must equal the digest
// username's user part (before an '@'), compared case-insensitively. With
// use_uri_table the URI's host must equal the digest realm
// (case-insensitively) and the uri table must have a row (digest user,
// realm, URI user): a user may then use several URI users (aliases,
// numbers) besides the digest username.
func (u *Module) check(m *sipmsg.Msg, fn string, to, useTable bool) int {
	c := u.credentials(m, fn)
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
		u.log.ErrorContext(module.MsgCtx(m), "uri: username not found in URI", "function", fn)
		return -1
	}
	if !useTable {
		if strings.EqualFold(uri.User, c.User) {
			return 1
		}
		u.log.DebugContext(module.MsgCtx(m), "uri: digest username and URI username do not match", "function", fn, "username", c.User, "uri_user", uri.User)
		return -1
	}
	if !strings.EqualFold(uri.Host, c.Realm) {
		u.log.DebugContext(module.MsgCtx(m), "uri: digest realm and URI domain do not match", "function", fn, "realm", c.Realm, "host", uri.Host)
		return -1
	}
	cf := u.cfg
	if u.exists(fn, cf.URITable, store.Match{Column: cf.URIUserColumn, Value: c.User},
		store.Match{Column: cf.URIDomainColumn, Value: c.Realm}, store.Match{Column: cf.URIURIUserColumn, Value: uri.User}) {
		return 1
	}
	u.log.DebugContext(module.MsgCtx(m), "uri: From/To user is not one of the digest user's", "function", fn, "username", c.User, "uri_user", uri.User)
	return -1
}

// fixupIsUser binds is_user(user): SER 0.9 compares the digest
// username's user part (before an '@'), SER 0.8 (v08) the whole username;
// both exactly (case-sensitively).
func fixupIsUser(v08 bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(u *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
		user := args[0].String()
		if user == "" {
			return nil, errors.New("is_user: empty user name")
		}
		return func(m *sipmsg.Msg) (int, error) {
			c := u.credentials(m, "is_user")
			if c == nil {
				return -1, nil
			}
			have := c.User
			if v08 {
				have = c.Username
			}
			if have == "" || have != user {
				return -1, nil
			}
			return 1, nil
		}, nil
	})
}

func fixupDoesURIExist(u *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	if err := u.need("does_uri_exist", u.cfg.UseURITable); err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) { return u.DoesURIExist(m), nil }, nil
}

// DoesURIExist is does_uri_exist: 1 when the user of the current
// Request-URI exists — a subscriber (username, and domain = the URI's host
// with use_domain), or with use_uri_table a uri-table entry (uri_user,
// and domain with use_domain); -1 otherwise and on a database error
// (logged).
func (u *Module) DoesURIExist(m *sipmsg.Msg) int {
	if !m.IsRequest() {
		return -1
	}
	ruri := m.URI()
	cf := u.cfg
	table, match := cf.SubscriberTable, []store.Match{{Column: cf.SubscriberUserColumn, Value: ruri.User}}
	if cf.UseDomain {
		match = append(match, store.Match{Column: cf.SubscriberDomainColumn, Value: ruri.Host})
	}
	if cf.UseURITable {
		table, match = cf.URITable, []store.Match{{Column: cf.URIURIUserColumn, Value: ruri.User}}
		if cf.UseDomain {
			match = append(match, store.Match{Column: cf.URIDomainColumn, Value: ruri.Host})
		}
	}
	if u.exists("does_uri_exist", table, match...) {
		return 1
	}
	u.log.DebugContext(module.MsgCtx(m), "uri: user in request uri does not exist", "user", ruri.User, "host", ruri.Host)
	return -1
}
