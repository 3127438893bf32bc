package uri

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

const secret = "uri-test-secret"

// fixture is auth (calculate_ha1, every password "secret") + uri over a
// store with the subscribers alice@example.com and bob@example.com (each
// with its own uri row) and the uri row alice@example.com → 0431.
type fixture struct {
	t   *testing.T
	u   *Module
	a   *auth.Module
	env *module.Env
	st  *store.Store
}

func newFixture(t *testing.T, params map[string]any) *fixture {
	t.Helper()
	ctx := context.Background()
	// calculate_ha1 reads the plain-text column, which the store fills only on request.
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ser.db"), store.WithLogger(slog.New(slog.DiscardHandler)),
		store.WithPlaintextPasswords(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := st.AddSubscriber(ctx, store.Subscriber{Username: u, Domain: "example.com", Password: "secret"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddURI(ctx, "alice", "example.com", "0431"); err != nil {
		t.Fatal(err)
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
	ui, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, u: ui.(*Module), a: ai.(*auth.Module), env: env, st: st}
	if err := f.a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// bind binds fname as loaded under the loadmodule name table ("uri",
// "uri_db" or SER 0.8's "auth") and starts the module (the database
// opens when a bound function needs it).
func (f *fixture) bind(table, fname string, args ...any) module.Handler {
	f.t.Helper()
	tab, ok := Exports.Table(table)
	if !ok {
		f.t.Fatalf("no table %s", table)
	}
	fn, ok := tab.FindFunc(fname)
	if !ok {
		f.t.Fatalf("%s has no %s", table, fname)
	}
	h, err := fn.Fixup(f.u, f.env, modtest.Values(args...))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.u.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return h
}

// authorized returns a request (From/To as given, "" = modtest's
// defaults) whose digest username user, realm example.com, was accepted.
func (f *fixture) authorized(user string, r modtest.Request) *sipmsg.Msg {
	f.t.Helper()
	uri := r.URI
	if uri == "" {
		uri = "sip:bob@example.com"
	}
	nonce := auth.MakeNonce([]byte(secret), time.Now().Add(time.Minute))
	c := &auth.Credentials{Username: user, Realm: "example.com", Nonce: nonce, URI: uri}
	resp := auth.ExpectedResponse(auth.HA1(user, "example.com", "secret"), c, "INVITE", nil)
	r.Headers = append(r.Headers, `Proxy-Authorization: Digest username="`+user+`", realm="example.com", nonce="`+nonce+
		`", uri="`+uri+`", response="`+resp+`"`)
	m := r.Msg(f.t)
	if got := f.a.Authorize(m, "example.com", "subscriber", true); got != 1 {
		f.t.Fatalf("proxy_authorize = %d", got)
	}
	return m
}

func TestCheckToFrom(t *testing.T) {
	tests := []struct {
		name     string
		table    string // loadmodule name
		params   map[string]any
		fn       string
		user     string // digest username; "" = nothing authorized
		from, to string
		want     int
	}{
		{name: "check_to matches", table: "uri_db", fn: "check_to", user: "alice", to: "<sip:alice@example.com>", want: 1},
		{name: "case-insensitive", table: "uri_db", fn: "check_to", user: "alice", to: "<sip:ALICE@example.com>", want: 1},
		{name: "other user", table: "uri_db", fn: "check_to", user: "alice", to: "<sip:bob@example.com>", want: -1},
		{name: "host not compared without the uri table", table: "uri_db", fn: "check_to", user: "alice", to: "<sip:alice@elsewhere.net>", want: 1},
		{name: "user@domain credentials: user part", table: "uri_db", fn: "check_to", user: "alice@example.com", to: "<sip:alice@example.com>", want: 1},
		{name: "URI without user", table: "uri_db", fn: "check_to", user: "alice", to: "<sip:example.com>", want: -1},
		{name: "no credentials", table: "uri_db", fn: "check_to", to: "<sip:alice@example.com>", want: -1},
		{name: "check_from matches", table: "uri_db", fn: "check_from", user: "alice", from: "<sip:alice@example.com>;tag=1", want: 1},
		{name: "check_from other user", table: "uri_db", fn: "check_from", user: "alice", from: "<sip:carol@example.com>;tag=1", want: -1},
		{name: "uri table: alias", table: "uri_db", params: map[string]any{"use_uri_table": 1}, fn: "check_from", user: "alice", from: "<sip:0431@example.com>;tag=1", want: 1},
		{name: "uri table: own name", table: "uri_db", params: map[string]any{"use_uri_table": 1}, fn: "check_to", user: "alice", to: "<sip:alice@example.com>", want: 1},
		{name: "uri table: someone else's alias", table: "uri_db", params: map[string]any{"use_uri_table": 1}, fn: "check_from", user: "bob", from: "<sip:0431@example.com>;tag=1", want: -1},
		{name: "uri table: host must be the realm", table: "uri_db", params: map[string]any{"use_uri_table": 1}, fn: "check_to", user: "alice", to: "<sip:0431@other.org>", want: -1},
		{name: "uri table: realm compared case-insensitively", table: "uri_db", params: map[string]any{"use_uri_table": 1}, fn: "check_to", user: "alice", to: "<sip:0431@EXAMPLE.com>", want: 1},
		{name: "0.8 auth: matches", table: "auth", fn: "check_to", user: "alice", to: "<sip:alice@example.com>", want: 1},
		{name: "0.8 auth: no uri table even with use_uri_table", table: "auth", params: map[string]any{"use_uri_table": 1}, fn: "check_from", user: "alice", from: "<sip:0431@example.com>;tag=1", want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params)
			h := f.bind(tc.table, tc.fn)
			r := modtest.Request{From: tc.from, To: tc.to}
			m := r.Msg(t)
			if tc.user != "" {
				m = f.authorized(tc.user, r)
			}
			if got, err := h(m); got != tc.want || err != nil {
				t.Fatalf("%s = %d, %v; want %d", tc.fn, got, err, tc.want)
			}
		})
	}
}

func TestIsUser(t *testing.T) {
	tests := []struct {
		table, user, arg string
		want             int
	}{
		{"uri", "alice", "alice", 1},
		{"uri", "alice", "Alice", -1}, // exact
		{"uri", "alice@example.com", "alice", 1},
		{"uri", "alice@example.com", "alice@example.com", -1},
		{"uri", "", "alice", -1},
		{"auth", "alice", "alice", 1},
		{"auth", "alice@example.com", "alice@example.com", 1}, // SER 0.8: the whole username
		{"auth", "alice@example.com", "alice", -1},
	}
	for _, tc := range tests {
		f := newFixture(t, nil)
		h := f.bind(tc.table, "is_user", tc.arg)
		m := modtest.Request{}.Msg(t)
		if tc.user != "" {
			m = f.authorized(tc.user, modtest.Request{})
		}
		if got, _ := h(m); got != tc.want {
			t.Errorf("%s is_user(%q) with %q = %d, want %d", tc.table, tc.arg, tc.user, got, tc.want)
		}
	}
	if _, err := Exports.Funcs[0].Fixup(New(), nil, modtest.Values("")); err == nil {
		t.Error("is_user(\"\") accepted")
	}
}

func TestDoesURIExist(t *testing.T) {
	tests := []struct {
		params map[string]any
		ruri   string
		want   int
	}{
		{nil, "sip:alice@example.com", 1},
		{nil, "sip:alice@other.org", 1}, // no use_domain: the user alone
		{nil, "sip:carol@example.com", -1},
		{nil, "sip:example.com", -1},
		{map[string]any{"use_domain": 1}, "sip:alice@example.com", 1},
		{map[string]any{"use_domain": 1}, "sip:alice@other.org", -1},
		{map[string]any{"use_uri_table": 1}, "sip:0431@example.com", 1},
		{map[string]any{"use_uri_table": 1, "use_domain": 1}, "sip:0431@other.org", -1},
		{map[string]any{"use_uri_table": 1}, "sip:0432@example.com", -1},
		{map[string]any{"subscriber_table": "nosuch"}, "sip:alice@example.com", 0}, // Start refuses
	}
	for _, tc := range tests {
		f := newFixture(t, tc.params)
		tab, _ := Exports.Table("uri_db")
		fn, _ := tab.FindFunc("does_uri_exist")
		h, err := fn.Fixup(f.u, f.env, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.u.Start(context.Background()); err != nil {
			if tc.want != 0 {
				t.Fatalf("%v: Start: %v", tc.params, err)
			}
			if !strings.Contains(err.Error(), "nosuch") {
				t.Errorf("Start error %v does not name the table", err)
			}
			continue
		}
		if tc.want == 0 {
			t.Fatalf("%v: Start accepted a missing table", tc.params)
		}
		if got, _ := h(modtest.Request{URI: tc.ruri}.Msg(t)); got != tc.want {
			t.Errorf("%v does_uri_exist(%s) = %d, want %d", tc.params, tc.ruri, got, tc.want)
		}
	}
	// A database failure is false (logged), not a crash.
	f := newFixture(t, nil)
	h := f.bind("uri_db", "does_uri_exist")
	f.st.Close()
	if got, _ := h(modtest.Request{URI: "sip:alice@example.com"}.Msg(t)); got != -1 {
		t.Errorf("does_uri_exist with the database closed = %d", got)
	}
}

func TestNoDatabaseUnlessNeeded(t *testing.T) {
	u := New()
	opened := false
	env := modtest.Env(t, modtest.NewCore(), nil)
	env.DB = func(string) (*store.Store, error) { opened = true; return nil, nil }
	if err := initModule(u, env); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"check_to", "check_from"} { // without use_uri_table
		tab, _ := Exports.Table("uri_db")
		f, _ := tab.FindFunc(fn)
		if _, err := f.Fixup(u, env, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Start(context.Background()); err != nil || opened {
		t.Errorf("Start: %v, database opened %v", err, opened)
	}
}

func TestHasToTag(t *testing.T) {
	f := newFixture(t, nil)
	h := f.bind("uri", "has_totag")
	for to, want := range map[string]int{
		"<sip:bob@example.com>;tag=abc": 1,
		"<sip:bob@example.com>":         -1,
		"<sip:bob@example.com>;tag=":    -1,
	} {
		if got, _ := h(modtest.Request{To: to}.Msg(t)); got != want {
			t.Errorf("has_totag with To %s = %d, want %d", to, got, want)
		}
	}
}

func TestURIParam(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		ruri string
		args []any
		want int
	}{
		{"sip:bob@example.com;lr;transport=tcp", []any{"lr"}, 1},
		{"sip:bob@example.com;lr;transport=tcp", []any{"transport"}, -1}, // has a value
		{"sip:bob@example.com;lr;transport=tcp", []any{"transport", "tcp"}, 1},
		{"sip:bob@example.com;lr;transport=tcp", []any{"transport", "udp"}, -1},
		{"sip:bob@example.com;lr;transport=tcp", []any{"Transport", "tcp"}, -1}, // names exact, as SER
		{"sip:bob@example.com;lr;transport=tcp", []any{"maddr"}, -1},
		{"sip:bob@example.com", []any{"lr"}, -1},
		{"sip:bob;x=1@example.com;y=2", []any{"x", "1"}, -1}, // in the user part, not a parameter
		{"sip:bob;x=1@example.com;y=2", []any{"y", "2"}, 1},
		{"sip:bob@example.com;user=phone?subject=lr", []any{"user", "phone"}, 1},
		{"sip:bob@example.com?lr", []any{"lr"}, -1}, // a header, not a parameter
	}
	for _, tc := range tests {
		h := f.bind("uri", "uri_param", tc.args...)
		if got, _ := h(modtest.Request{URI: tc.ruri}.Msg(t)); got != tc.want {
			t.Errorf("uri_param%v on %s = %d, want %d", tc.args, tc.ruri, got, tc.want)
		}
	}
	// After a rewrite the current Request-URI counts.
	m := modtest.Request{}.Msg(t)
	if err := m.SetURI("sip:bob@example.com;gr"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.bind("uri", "uri_param", "gr")(m); got != 1 {
		t.Errorf("uri_param after rewrite = %d", got)
	}
}

func TestAddURIParam(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct{ ruri, param, want string }{
		{"sip:bob@example.com", "user=phone", "sip:bob@example.com;user=phone"},
		{"sip:bob@example.com:5070;transport=tcp", "ob", "sip:bob@example.com:5070;transport=tcp;ob"},
		{"sip:bob@example.com;transport=udp?subject=hi", "x=1", "sip:bob@example.com;transport=udp;x=1?subject=hi"},
		{"sip:bob@example.com?subject=hi", "lr", "sip:bob@example.com;lr?subject=hi"},
		{"sip:bob@example.com", "", "sip:bob@example.com"},
	}
	for _, tc := range tests {
		m := modtest.Request{URI: tc.ruri}.Msg(t)
		if got, _ := f.bind("uri", "add_uri_param", tc.param)(m); got != 1 {
			t.Errorf("add_uri_param(%q) = %d", tc.param, got)
		}
		if got := m.URIString(); got != tc.want {
			t.Errorf("add_uri_param(%q) on %s: %s, want %s", tc.param, tc.ruri, got, tc.want)
		}
	}
}

func TestTel2SIP(t *testing.T) {
	f := newFixture(t, nil)
	h := f.bind("uri", "tel2sip")
	tests := []struct{ ruri, from, want string }{
		{"tel:+4930123456", "<sip:alice@example.com>;tag=1", "sip:+4930123456@example.com;user=phone"},
		{"sip:bob@example.com", "<sip:alice@example.com>;tag=1", "sip:bob@example.com"}, // not tel: unchanged, true
	}
	for _, tc := range tests {
		m := modtest.Request{URI: tc.ruri, From: tc.from}.Msg(t)
		if got, _ := h(m); got != 1 {
			t.Errorf("tel2sip on %s = %d", tc.ruri, got)
		}
		if got := m.URIString(); got != tc.want {
			t.Errorf("tel2sip on %s: %s, want %s", tc.ruri, got, tc.want)
		}
	}
}
