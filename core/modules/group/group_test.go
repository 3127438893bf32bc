package group

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/modules/auth"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

const secret = "group-test-secret"

// fixture is auth (calculate_ha1, every password "secret") + group over
// a store where alice@example.com is in
// "int" and "ld", bob@example.com in "local", alice@other.org in "int",
// and the number 0800123@gw in "free-pstn".
type fixture struct {
	t   *testing.T
	g   *Module
	a   *auth.Module
	env *module.Env
	st  *store.Store
}

func newFixture(t *testing.T, params map[string]any) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ser.db"), store.WithLogger(slog.New(slog.DiscardHandler)),
		store.WithPlaintextPasswords(true)) // calculate_ha1 configs read the plain-text column
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []store.Subscriber{
		{Username: "alice", Domain: "example.com", Password: "secret"},
		{Username: "bob", Domain: "example.com", Password: "secret"},
	} {
		if err := st.AddSubscriber(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][3]string{
		{"alice", "example.com", "int"}, {"alice", "example.com", "ld"}, {"bob", "example.com", "local"},
		{"alice", "other.org", "int"}, {"carol", "other.org", "local"}, {"0800123", "gw", "free-pstn"},
	} {
		if err := st.Grant(ctx, m[0], m[1], m[2]); err != nil {
			t.Fatal(err)
		}
	}
	instances := map[string]any{}
	env := modtest.Env(t, modtest.NewCore(), instances)
	env.DB = func(string) (*store.Store, error) { return st, nil }
	ai, err := modtest.LoadEnv(auth.Exports, env, map[string]any{"secret": secret, "calculate_ha1": 1})
	if err != nil {
		t.Fatal(err)
	}
	instances["auth"] = ai
	modtest.Bind(t, auth.Exports, ai, env, "proxy_authorize", "example.com", "subscriber")
	gi, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, g: gi.(*Module), a: ai.(*auth.Module), env: env, st: st}
	if err := f.a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// authorized returns an INVITE to uri whose digest username user (realm
// example.com) proxy_authorize accepted.
func (f *fixture) authorized(user, uri string) *sipmsg.Msg {
	f.t.Helper()
	nonce := auth.MakeNonce([]byte(secret), time.Now().Add(time.Minute))
	c := &auth.Credentials{Username: user, Realm: "example.com", Nonce: nonce, URI: uri}
	resp := auth.ExpectedResponse(auth.HA1(user, "example.com", "secret"), c, "INVITE", nil)
	line := `Proxy-Authorization: Digest username="` + user + `", realm="example.com", nonce="` + nonce +
		`", uri="` + uri + `", response="` + resp + `"`
	m := modtest.Request{URI: uri, Headers: []string{line}}.Msg(f.t)
	if r := f.a.Authorize(m, "example.com", "subscriber", true); r != 1 {
		f.t.Fatalf("proxy_authorize = %d", r)
	}
	return m
}

func TestIsUserIn(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		fn     string
		args   []any
		msg    func(f *fixture) *sipmsg.Msg
		want   int
	}{
		{name: "request-uri member", fn: "is_user_in", args: []any{"Request-URI", "free-pstn"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{URI: "sip:0800123@gw"}.Msg(t) }, want: 1},
		{name: "request-uri after rewrite", fn: "is_user_in", args: []any{"request-uri", "free-pstn"},
			msg: func(f *fixture) *sipmsg.Msg {
				m := modtest.Request{URI: "sip:0999@gw"}.Msg(t)
				if err := m.SetURI("sip:0800123@gw"); err != nil {
					t.Fatal(err)
				}
				return m
			}, want: 1},
		{name: "request-uri not member", fn: "is_user_in", args: []any{"Request-URI", "free-pstn"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{URI: "sip:0049123@gw"}.Msg(t) }, want: -1},
		{name: "request-uri without user", fn: "is_user_in", args: []any{"Request-URI", "free-pstn"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{URI: "sip:gw"}.Msg(t) }, want: -1},
		{name: "from member", fn: "is_user_in", args: []any{"From", "ld"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{}.Msg(t) }, want: 1},
		{name: "from not member", fn: "is_user_in", args: []any{"FROM", "local"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{}.Msg(t) }, want: -1},
		{name: "to member", fn: "is_user_in", args: []any{"To", "local"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{To: "<sip:bob@example.com>"}.Msg(t) }, want: 1},
		{name: "to, use_domain, other domain", params: map[string]any{"use_domain": 1}, fn: "is_user_in", args: []any{"To", "local"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{To: "<sip:bob@other.org>"}.Msg(t) }, want: -1},
		{name: "to, no use_domain, other domain", fn: "is_user_in", args: []any{"To", "local"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{To: "<sip:bob@other.org>"}.Msg(t) }, want: 1},
		{name: "credentials member", fn: "is_user_in", args: []any{"Credentials", "int"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("alice", "sip:000123@gw") }, want: 1},
		{name: "credentials not member", fn: "is_user_in", args: []any{"Credentials", "int"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("bob", "sip:000123@gw") }, want: -1},
		{name: "credentials missing", fn: "is_user_in", args: []any{"Credentials", "int"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{}.Msg(t) }, want: -1},
		{name: "is_in_group member", fn: "is_in_group", args: []any{"ld"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("alice", "sip:00123@gw") }, want: 1},
		{name: "is_in_group not member", fn: "is_in_group", args: []any{"int"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("bob", "sip:000123@gw") }, want: -1},
		{name: "is_in_group use_domain: realm is the domain", params: map[string]any{"use_domain": 1}, fn: "is_in_group", args: []any{"local"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("bob", "sip:0123@gw") }, want: 1},
		{name: "is_in_group use_domain: the username's domain wins", params: map[string]any{"use_domain": 1}, fn: "is_in_group", args: []any{"int"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("alice@other.org", "sip:000123@gw") }, want: 1},
		{name: "is_in_group use_domain: not in that domain's group", params: map[string]any{"use_domain": 1}, fn: "is_in_group", args: []any{"ld"},
			msg: func(f *fixture) *sipmsg.Msg { return f.authorized("alice@other.org", "sip:00123@gw") }, want: -1},
		{name: "is_in_group without credentials", fn: "is_in_group", args: []any{"int"},
			msg: func(f *fixture) *sipmsg.Msg { return modtest.Request{}.Msg(t) }, want: -1},
		{name: "reply", fn: "is_user_in", args: []any{"From", "ld"},
			msg: func(f *fixture) *sipmsg.Msg {
				return modtest.Parse(t, "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\nFrom: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
			}, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params)
			h := modtest.Bind(t, Exports, f.g, f.env, tc.fn, tc.args...)
			if err := f.g.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got, err := h(tc.msg(f)); got != tc.want || err != nil {
				t.Fatalf("%s(%v) = %d, %v; want %d", tc.fn, tc.args, got, err, tc.want)
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
		noAuth  bool
		errText string
	}{
		{name: "unknown source", fn: "is_user_in", args: []any{"Contact", "g"}, errText: `unknown user source "Contact"`},
		{name: "empty group", fn: "is_user_in", args: []any{"From", ""}, errText: "empty group name"},
		{name: "is_in_group needs auth", fn: "is_in_group", args: []any{"g"}, noAuth: true, errText: "needs the auth module"},
		{name: "credentials need auth", fn: "is_user_in", args: []any{"credentials", "g"}, noAuth: true, errText: "needs the auth module"},
		{name: "bad table", params: map[string]any{"table": "grp x"}, errText: "not a valid table name"},
		{name: "bad use_domain", params: map[string]any{"use_domain": "maybe"}, errText: "not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := modtest.DiscardEnv(modtest.NewCore())
			if !tc.noAuth {
				env.Instance = func(n string) any {
					if n == "auth" {
						return auth.New()
					}
					return nil
				}
			}
			inst, err := modtest.LoadEnv(Exports, env, tc.params)
			if err == nil && tc.fn != "" {
				_, err = modtest.BindErr(Exports, inst, env, tc.fn, tc.args...)
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want %q", err, tc.errText)
			}
		})
	}
	// Without auth, the URI sources still bind.
	env := modtest.DiscardEnv(modtest.NewCore())
	inst, _ := modtest.LoadEnv(Exports, env, nil)
	if _, err := modtest.BindErr(Exports, inst, env, "is_user_in", "Request-URI", "g"); err != nil {
		t.Fatal(err)
	}
}

func TestStart(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		bind    bool
		noDB    bool
		errText string
	}{
		{name: "unused: no database needed", noDB: true},
		{name: "default table", bind: true},
		{name: "unknown table", bind: true, params: map[string]any{"table": "groups"}, errText: "no such table: groups"},
		{name: "unknown column", bind: true, params: map[string]any{"group_column": "gid"}, errText: "has no column gid"},
		{name: "no database", bind: true, noDB: true, errText: "no database available"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params)
			if tc.noDB {
				f.env.DB = nil
			}
			inst, err := modtest.LoadEnv(Exports, f.env, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if tc.bind {
				modtest.Bind(t, Exports, inst, f.env, "is_user_in", "From", "g")
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

func TestParseSource(t *testing.T) {
	for _, s := range []Source{RequestURI, To, From, Credentials} {
		got, err := ParseSource(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v", s.String(), got, err)
		}
	}
}

// TestAuth08 checks the functions as SER 0.8's auth had them (loaded as
// "auth"): "Credentials" is the whole digest username, and the group
// table's parameters have their 0.8 names.
func TestAuth08(t *testing.T) {
	tab, ok := Exports.Table("auth")
	if !ok {
		t.Fatal("no auth table")
	}
	bind := func(f *fixture, fn string, args ...any) module.Handler {
		t.Helper()
		def, ok := tab.FindFunc(fn)
		if !ok {
			t.Fatalf("auth has no %s", fn)
		}
		h, err := def.Fixup(f.g, f.env, modtest.Values(args...))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h
	}
	f := newFixture(t, nil)
	for _, tc := range []struct {
		fn   string
		args []any
		user string
		want int
	}{
		{"is_in_group", []any{"int"}, "alice", 1},
		{"is_in_group", []any{"local"}, "alice", -1},
		{"is_in_group", []any{"int"}, "alice@other.org", -1}, // whole username: no row "alice@other.org"
		{"is_user_in", []any{"Credentials", "int"}, "alice", 1},
		{"is_user_in", []any{"Credentials", "int"}, "alice@other.org", -1},
		{"is_user_in", []any{"From", "ld"}, "alice", 1},
	} {
		if got, _ := bind(f, tc.fn, tc.args...)(f.authorized(tc.user, "sip:00123@gw")); got != tc.want {
			t.Errorf("%s%v as %s = %d, want %d", tc.fn, tc.args, tc.user, got, tc.want)
		}
	}

	// group_table etc. are the 0.8 names of table, user_column, group_column.
	g := New()
	for name, v := range map[string]string{"group_table": "acl", "group_user_column": "user", "group_group_column": "g"} {
		p, ok := tab.FindParam(name)
		if !ok {
			t.Fatalf("auth has no %s", name)
		}
		if err := p.Set(g, modtest.Str(v)); err != nil {
			t.Fatal(err)
		}
	}
	if c := g.Config(); c.Table != "acl" || c.UserColumn != "user" || c.GroupColumn != "g" {
		t.Errorf("config %+v", c)
	}
	// 0.9's group has no is_in_group.
	if own, _ := Exports.Table("group"); len(own.Funcs) != 1 || own.Funcs[0].Name != "is_user_in" {
		t.Errorf("the group name exports %v", own.Funcs)
	}
}
