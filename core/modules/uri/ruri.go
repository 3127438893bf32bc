package uri

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

func fixupHasToTag(_ any, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return HasToTag(m), nil }, nil
}

// HasToTag is has_totag: 1 when the To header has a non-empty tag (the
// request is within a dialog), -1 otherwise.
func HasToTag(m *sipmsg.Msg) int {
	if !m.IsRequest() {
		return -1
	}
	to := m.Req.To()
	if to == nil || to.Params == nil {
		return -1
	}
	if tag, ok := to.Params.Get("tag"); ok && tag != "" {
		return 1
	}
	return -1
}

func fixupURIParam(_ any, _ *module.Env, args []module.Value) (module.Handler, error) {
	name := args[0].String()
	if name == "" {
		return nil, errors.New("uri_param: empty parameter name")
	}
	if len(args) == 1 {
		return func(m *sipmsg.Msg) (int, error) { return URIParam(m, name, "", false), nil }, nil
	}
	value := args[1].String()
	return func(m *sipmsg.Msg) (int, error) { return URIParam(m, name, value, true), nil }, nil
}

// uriParts splits a SIP URI's text into what precedes its parameters
// (scheme, user, host, port), the parameters (without the leading ';')
// and the headers (without the '?'). The parameters start at the first
// ';' after the user part: a user part may itself hold ';'.
func uriParts(s string) (base, params, headers string) {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, headers = s[:i], s[i+1:]
	}
	from := strings.LastIndexByte(s, '@') + 1
	if i := strings.IndexByte(s[from:], ';'); i >= 0 {
		return s[:from+i], s[from+i+1:], headers
	}
	return s, "", headers
}

// URIParam is uri_param(name) and uri_param(name, value): 1 when the
// current Request-URI has the parameter name — with no value (one
// argument) or with exactly value (two) — and -1 otherwise. Names and
// values are compared exactly, as SER did.
func URIParam(m *sipmsg.Msg, name, value string, withValue bool) int {
	if !m.IsRequest() {
		return -1
	}
	_, params, _ := uriParts(m.URIString())
	if params == "" {
		return -1
	}
	for _, p := range strings.Split(params, ";") {
		n, v, _ := strings.Cut(p, "=")
		if strings.TrimSpace(n) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if withValue && v == value || !withValue && v == "" {
			return 1
		}
		return -1
	}
	return -1
}

func fixupAddURIParam(u *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	param := args[0].String()
	return func(m *sipmsg.Msg) (int, error) { return u.AddURIParam(m, param), nil }, nil
}

// AddURIParam is add_uri_param(param): it appends ";param" to the
// parameters of the current Request-URI (before its headers, if any) and
// returns 1; an empty param changes nothing (1). Like SER, it appends
// even when the URI already has a parameter of that name.
func (u *Module) AddURIParam(m *sipmsg.Msg, param string) int {
	if !m.IsRequest() {
		return -1
	}
	if param == "" {
		return 1
	}
	name, value, _ := strings.Cut(param, "=")
	ruri := m.URI()
	ruri.UriParams = append(ruri.UriParams.Clone(), sip.HeaderKV{K: name, V: value})
	m.URIChanged()
	return 1
}

func fixupTel2SIP(u *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return u.Tel2SIP(m), nil }, nil
}

// Tel2SIP is tel2sip: a tel: Request-URI becomes
// "sip:<number>@<From host>;user=phone" (the number as written, tel
// parameters included, as SER); 1 then and when the Request-URI is not a
// tel: URI (nothing to do); -1 when the From URI has no host or the result
// does not parse.
func (u *Module) Tel2SIP(m *sipmsg.Msg) int {
	if !m.IsRequest() {
		return -1
	}
	s := m.URIString()
	if !strings.HasPrefix(s, "tel:") {
		return 1
	}
	from := m.Req.From()
	if from == nil || from.Address.Host == "" {
		u.log.ErrorContext(module.MsgCtx(m), "uri: tel2sip: no From host")
		return -1
	}
	next := "sip:" + s[len("tel:"):] + "@" + from.Address.Host + ";user=phone"
	if err := m.SetURI(next); err != nil {
		u.log.ErrorContext(module.MsgCtx(m), "uri: tel2sip: new Request-URI does not parse", "uri", next, "err", err)
		return -1
	}
	return 1
}
