package auth

import (
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/internal/testing/modtest"
)

func TestChallengeHeader(t *testing.T) {
	n := "3d9385170000000043acbf6ba9c9741790e0c57adee73812"
	tests := []struct {
		name       string
		proxy      bool
		realm      string
		qop, stale bool
		want       string
	}{
		{name: "admin guide ngrep sample", realm: "iptel.org",
			want: `WWW-Authenticate: Digest realm="iptel.org", nonce="` + n + `", algorithm=MD5`},
		{name: "proxy with qop", proxy: true, realm: "gateway", qop: true,
			want: `Proxy-Authenticate: Digest realm="gateway", nonce="` + n + `", qop="auth", algorithm=MD5`},
		{name: "stale", realm: "r", qop: true, stale: true,
			want: `WWW-Authenticate: Digest realm="r", nonce="` + n + `", qop="auth", stale=true, algorithm=MD5`},
		{name: "quotes escaped", realm: `a"b\c`,
			want: `WWW-Authenticate: Digest realm="a\"b\\c", nonce="` + n + `", algorithm=MD5`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChallengeHeader(tc.proxy, tc.realm, n, tc.qop, tc.stale); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		name      string
		fn        string
		realm     string
		qop       any
		method    string
		noSL      bool
		code      int
		wantRealm string
		wantQop   bool
	}{
		{name: "www", fn: "www_challenge", realm: "iptel.org", qop: "0", method: "REGISTER", code: 401, wantRealm: "iptel.org"},
		{name: "www with qop", fn: "www_challenge", realm: "iptel.org", qop: 1, method: "REGISTER", code: 401, wantRealm: "iptel.org", wantQop: true},
		{name: "proxy", fn: "proxy_challenge", realm: "gateway", qop: "0", method: "INVITE", code: 407, wantRealm: "gateway"},
		{name: "proxy with qop", fn: "proxy_challenge", realm: "mydomain.com", qop: "1", method: "INVITE", code: 407, wantRealm: "mydomain.com", wantQop: true},
		{name: "www, REGISTER realm from To", fn: "www_challenge", realm: "", qop: 0, method: "REGISTER", code: 401, wantRealm: "example.com"},
		{name: "proxy realm from From", fn: "proxy_challenge", realm: "", qop: 0, method: "INVITE", code: 407, wantRealm: "example.com"},
		{name: "without sl", fn: "proxy_challenge", realm: "gateway", qop: 0, method: "INVITE", noSL: true, code: 407, wantRealm: "gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, tc.noSL)
			h := f.bind(tc.fn, tc.realm, tc.qop)
			m := req(t, tc.method)
			if r, err := h(m); r != 0 || err != nil {
				t.Fatalf("%s = %d, %v; want 0 (stop the script)", tc.fn, r, err)
			}
			code, realm, nonce, qop, stale := f.challengeOf()
			if code != tc.code || realm != tc.wantRealm || qop != tc.wantQop || stale {
				t.Errorf("challenge %d realm %q qop %v stale %v; want %d %q %v false", code, realm, qop, stale, tc.code, tc.wantRealm, tc.wantQop)
			}
			exp, err := CheckNonce([]byte(testSecret), nonce)
			if err != nil {
				t.Fatal(err)
			}
			if want := f.now.Add(DefaultNonceExpire * time.Second); !exp.Equal(want) {
				t.Errorf("nonce expires %v, want %v", exp, want)
			}
			resp := f.core.LastReply(t).Resp
			if to := resp.To(); to == nil {
				t.Fatal("no To")
			} else if tag, _ := to.Params.Get("tag"); strings.HasPrefix(tag, "fake-") != tc.noSL {
				t.Errorf("To-tag %q (sl loaded: %v)", tag, !tc.noSL)
			}
			if !tc.noSL {
				if st := f.sl.Stats(); st.R401+st.R407 == 0 {
					t.Error("sl did not count the challenge")
				}
			}
			if len(m.ReplyHeaders) != 0 {
				t.Errorf("challenge left in ReplyHeaders: %v", m.ReplyHeaders)
			}
		})
	}
}

func TestChallengeKeepsAppendToReply(t *testing.T) {
	f := newFixture(t, nil, false)
	m := req(t, "INVITE")
	m.ReplyHeaders = []string{"X-Reason: script"}
	f.bind("proxy_challenge", "r", 0)(m)
	b := string(f.core.LastReply(t).Bytes)
	if !strings.Contains(b, "X-Reason: script\r\n") || !strings.Contains(b, "Proxy-Authenticate: Digest") {
		t.Fatalf("reply lacks a header:\n%s", b)
	}
	if len(m.ReplyHeaders) != 1 {
		t.Errorf("ReplyHeaders = %v", m.ReplyHeaders)
	}
}

func TestChallengeStaleFlow(t *testing.T) {
	// A correct answer with an expired nonce gets a fresh challenge with
	// stale=true; the answer to that one is accepted.
	f := newFixture(t, map[string]any{"nonce_expire": 30}, false)
	auth := f.bind("proxy_authorize", "gateway", "subscriber")
	chal := f.bind("proxy_challenge", "gateway", 0)
	f.attach()
	m := req(t, "INVITE")
	if r, _ := auth(m); r != -1 {
		t.Fatalf("no credentials: %d", r)
	}
	chal(m)
	_, _, nonce, _, stale := f.challengeOf()
	if stale {
		t.Fatal("first challenge is stale")
	}
	f.now = f.now.Add(31 * time.Second)
	// The stored ha1 is computed with realm = domain: carol is in "gateway".
	if err := f.st.AddSubscriber(t.Context(), store.Subscriber{Username: "carol", Domain: "gateway", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	line := answer{Header: "Proxy-Authorization", Username: "carol", Realm: "gateway", Password: "pw", Nonce: nonce}.line()
	m = req(t, "INVITE", line)
	if r, _ := auth(m); r != -1 {
		t.Fatalf("expired nonce: %d", r)
	}
	chal(m)
	_, _, nonce2, _, stale := f.challengeOf()
	if !stale || nonce2 == nonce {
		t.Fatalf("second challenge stale=%v, new nonce %v", stale, nonce2 != nonce)
	}
	line = answer{Header: "Proxy-Authorization", Username: "carol", Realm: "gateway", Password: "pw", Nonce: nonce2}.line()
	if r, _ := auth(req(t, "INVITE", line)); r != 1 {
		t.Fatalf("fresh nonce: %d", r)
	}
}

func TestChallengeACK(t *testing.T) {
	f := newFixture(t, nil, false)
	m := modtest.Request{Method: "ACK"}.Msg(t)
	if r, _ := f.bind("www_challenge", "r", 0)(m); r != -1 {
		t.Fatalf("challenge of ACK = %d, want -1", r)
	}
	if len(f.core.Replies()) != 0 {
		t.Fatal("ACK answered")
	}
}
