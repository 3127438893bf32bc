package auth

import (
	"fmt"
	"strings"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

func fixupChallenge(k kind) func(any, *module.Env, []module.Value) (module.Handler, error) {
	name := "www_challenge"
	if k == proxy {
		name = "proxy_challenge"
	}
	return module.FixupOf(func(a *Module, env *module.Env, args []module.Value) (module.Handler, error) {
		realm := args[0].String()
		q, err := args[1].Int()
		if err != nil {
			return nil, fmt.Errorf("%s: qop must be 0 or 1: %w", name, err)
		}
		qop := q != 0
		return func(m *sipmsg.Msg) (int, error) {
			return a.challenge(m, realm, qop, k), nil
		}, nil
	})
}

// Challenge runs www_challenge (proxy false: 401 with WWW-Authenticate)
// or proxy_challenge (proxy true: 407 with Proxy-Authenticate) for m. It
// returns 0 once the challenge is sent (SER's value: the script stops),
// -1 when it could not be sent. realm "" is taken from the request as
// Authorize does.
func (a *Module) Challenge(m *sipmsg.Msg, realm string, qop, proxyAuth bool) int {
	k := www
	if proxyAuth {
		k = proxy
	}
	return a.challenge(m, realm, qop, k)
}

func (a *Module) challenge(m *sipmsg.Msg, realm string, qop bool, k kind) int {
	if !m.IsRequest() || m.Req.IsAck() {
		return -1
	}
	if realm == "" {
		r, err := defaultRealm(m, k)
		if err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "auth: cannot take the realm from the request", "err", err)
			if a.reply(m, 400, "Bad Request", "") != nil {
				return -1
			}
			return 0
		}
		realm = a.stripRealm(r)
	}
	stale := false
	if st, ok := m.Get(stateKey).(*msgState); ok {
		stale = st.stale[k]
	}
	nonce := MakeNonce(a.secret, a.now().Add(time.Duration(a.cfg.NonceExpire)*time.Second))
	code, reason := k.code()
	if a.reply(m, code, reason, ChallengeHeader(k == proxy, realm, nonce, qop, stale)) != nil {
		return -1
	}
	return 0
}

// ChallengeHeader formats a challenge header line as SER's build_auth_hf:
//
//	WWW-Authenticate: Digest realm="r", nonce="n"[, qop="auth"][, stale=true], algorithm=MD5
//
// (Proxy-Authenticate when proxy is set).
func ChallengeHeader(proxyAuth bool, realm, nonce string, qop, stale bool) string {
	k := www
	if proxyAuth {
		k = proxy
	}
	var b strings.Builder
	b.WriteString(k.challengeHeader())
	b.WriteString(`: Digest realm="`)
	b.WriteString(quote(realm))
	b.WriteString(`", nonce="`)
	b.WriteString(nonce)
	b.WriteByte('"')
	if qop {
		b.WriteString(`, qop="auth"`)
	}
	if stale {
		b.WriteString(", stale=true")
	}
	b.WriteString(", algorithm=MD5")
	return b.String()
}

// quote escapes '"' and '\' for a quoted string.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return r.Replace(s)
}
