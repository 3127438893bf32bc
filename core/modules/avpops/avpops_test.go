package avpops

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

type fixture struct {
	t   *testing.T
	a   *Module
	env *module.Env
	st  *store.Store
	mc  *modtest.Core
}

// newFixture loads avpops with params over a fresh SQLite store holding
// bob@example.com's callfwd and fwdbusy and a uuid-keyed row.
func newFixture(t *testing.T, params map[string]any) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ser.db"), store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, p := range []store.Preference{
		{Username: "bob", Domain: "example.com", Attribute: "callfwd", Value: "sip:carol@example.net"},
		{Username: "bob", Domain: "example.com", Attribute: "fwdbusy", Value: "sip:vm@example.net"},
		{Username: "bob", Domain: "example.com", Attribute: "7", Value: "25", Type: typeNameInt | typeValInt},
		{Username: "bob", Domain: "other.org", Attribute: "callfwd", Value: "sip:other@example.net"},
		{Username: "", Domain: "example.com", Attribute: "lang", Value: "de"},
		{UUID: "u-1", Attribute: "email", Value: "x@example.com"},
	} {
		if err := st.SetPreference(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mc := modtest.NewCore()
	env := modtest.Env(t, mc, nil)
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, a: inst.(*Module), env: env, st: st, mc: mc}
}

// bind binds a function; call start after the last bind.
func (f *fixture) bind(name string, args ...any) module.Handler {
	f.t.Helper()
	return modtest.Bind(f.t, Exports, f.a, f.env, name, args...)
}

func (f *fixture) start() {
	f.t.Helper()
	if err := f.a.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func run(t *testing.T, h module.Handler, m *sipmsg.Msg) int {
	t.Helper()
	r, err := h(m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCallForwardRecipe(t *testing.T) {
	f := newFixture(t, map[string]any{"use_domain": 1})
	load := f.bind("avp_db_load", "$ruri/username", "s:callfwd")
	push := f.bind("avp_pushto", "$ruri", "s:callfwd")
	f.start()
	m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
	if r := run(t, load, m); r != 1 {
		t.Fatalf("avp_db_load = %d", r)
	}
	if r := run(t, push, m); r != 1 {
		t.Fatalf("avp_pushto = %d", r)
	}
	if got := m.URIString(); got != "sip:carol@example.net" {
		t.Errorf("R-URI %s", got)
	}
	if n := len(m.AVPs().Values(sipmsg.StrName("callfwd"))); n != 1 {
		t.Errorf("loaded %d callfwd values, want 1 (use_domain)", n)
	}
	// Without use_domain every domain's row of the user loads.
	g := newFixture(t, nil)
	gload := g.bind("avp_db_load", "$ruri/username", "s:callfwd")
	g.start()
	m = modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
	if r := run(t, gload, m); r != 1 || len(m.AVPs().Values(sipmsg.StrName("callfwd"))) != 2 {
		t.Errorf("without use_domain: %d, %v", r, m.AVPs().Values(sipmsg.StrName("callfwd")))
	}
	none := modtest.Request{URI: "sip:dave@example.com"}.Msg(t)
	if r := run(t, load, none); r != -1 || none.AVPs() != nil {
		t.Errorf("no forward: avp_db_load = %d, avps %v", r, none.AVPs())
	}
	if r := run(t, push, none); r != -1 {
		t.Errorf("avp_pushto without the AVP = %d", r)
	}
}

func TestDBLoadSources(t *testing.T) {
	f := newFixture(t, map[string]any{"use_domain": 1, "avp_aliases": "mail=s:email;uid=s:uid"})
	tests := []struct {
		src, name string
		want      int
		check     func(m *sipmsg.Msg) string
	}{
		{"$ruri", "s:callfwd", 1, func(m *sipmsg.Msg) string {
			if vs := m.AVPs().Values(sipmsg.StrName("callfwd")); len(vs) != 1 || vs[0].Str != "sip:carol@example.net" {
				return "use_domain: want only example.com's row"
			}
			return ""
		}},
		{"$ruri", "", 1, func(m *sipmsg.Msg) string {
			if m.AVPs().Len() != 3 {
				return "all of bob's AVPs"
			}
			if v, ok := m.AVPs().First(sipmsg.IntName(7)); !ok || v.IsStr || v.Int != 25 {
				return "i:7 should be the integer 25"
			}
			return ""
		}},
		{"$ruri", "i:", 1, func(m *sipmsg.Msg) string {
			if m.AVPs().Len() != 1 {
				return "only integer-named rows"
			}
			return ""
		}},
		{"$ruri", "s:7", -1, nil}, // the row's name is an integer
		{"$ruri/domain", "s:lang", 1, nil},
		{"$to", "s:fwdbusy", 1, nil},
		{"$from", "s:callfwd", -1, nil},
		{"u-1", "s:email", 1, nil},
		{"u-1", "$mail", 1, nil},
	}
	var hs []module.Handler
	for _, tc := range tests {
		hs = append(hs, f.bind("avp_db_load", tc.src, tc.name))
	}
	f.start()
	for i, tc := range tests {
		m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
		if r := run(t, hs[i], m); r != tc.want {
			t.Errorf("avp_db_load(%q, %q) = %d, want %d", tc.src, tc.name, r, tc.want)
			continue
		}
		if tc.check != nil {
			if msg := tc.check(m); msg != "" {
				t.Errorf("avp_db_load(%q, %q): %s", tc.src, tc.name, msg)
			}
		}
	}
	// The uuid from an AVP's value.
	byAVP := f.bind("avp_db_load", "$uid", "s:email")
	m := modtest.Request{}.Msg(t)
	if r := run(t, byAVP, m); r != -1 {
		t.Errorf("uuid AVP unset: %d", r)
	}
	m.AddAVP(sipmsg.StrName("uid"), sipmsg.StrValue("u-1"))
	if r := run(t, byAVP, m); r != 1 {
		t.Errorf("uuid from AVP: %d", r)
	}
}

func TestDBStoreDelete(t *testing.T) {
	f := newFixture(t, map[string]any{"use_domain": 1})
	write := f.bind("avp_write", "sip:new@example.net", "s:fwdnoanswer")
	writeInt := f.bind("avp_write", "i:30", "i:9")
	store := f.bind("avp_db_store", "$ruri", "s:fwdnoanswer")
	storeAll := f.bind("avp_db_store", "$ruri", "")
	load := f.bind("avp_db_load", "$ruri", "")
	del := f.bind("avp_db_delete", "$ruri", "s:fwdnoanswer")
	f.start()
	ctx := context.Background()
	m := modtest.Request{URI: "sip:alice@example.com"}.Msg(t)
	run(t, write, m)
	run(t, writeInt, m)
	if r := run(t, store, m); r != 1 {
		t.Fatalf("avp_db_store = %d", r)
	}
	if r := run(t, store, m); r != -1 {
		t.Errorf("storing again what is stored = %d", r)
	}
	if r := run(t, storeAll, m); r != 1 {
		t.Errorf("avp_db_store all = %d (i:9 remained)", r)
	}
	ps, _ := f.st.Preferences(ctx, "alice", "example.com")
	if len(ps) != 2 || ps[0].Attribute != "9" || ps[0].Value != "30" || ps[0].Type != 3 ||
		ps[1].Attribute != "fwdnoanswer" || ps[1].Value != "sip:new@example.net" || ps[1].Type != 0 {
		t.Errorf("stored rows %+v", ps)
	}
	m2 := modtest.Request{URI: "sip:alice@example.com"}.Msg(t)
	if r := run(t, load, m2); r != 1 || m2.AVPs().Len() != 2 {
		t.Errorf("reload = %d, %d AVPs", r, m2.AVPs().Len())
	}
	if v, _ := m2.AVPs().First(sipmsg.IntName(9)); v.IsStr || v.Int != 30 {
		t.Errorf("i:9 reloaded as %+v", v)
	}
	if r := run(t, del, m2); r != 1 {
		t.Errorf("avp_db_delete = %d", r)
	}
	if ps, _ := f.st.Preferences(ctx, "alice", "example.com"); len(ps) != 1 {
		t.Errorf("after delete %+v", ps)
	}
}

func TestWriteSources(t *testing.T) {
	f := newFixture(t, nil)
	m := modtest.Request{URI: "sip:bob@example.com;user=phone", Headers: []string{"X-Foo:  bar  "}}.Msg(t, modtest.From("192.0.2.7:5060"))
	for _, tc := range []struct{ src, want string }{
		{"$ruri", "sip:bob@example.com;user=phone"},
		{"$ruri/username", "bob"},
		{"$ruri/domain", "example.com"},
		{"$from", "sip:alice@example.com"},
		{"$to/username", "bob"},
		{"$src_ip", "192.0.2.7"},
		{"$hdr[X-Foo]", "bar"},
		{"$hdr(x-foo)", "bar"},
		{"s:text", "text"},
		{"plain", "plain"},
		{"i:42", "42"},
	} {
		name := "s:" + strings.NewReplacer("$", "", "/", "_", "[", "", "]", "", ":", "").Replace(tc.src)
		h := f.bind("avp_write", tc.src, name)
		if r := run(t, h, m); r != 1 {
			t.Errorf("avp_write(%q) = %d", tc.src, r)
			continue
		}
		v, _ := m.AVPs().First(sipmsg.StrName(name[2:]))
		if v.String() != tc.want {
			t.Errorf("avp_write(%q) wrote %q, want %q", tc.src, v.String(), tc.want)
		}
	}
	if v, _ := m.AVPs().First(sipmsg.StrName("i42")); v.IsStr {
		t.Error("i:42 written as a string")
	}
	if r := run(t, f.bind("avp_write", "$hdr[X-None]", "s:x"), m); r != -1 {
		t.Errorf("missing header = %d", r)
	}
}

func TestPushTo(t *testing.T) {
	f := newFixture(t, nil)
	m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
	m.AddAVP(sipmsg.StrName("u"), sipmsg.StrValue("carol"))
	m.AddAVP(sipmsg.StrName("d"), sipmsg.StrValue("example.net"))
	m.AddAVP(sipmsg.StrName("hop"), sipmsg.StrValue("sip:10.0.0.1:5070"))
	m.AddAVP(sipmsg.IntName(5), sipmsg.IntValue(123))
	for _, c := range [][2]string{{"$ruri/username", "s:u"}, {"$ruri/domain", "s:d"}, {"$duri", "s:hop"}, {"X-Num", "i:5"}, {"$hdr(X-Other)", "s:u"}, {"$X-Reply/reply", "i:5"}} {
		if r := run(t, f.bind("avp_pushto", c[0], c[1]), m); r != 1 {
			t.Errorf("avp_pushto(%q, %q) = %d", c[0], c[1], r)
		}
	}
	if m.URIString() != "sip:carol@example.net" || m.DstURI != "sip:10.0.0.1:5070" {
		t.Errorf("R-URI %s, dst %s", m.URIString(), m.DstURI)
	}
	if h := m.Header("X-Other"); h != "carol" {
		t.Errorf("X-Other %q", h)
	}
	if h := m.Header("X-Num"); h != "123" {
		t.Errorf("X-Num %q", h)
	}
	if len(m.ReplyHeaders) != 1 || m.ReplyHeaders[0] != "X-Reply: 123" {
		t.Errorf("reply headers %q", m.ReplyHeaders)
	}
	// /g: every value; the earlier ones become branches.
	m.AddAVP(sipmsg.StrName("fwd"), sipmsg.StrValue("sip:a@x"))
	m.AddAVP(sipmsg.StrName("fwd"), sipmsg.StrValue("sip:b@x"))
	if r := run(t, f.bind("avp_pushto", "$ruri", "s:fwd/g"), m); r != 1 {
		t.Fatal(r)
	}
	if m.URIString() != "sip:a@x" || len(m.Branches) != 1 || m.Branches[0].URI != "sip:b@x" {
		t.Errorf("after /g: R-URI %s, branches %+v", m.URIString(), m.Branches)
	}
}

func TestCheckDeleteCopy(t *testing.T) {
	f := newFixture(t, map[string]any{"avp_aliases": "limit=i:3"})
	m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t, modtest.From("192.0.2.7:5060"))
	m.AddAVP(sipmsg.IntName(1), sipmsg.IntValue(10))
	m.AddAVP(sipmsg.IntName(1), sipmsg.IntValue(20))
	m.AddAVP(sipmsg.IntName(3), sipmsg.IntValue(15))
	m.AddAVP(sipmsg.StrName("who"), sipmsg.StrValue("SIP:BOB@example.com"))
	m.AddAVP(sipmsg.StrName("ip"), sipmsg.StrValue("192.0.2.7"))
	for _, tc := range []struct {
		name, op string
		want     int
	}{
		{"i:1", "eq/i:20", 1},
		{"i:1", "eq/i:10", -1},
		{"i:1", "eq/i:10/g", 1},
		{"i:1", "gt/i:19", 1},
		{"i:1", "lt/$limit", -1},
		{"i:1", "lt/$limit/g", 1},
		{"s:who", "eq/$ruri", -1},
		{"s:who", "eq/$ruri/i", 1},
		{"s:who", "re/^sip:bob@", 1},
		{"s:who", "fm/*@example.com", 1},
		{"s:who", "fm/*@example.net", -1},
		{"s:ip", "eq/$src_ip", 1},
		{"s:who", "eq/i:1", -1}, // types differ
		{"s:none", "eq/x", -1},
	} {
		if r := run(t, f.bind("avp_check", tc.name, tc.op), m); r != tc.want {
			t.Errorf("avp_check(%q, %q) = %d, want %d", tc.name, tc.op, r, tc.want)
		}
	}
	if r := run(t, f.bind("is_avp_set", "s:who"), m); r != 1 {
		t.Error("is_avp_set")
	}
	if r := run(t, f.bind("avp_copy", "i:1", "s:copy/g"), m); r != 1 {
		t.Error("avp_copy")
	}
	if vs := m.AVPs().Values(sipmsg.StrName("copy")); len(vs) != 2 || vs[0].Int != 20 {
		t.Errorf("copied %+v", vs)
	}
	if r := run(t, f.bind("avp_copy", "s:copy", "s:moved/d"), m); r != 1 || len(m.AVPs().Values(sipmsg.StrName("copy"))) != 1 {
		t.Error("avp_copy /d")
	}
	if r := run(t, f.bind("avp_delete", "i:1"), m); r != 1 || len(m.AVPs().Values(sipmsg.IntName(1))) != 1 {
		t.Error("avp_delete one")
	}
	if r := run(t, f.bind("avp_delete", "i:"), m); r != 1 || m.AVPs().Len() != 4 {
		t.Errorf("avp_delete i: left %d", m.AVPs().Len())
	}
	if r := run(t, f.bind("avp_print"), m); r != 1 {
		t.Error("avp_print")
	}
	if r := run(t, f.bind("avp_delete", ""), m); r != 1 || m.AVPs().Len() != 0 {
		t.Error("avp_delete all")
	}
	if r := run(t, f.bind("is_avp_set", "s:who"), m); r != -1 {
		t.Error("is_avp_set after delete")
	}
}

func TestDBScheme(t *testing.T) {
	f := newFixture(t, map[string]any{"db_scheme": "mail:table=subscriber;value_col=email_address;value_type=string", "use_domain": 1})
	ctx := context.Background()
	if err := f.st.AddSubscriber(ctx, store.Subscriber{Username: "bob", Domain: "example.com", Password: "pw", Email: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	h := f.bind("avp_db_load", "$ruri", "s:email/$mail")
	f.start()
	m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
	if r := run(t, h, m); r != 1 {
		t.Fatalf("load through scheme = %d", r)
	}
	if v, _ := m.AVPs().First(sipmsg.StrName("email")); v.Str != "bob@example.com" {
		t.Errorf("email %+v", v)
	}
}

func TestFixupErrors(t *testing.T) {
	f := newFixture(t, nil)
	for _, c := range []struct {
		fn   string
		args []any
		want string
	}{
		{"avp_db_load", []any{"$nope", "s:x"}, "unknown source"},
		{"avp_db_load", []any{"$ruri/user", "s:x"}, "unknown URI part"},
		{"avp_db_load", []any{"$ruri", "s:x/$nosuch"}, "not defined"},
		{"avp_db_store", []any{"$ruri", "s:x/$s"}, "only avp_db_load"},
		{"avp_db_load", []any{"$ruri", "s:x/bad-table"}, "bad table"},
		{"avp_write", []any{"$ruri", ""}, "name is required"},
		{"avp_write", []any{"$bogus", "s:x"}, "unknown variable"},
		{"avp_write", []any{"i:abc", "s:x"}, "not an integer"},
		{"avp_pushto", []any{"$ruri/port", "s:x"}, "unknown URI part"},
		{"avp_pushto", []any{"$hdr(X", "s:x"}, "bad destination"},
		{"avp_pushto", []any{"$ruri", "s:x/q"}, "unknown flag"},
		{"avp_check", []any{"s:x", "ne/1"}, "unknown operation"},
		{"avp_check", []any{"s:x", "re/i:1"}, "needs a string"},
		{"avp_check", []any{"s:x", "re/(/g"}, "bad regular expression"},
		{"avp_check", []any{"s:x", "eq/x/z"}, "unknown flag"},
		{"avp_delete", []any{"$undefined"}, "unknown AVP alias"},
		{"avp_copy", []any{"s:a", "s:b/x"}, "unknown flag"},
		{"is_avp_set", []any{"i:x"}, "invalid AVP id"},
	} {
		_, err := modtest.BindErr(Exports, f.a, f.env, c.fn, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s%v: %v, want %q", c.fn, c.args, err, c.want)
		}
	}
	for _, p := range []map[string]any{
		{"avp_aliases": "a=i:1;a=i:2"}, {"avp_aliases": "bad"}, {"db_scheme": "x:table=t;foo=bar"},
		{"db_scheme": "x:value_type=float"}, {"db_scheme": "noscheme"}, {"avp_table": "a b"},
	} {
		if _, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), p); err == nil {
			t.Errorf("modparams %v accepted", p)
		}
	}
}

func TestStartChecksTable(t *testing.T) {
	f := newFixture(t, map[string]any{"value_column": "nosuch"})
	f.bind("avp_db_load", "$ruri", "s:x")
	if err := f.a.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("Start with a missing column: %v", err)
	}
}

// TestAVPModule: the SER 0.9-era "avp" module's functions, on the same
// AVPs avpops sees.
func TestAVPModule(t *testing.T) {
	f := newFixture(t, nil)
	m := modtest.Request{URI: "sip:bob@example.com"}.Msg(t)
	m.SetFlag(3)
	for _, c := range []struct {
		fn   string
		args []any
		want int
	}{
		{"is_sattr_set", []any{"fwd"}, -1},
		{"set_sattr", []any{"fwd", "sip:carol@example.net"}, 1},
		{"set_iattr", []any{"limit", 5}, 1},
		{"flags2attr", nil, 1},
		{"uri2attr", []any{"orig"}, 1},
		{"is_sattr_set", []any{"fwd"}, 1},
		{"avp_exists", []any{"limit", "5"}, 1},
		{"avp_exists", []any{"limit", "6"}, -1},
		{"avp_exists", []any{"fwd", "sip:carol@example.net"}, 1},
		{"print_sattr", []any{"fwd"}, 1},
		{"print_sattr", []any{"none"}, -1},
		{"attr2uri", []any{"fwd"}, 1},
	} {
		if r := run(t, f.bind(c.fn, c.args...), m); r != c.want {
			t.Errorf("%s%v = %d, want %d", c.fn, c.args, r, c.want)
		}
	}
	if m.URIString() != "sip:carol@example.net" {
		t.Errorf("attr2uri: R-URI %s", m.URIString())
	}
	if v, _ := m.AVPs().First(sipmsg.StrName("flags")); v.Int != 8 {
		t.Errorf("flags2attr = %+v", v)
	}
	if v, _ := m.AVPs().First(sipmsg.StrName("orig")); v.Str != "sip:bob@example.com" {
		t.Errorf("uri2attr = %+v", v)
	}
	// avpops reads what avp wrote.
	if r := run(t, f.bind("avp_check", "s:limit", "eq/i:5"), m); r != 1 {
		t.Errorf("avp_check on set_iattr's AVP = %d", r)
	}
	if _, err := modtest.BindErr(Exports, f.a, f.env, "set_iattr", "x", "abc"); err == nil {
		t.Error("set_iattr with a non-number accepted")
	}
}
