package auth

import (
	"context"
	"testing"

	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// TestAVPColumns: auth_db's avps_column_int / avps_column_str load the
// authorized subscriber's columns into AVPs named after them; empty and
// NULL columns add nothing, and a failed authorization adds nothing.
func TestAVPColumns(t *testing.T) {
	f := newFixture(t, map[string]any{"avps_column_int": "domn", "avps_column_str": "email_address|uuid|rpid"}, false)
	f.bind("proxy_authorize", "example.com", "subscriber")
	f.attach()
	ctx := context.Background()
	if _, err := f.st.GenericUpdate(ctx, "subscriber", []store.Cond{
		{Col: "domn", Op: "=", Val: store.Value{Kind: store.KindInt, Int: 7}},
		{Col: "email_address", Op: "=", Val: store.Value{Str: "alice@example.com"}},
		{Col: "uuid", Op: "=", Val: store.Value{Str: "u-alice"}},
	}, []store.Cond{{Col: "username", Op: "=", Val: store.Value{Str: "alice"}}}); err != nil {
		t.Fatal(err)
	}
	m := authorizedMsg(t, f, "alice", "", "")
	if v, ok := m.AVPs().First(sipmsg.StrName("domn")); !ok || v.IsStr || v.Int != 7 {
		t.Errorf("domn = %+v %v", v, ok)
	}
	for name, want := range map[string]string{"email_address": "alice@example.com", "uuid": "u-alice"} {
		if v, ok := m.AVPs().First(sipmsg.StrName(name)); !ok || !v.IsStr || v.Str != want {
			t.Errorf("%s = %+v %v", name, v, ok)
		}
	}
	if _, ok := m.AVPs().First(sipmsg.StrName("rpid")); ok || m.AVPs().Len() != 3 {
		t.Errorf("NULL rpid made an AVP: %d AVPs", m.AVPs().Len())
	}
	bob := authorizedMsgAs(t, f, "bob", "bobpw")
	if bob.AVPs().Len() != 0 {
		t.Errorf("bob's empty columns made %d AVPs", bob.AVPs().Len())
	}
	x := answer{Header: "Proxy-Authorization", Username: "alice", Realm: "example.com", Password: "wrong", Nonce: f.nonce()}
	bad := modtest.Request{Headers: []string{x.line()}}.Msg(t)
	if r := f.a.Authorize(bad, "example.com", "subscriber", true); r == 1 || bad.AVPs() != nil {
		t.Errorf("failed authorization = %d with AVPs %v", r, bad.AVPs())
	}

	for _, v := range []string{"email address", "a|b;c"} {
		if _, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), map[string]any{"avps_column_str": v}); err == nil {
			t.Errorf("avps_column_str %q accepted", v)
		}
	}
	// A column that does not exist is found at start-up.
	g := newFixture(t, map[string]any{"avps_column_str": "nosuch"}, false)
	g.bind("proxy_authorize", "example.com", "subscriber")
	if err := g.a.UseStore(ctx, g.st); err == nil {
		t.Error("a missing avps column passed the start-up check")
	}
}
