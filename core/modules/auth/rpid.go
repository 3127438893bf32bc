package auth

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// SER 0.9 auth's Remote-Party-ID support: www_authorize/proxy_authorize
// read the authenticated subscriber's rpid column (auth_db's default
// avps_column_str "uuid|rpid"), append_rpid_hf puts it into the request
// and is_rpid_user_e164 tells whether it is an E.164 number.

// DefaultRPIDSuffix is rpid_suffix's default (SER 0.9's).
const DefaultRPIDSuffix = ";party=calling;id-type=subscriber;screen=yes"

// rpidColumn is the subscriber column of the Remote-Party-ID value.
const rpidColumn = "rpid"

// RPID returns the rpid column of the user authorized for m ("" when
// none or NULL).
func RPID(m *sipmsg.Msg) string {
	if st, ok := m.Get(stateKey).(*msgState); ok && st.cred != nil {
		return st.rpid
	}
	return ""
}

// stripRealm is SER's strip_realm: a realm taken from the request loses
// realm_prefix when it starts with it ("sip." of "sip.example.com").
func (a *Module) stripRealm(realm string) string {
	if p := a.cfg.RealmPrefix; p != "" && strings.HasPrefix(realm, p) {
		return realm[len(p):]
	}
	return realm
}

// wantRPID makes the authorize functions read the rpid column; after
// start-up (a reload) the tables are checked for it at once.
func (a *Module) wantRPID(fn string) error {
	if a.needRPID.Swap(true) {
		return nil
	}
	if err := a.recheck(fn); err != nil {
		a.needRPID.Store(false)
		return err
	}
	return nil
}

func fixupAppendRPID(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	if len(args) == 1 {
		return nil, errors.New("append_rpid_hf takes no arguments or two (prefix, suffix)")
	}
	if err := a.wantRPID("append_rpid_hf"); err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		prefix, suffix := a.cfg.RPIDPrefix, a.cfg.RPIDSuffix
		if len(args) == 2 {
			prefix, suffix = args[0].String(), args[1].String()
		}
		return AppendRPID(m, prefix, suffix), nil
	}, nil
}

// AppendRPID is append_rpid_hf(): it appends "Remote-Party-ID:
// <prefix><rpid><suffix>" to the request when the authorized user has an
// rpid, and returns 1 either way (nothing to append is not an error, as
// in SER).
func AppendRPID(m *sipmsg.Msg, prefix, suffix string) int {
	rpid := RPID(m)
	if rpid == "" || !m.IsRequest() {
		return 1
	}
	m.Req.AppendHeader(sip.NewHeader("Remote-Party-ID", prefix+rpid+suffix))
	return 1
}

func fixupIsRPIDE164(a *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	if err := a.wantRPID("is_rpid_user_e164"); err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) { return IsRPIDUserE164(RPID(m)), nil }, nil
}

// IsRPIDUserE164 is is_rpid_user_e164(): 1 when the user part of the rpid
// (a name-addr's URI, a sip: URI's user, or the value itself) is an E.164
// number — '+' and 2 to 15 digits — and -1 otherwise, also without an
// rpid. (SER's digit test never failed, so it took any "+…" of that
// length; here the digits are checked.)
func IsRPIDUserE164(rpid string) int {
	v := strings.TrimSpace(rpid)
	if v == "" {
		return -1
	}
	if i := indexNotQuoted(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return -1
		}
		v = v[i+1 : i+j]
	}
	if len(v) > 4 && strings.EqualFold(v[:4], "sip:") {
		var u sip.Uri
		if err := sip.ParseUri(v, &u); err != nil {
			return -1
		}
		v = u.User
	}
	if len(v) < 3 || len(v) > 16 || v[0] != '+' {
		return -1
	}
	for _, c := range v[1:] {
		if c < '0' || c > '9' {
			return -1
		}
	}
	return 1
}

// indexNotQuoted is the index of the first c outside double quotes, or -1.
func indexNotQuoted(s string, c byte) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == c && !quoted:
			return i
		}
	}
	return -1
}
