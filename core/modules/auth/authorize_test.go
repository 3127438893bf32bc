package auth

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"ser/core/store"
	"ser/internal/testing/modtest"
)

func TestAuthorize(t *testing.T) {
	// ok answers for alice@example.com with the fixture's current nonce.
	ok := func(f *fixture) answer {
		return answer{Username: "alice", Realm: "example.com", Password: "secret", Nonce: f.nonce()}
	}
	tests := []struct {
		name   string
		params map[string]any
		fn     string // default www_authorize
		realm  string // function argument; default "example.com"
		method string // default INVITE
		body   string
		hdrs   func(f *fixture) []string
		setup  func(f *fixture)
		want   int
		reply  int    // reply the function sent itself (0: none)
		user   string // authorized username when want is 1
		stale  bool   // the following challenge says stale=true
	}{
		{name: "no credentials", want: -1},
		{name: "qop none", want: 1, user: "alice",
			hdrs: func(f *fixture) []string { return []string{ok(f).line()} }},
		{name: "qop auth", want: 1, user: "alice",
			hdrs: func(f *fixture) []string { x := ok(f); x.QOP = "auth"; return []string{x.line()} }},
		{name: "qop auth quoted, upper-case response", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.QOP = `"auth"`
				c := &Credentials{Username: "alice", Realm: "example.com", Nonce: x.Nonce, URI: "sip:bob@example.com",
					QOP: "auth", NC: "00000001", CNonce: "0a4f113b"}
				x.Response = strings.ToUpper(ExpectedResponse(HA1("alice", "example.com", "secret"), c, "INVITE", nil))
				return []string{x.line()}
			}},
		{name: "qop auth-int", method: "MESSAGE", body: "hello\n", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Method, x.QOP, x.Body = "MESSAGE", "auth-int", []byte("hello\r\n")
				return []string{x.line(), "Content-Type: text/plain"}
			}},
		{name: "md5-sess", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.QOP, x.Algorithm = "auth", "MD5-sess"
				return []string{x.line()}
			}},
		{name: "unsupported algorithm", want: -1,
			hdrs: func(f *fixture) []string { x := ok(f); x.Algorithm = "SHA-256"; return []string{x.line()} }},
		{name: "wrong password", want: -1,
			hdrs: func(f *fixture) []string { x := ok(f); x.Password = "guess"; return []string{x.line()} }},
		{name: "unknown user", want: -1,
			hdrs: func(f *fixture) []string { x := ok(f); x.Username = "mallory"; return []string{x.line()} }},
		{name: "other realm", want: -1,
			hdrs: func(f *fixture) []string { x := ok(f); x.Realm = "iptel.org"; return []string{x.line()} }},
		{name: "realm compared case-insensitively", realm: "EXAMPLE.com", want: 1, user: "alice",
			hdrs: func(f *fixture) []string { return []string{ok(f).line()} }},
		{name: "second header has the realm", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				y := x
				y.Realm = "iptel.org"
				return []string{`Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`, y.line(), x.line()}
			}},
		{name: "tampered nonce", want: -1,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Nonce = "0" + x.Nonce[1:]
				if x.Nonce == f.nonce() {
					x.Nonce = "1" + x.Nonce[1:]
				}
				return []string{x.line()}
			}},
		{name: "nonce of another secret", want: -1,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Nonce = MakeNonce([]byte("other"), f.now.Add(time.Minute))
				return []string{x.line()}
			}},
		{name: "stale nonce", want: -1, stale: true,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Nonce = MakeNonce([]byte(testSecret), f.now.Add(-time.Second))
				return []string{x.line()}
			}},
		{name: "stale nonce with a wrong password is not stale", want: -1,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Password = "guess"
				x.Nonce = MakeNonce([]byte(testSecret), f.now.Add(-time.Second))
				return []string{x.line()}
			}},
		{name: "malformed credentials: 400", want: 0, reply: 400,
			hdrs: func(f *fixture) []string {
				return []string{`Authorization: Digest username="alice", realm="example.com", nonce="` + f.nonce() + `"`}
			}},
		{name: "unparsable digest: 400", want: 0, reply: 400,
			hdrs: func(f *fixture) []string { return []string{`Authorization: Digest username="alice`} }},
		{name: "basic only", want: -1,
			hdrs: func(f *fixture) []string { return []string{`Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`} }},
		{name: "username with domain uses ha1b", want: 1, user: "alice@example.com",
			hdrs: func(f *fixture) []string { x := ok(f); x.Username = "alice@example.com"; return []string{x.line()} }},
		{name: "username with domain, calculated", params: map[string]any{"calculate_ha1": 1}, want: 1, user: "alice@example.com",
			hdrs: func(f *fixture) []string { x := ok(f); x.Username = "alice@example.com"; return []string{x.line()} }},
		{name: "trailing at, calculated, client hashed user@", params: map[string]any{"calculate_ha1": 1}, want: 1, user: "alice@",
			hdrs: func(f *fixture) []string { x := ok(f); x.Username = "alice@"; return []string{x.line()} }},
		{name: "trailing at, calculated, client hashed the bare user", params: map[string]any{"calculate_ha1": 1}, want: 1, user: "alice@",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Username, x.HashUser = "alice@", "alice"
				return []string{x.line()}
			}},
		{name: "trailing at, stored ha1, client hashed the bare user", want: 1, user: "alice@",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Username, x.HashUser = "alice@", "alice"
				return []string{x.line()}
			}},
		{name: "calculate_ha1 with explicit password column", params: map[string]any{"calculate_ha1": "yes", "password_column": "password"},
			want: 1, user: "alice", hdrs: func(f *fixture) []string { return []string{ok(f).line()} }},
		{name: "use_domain finds the user of the realm", params: map[string]any{"use_domain": 1}, realm: "other.org", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Realm, x.Password = "other.org", "otherpw"
				return []string{x.line()}
			}},
		{name: "without use_domain the first alice is used", realm: "other.org", params: map[string]any{"calculate_ha1": 1}, want: -1,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Realm, x.Password = "other.org", "otherpw"
				return []string{x.line()}
			}},
		{name: "use_domain, no bob in other.org", params: map[string]any{"use_domain": 1}, realm: "other.org", want: -1,
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Username, x.Realm, x.Password = "bob", "other.org", "bobpw"
				return []string{x.line()}
			}},
		{name: "proxy_authorize", fn: "proxy_authorize", want: 1, user: "alice",
			hdrs: func(f *fixture) []string { x := ok(f); x.Header = "Proxy-Authorization"; return []string{x.line()} }},
		{name: "proxy_authorize ignores Authorization", fn: "proxy_authorize", want: -1,
			hdrs: func(f *fixture) []string { return []string{ok(f).line()} }},
		{name: "www_authorize ignores Proxy-Authorization", want: -1,
			hdrs: func(f *fixture) []string { x := ok(f); x.Header = "Proxy-Authorization"; return []string{x.line()} }},
		{name: "ACK is always authorized", method: "ACK", want: 1},
		{name: "CANCEL is always authorized", method: "CANCEL", want: 1},
		{name: "REGISTER, empty realm is the To host", method: "REGISTER", realm: "-", want: 1, user: "alice",
			hdrs: func(f *fixture) []string {
				x := ok(f)
				x.Method, x.URI = "REGISTER", "sip:example.com"
				return []string{x.line()}
			}},
		{name: "proxy, empty realm is the From host", fn: "proxy_authorize", realm: "-", want: 1, user: "alice",
			hdrs: func(f *fixture) []string { x := ok(f); x.Header = "Proxy-Authorization"; return []string{x.line()} }},
		{name: "empty stored ha1 is refused", want: -1,
			setup: func(f *fixture) { execSQL(f, "UPDATE subscriber SET ha1 = '' WHERE username = 'alice'") },
			hdrs: func(f *fixture) []string {
				// The response an attacker computes over an empty HA1.
				x := ok(f)
				c := &Credentials{Nonce: x.Nonce, URI: "sip:bob@example.com"}
				x.Response = ExpectedResponse("", c, "INVITE", nil)
				return []string{x.line()}
			}},
		{name: "calculate_ha1, no plain-text password stored: refused", params: map[string]any{"calculate_ha1": 1}, want: -1,
			setup: func(f *fixture) { execSQL(f, "UPDATE subscriber SET password = '' WHERE username = 'alice'") },
			hdrs: func(f *fixture) []string {
				// The response over the empty password.
				x := ok(f)
				x.Password = ""
				return []string{x.line()}
			}},
		{name: "database failure: 500", want: 0, reply: 500,
			setup: func(f *fixture) { f.st.Close() },
			hdrs:  func(f *fixture) []string { return []string{ok(f).line()} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params, false)
			fn := tc.fn
			if fn == "" {
				fn = "www_authorize"
			}
			realm := tc.realm
			switch realm {
			case "":
				realm = "example.com"
			case "-":
				realm = ""
			}
			h := f.bind(fn, realm, "subscriber")
			f.attach()
			if tc.setup != nil {
				tc.setup(f)
			}
			method := tc.method
			if method == "" {
				method = "INVITE"
			}
			var hdrs []string
			if tc.hdrs != nil {
				hdrs = tc.hdrs(f)
			}
			r := modtest.Request{Method: method, Headers: hdrs}
			if method == "REGISTER" {
				r.URI, r.To = "sip:example.com", "<sip:alice@example.com>"
			}
			r.Body = tc.body
			m := r.Msg(t)
			got, err := h(m)
			if err != nil || got != tc.want {
				t.Fatalf("%s = %d, %v; want %d", fn, got, err, tc.want)
			}
			replies := f.core.Replies()
			switch {
			case tc.reply == 0 && len(replies) > 0:
				t.Fatalf("unexpected reply %d", replies[0].Resp.StatusCode)
			case tc.reply != 0 && (len(replies) != 1 || replies[0].Resp.StatusCode != tc.reply):
				t.Fatalf("replies %v, want one %d", replies, tc.reply)
			}
			c := Authorized(m)
			switch {
			case tc.user == "" && c != nil:
				t.Errorf("credentials of %q remembered", c.Username)
			case tc.user != "" && (c == nil || c.Username != tc.user):
				t.Errorf("authorized credentials %+v, want user %q", c, tc.user)
			}
			if tc.want == -1 {
				// The script's challenge follows; stale only when expected.
				ch := "www_challenge"
				if fn == "proxy_authorize" {
					ch = "proxy_challenge"
				}
				if r, _ := f.bind(ch, realm, 0)(m); r != 0 {
					t.Fatalf("%s = %d, want 0", ch, r)
				}
				if _, _, _, _, stale := f.challengeOf(); stale != tc.stale {
					t.Errorf("stale = %v, want %v", stale, tc.stale)
				}
			}
		})
	}
}

// execSQL changes the fixture's database behind the store's back.
func execSQL(f *fixture, stmt string) {
	f.t.Helper()
	db, err := sql.Open("sqlite3", f.st.Source().Path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		f.t.Fatal(err)
	}
}

func TestNonceCountReplay(t *testing.T) {
	f := newFixture(t, nil, false)
	h := f.bind("www_authorize", "example.com", "subscriber")
	f.attach()
	nonce := f.nonce()
	send := func(nc string, cseq int) int {
		x := answer{Username: "alice", Realm: "example.com", Password: "secret", Nonce: nonce, QOP: "auth", NC: nc}
		m := modtest.Request{CSeq: cseq, Headers: []string{x.line()}}.Msg(t)
		r, _ := h(m)
		return r
	}
	steps := []struct {
		name string
		nc   string
		cseq int
		want int
	}{
		{"first", "00000001", 1, 1},
		{"retransmission", "00000001", 1, 1},
		{"replayed in a new request", "00000001", 2, -1},
		{"next count", "00000002", 2, 1},
		{"skipping counts is allowed", "0000000a", 3, 1},
		{"going back is not", "00000005", 4, -1},
	}
	for _, s := range steps {
		if got := send(s.nc, s.cseq); got != s.want {
			t.Errorf("%s: %d, want %d", s.name, got, s.want)
		}
	}
	// The same Call-ID, CSeq and nonce count on a request that differs
	// (another Contact) is not a retransmission.
	x := answer{Username: "alice", Realm: "example.com", Password: "secret", Nonce: nonce, QOP: "auth", NC: "0000000b"}
	m := modtest.Request{CSeq: 5, Headers: []string{x.line(), "Contact: <sip:alice@192.0.2.10>"}}.Msg(t)
	if r, _ := h(m); r != 1 {
		t.Fatalf("nc 0b: %d", r)
	}
	m = modtest.Request{CSeq: 5, Headers: []string{x.line(), "Contact: <sip:mallory@198.51.100.1>"}}.Msg(t)
	if r, _ := h(m); r != -1 || !state(m).stale[www] {
		t.Errorf("changed request with the same nc, Call-ID and CSeq: %d, stale %v", r, state(m).stale[www])
	}
}

func TestOneTimeNonceWithoutQop(t *testing.T) {
	for _, oneTime := range []int{1, 0} {
		f := newFixture(t, map[string]any{"one_time_nonce": oneTime}, false)
		h := f.bind("www_authorize", "example.com", "subscriber")
		f.attach()
		nonce := f.nonce()
		send := func(cseq int) (int, bool) {
			x := answer{Username: "alice", Realm: "example.com", Password: "secret", Nonce: nonce}
			m := modtest.Request{CSeq: cseq, Headers: []string{x.line()}}.Msg(t)
			r, _ := h(m)
			return r, state(m).stale[www]
		}
		if r, _ := send(10); r != 1 {
			t.Fatalf("one_time_nonce %d: first use %d", oneTime, r)
		}
		if r, _ := send(10); r != 1 {
			t.Errorf("one_time_nonce %d: retransmission %d", oneTime, r)
		}
		r, stale := send(11)
		switch {
		case oneTime == 1 && (r != -1 || !stale):
			t.Errorf("replay in a new request without qop: %d stale %v, want -1 stale", r, stale)
		case oneTime == 0 && r != 1:
			t.Errorf("one_time_nonce 0: reuse %d, want 1 (RFC 2069)", r)
		}
	}
}

func TestNoncesAcrossServers(t *testing.T) {
	// Two servers with the same secret accept each other's nonces; a
	// third with another secret does not.
	a := newFixture(t, nil, false)
	b := newFixture(t, nil, false)
	c := newFixture(t, map[string]any{"secret": "different"}, false)
	for _, f := range []*fixture{a, b, c} {
		f.bind("proxy_authorize", "example.com", "subscriber")
		f.attach()
	}
	m := req(t, "INVITE")
	a.bind("proxy_challenge", "example.com", 1)(m)
	_, _, nonce, qop, _ := a.challengeOf()
	if !qop {
		t.Fatal("no qop in challenge")
	}
	line := answer{Header: "Proxy-Authorization", Username: "alice", Realm: "example.com", Password: "secret", Nonce: nonce, QOP: "auth"}.line()
	for _, s := range []struct {
		name string
		f    *fixture
		want int
	}{{"b", b, 1}, {"a", a, 1}, {"c", c, -1}} {
		m := req(t, "INVITE", line)
		if r := s.f.a.Authorize(m, "example.com", "subscriber", true); r != s.want {
			t.Errorf("server %s: %d, want %d", s.name, r, s.want)
		}
	}
}

func TestRandomSecret(t *testing.T) {
	// Without a secret each server makes its own: nonces are not shared.
	var mods []*Module
	for i := 0; i < 2; i++ {
		inst, err := modtest.LoadEnv(Exports, modtest.DiscardEnv(modtest.NewCore()), nil)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, inst.(*Module))
	}
	n := MakeNonce(mods[0].secret, time.Now().Add(time.Minute))
	if _, err := CheckNonce(mods[0].secret, n); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckNonce(mods[1].secret, n); err == nil {
		t.Fatal("random secrets are equal")
	}
}

func TestStart(t *testing.T) {
	st := newStore(t)
	open := func(url string) (*store.Store, error) { return st, nil }
	tests := []struct {
		name    string
		params  map[string]any
		table   string // "" binds nothing
		noDB    bool
		errText string
	}{
		{name: "nothing to check", noDB: true},
		{name: "subscriber", table: "subscriber"},
		{name: "calculate_ha1", table: "subscriber", params: map[string]any{"calculate_ha1": 1}},
		{name: "unknown table", table: "nosuch", errText: "no such table: nosuch"},
		{name: "unknown column", table: "subscriber", params: map[string]any{"password_column": "pw"}, errText: "table subscriber has no column pw"},
		{name: "no database", table: "subscriber", noDB: true, errText: "no database available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := modtest.DiscardEnv(modtest.NewCore())
			if !tc.noDB {
				env.DB = open
			}
			inst, err := modtest.LoadEnv(Exports, env, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if tc.table != "" {
				modtest.Bind(t, Exports, inst, env, "www_authorize", "r", tc.table)
			}
			err = inst.(*Module).Start(context.Background())
			if tc.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want %q", err, tc.errText)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		fn      string
		args    []any
		errText string
	}{
		{name: "bad table", fn: "www_authorize", args: []any{"r", "sub scriber"}, errText: "not a valid table name"},
		{name: "qop not a number", fn: "www_challenge", args: []any{"r", "auth"}, errText: "qop must be 0 or 1"},
		{name: "bad column", params: map[string]any{"password_column": "ha1;drop"}, errText: "not a valid column name"},
		{name: "bad nonce_expire", params: map[string]any{"nonce_expire": 0}, errText: "must be positive"},
		{name: "nonce_expire not a number", params: map[string]any{"nonce_expire": "soon"}, errText: "not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := modtest.DiscardEnv(modtest.NewCore())
			inst, err := modtest.LoadEnv(Exports, env, tc.params)
			if err == nil && tc.fn != "" {
				_, err = modtest.BindErr(Exports, inst, env, tc.fn, tc.args...)
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want %q", err, tc.errText)
			}
		})
	}
}
