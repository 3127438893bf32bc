package auth

import (
	"strings"
	"testing"

	"ser/core/modules/internal/modtest"
	"ser/core/sipmsg"
)

// authorizedMsg returns a request from alice (with the From/To given)
// that proxy_authorize accepted; user is the digest username.
func authorizedMsg(t *testing.T, f *fixture, user, from, to string, extra ...string) *sipmsg.Msg {
	t.Helper()
	x := answer{Header: "Proxy-Authorization", Username: user, Realm: "example.com", Password: "secret", Nonce: f.nonce()}
	hdrs := append([]string{"X-Before: 1", x.line(), "X-After: 2"}, extra...)
	m := modtest.Request{From: from, To: to, Headers: hdrs}.Msg(t)
	if r := f.a.Authorize(m, "example.com", "subscriber", true); r != 1 {
		t.Fatalf("proxy_authorize = %d", r)
	}
	return m
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name     string
		user     string // digest username; "" = nothing authorized
		from, to string
		fn       string
		args     []any
		want     int
	}{
		{name: "check_to matches", user: "alice", to: "<sip:alice@example.com>", fn: "check_to", want: 1},
		{name: "check_to case-insensitive", user: "alice", to: "<sip:ALICE@example.com>", fn: "check_to", want: 1},
		{name: "check_to other user", user: "alice", to: "<sip:bob@example.com>", fn: "check_to", want: -1},
		{name: "check_to ignores the host", user: "alice", to: "<sip:alice@elsewhere.net>", fn: "check_to", want: 1},
		{name: "check_to with user@domain credentials", user: "alice@example.com", to: "<sip:alice@example.com>", fn: "check_to", want: 1},
		{name: "check_to no user part", user: "alice", to: "<sip:example.com>", fn: "check_to", want: -1},
		{name: "check_to without credentials", to: "<sip:alice@example.com>", fn: "check_to", want: -1},
		{name: "check_from matches", user: "alice", from: "<sip:alice@example.com>;tag=1", fn: "check_from", want: 1},
		{name: "check_from other user", user: "alice", from: "<sip:carol@example.com>;tag=1", fn: "check_from", want: -1},
		{name: "is_user", user: "alice", fn: "is_user", args: []any{"alice"}, want: 1},
		{name: "is_user is exact", user: "alice", fn: "is_user", args: []any{"Alice"}, want: -1},
		{name: "is_user whole username", user: "alice@example.com", fn: "is_user", args: []any{"alice@example.com"}, want: 1},
		{name: "is_user user part only", user: "alice@example.com", fn: "is_user", args: []any{"alice"}, want: -1},
		{name: "is_user without credentials", fn: "is_user", args: []any{"alice"}, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, false)
			f.bind("proxy_authorize", "example.com", "subscriber")
			f.attach()
			h := f.bind(tc.fn, tc.args...)
			var m *sipmsg.Msg
			if tc.user != "" {
				m = authorizedMsg(t, f, tc.user, tc.from, tc.to)
			} else {
				m = modtest.Request{From: tc.from, To: tc.to}.Msg(t)
			}
			if got, err := h(m); got != tc.want || err != nil {
				t.Fatalf("%s = %d, %v; want %d", tc.fn, got, err, tc.want)
			}
		})
	}
}

func TestConsumeCredentials(t *testing.T) {
	f := newFixture(t, nil, false)
	f.bind("proxy_authorize", "example.com", "subscriber")
	f.attach()
	consume := f.bind("consume_credentials")

	// Another realm's credentials stay; ours go; the order is kept.
	other := answer{Header: "Proxy-Authorization", Username: "alice", Realm: "upstream.net", Password: "x", Nonce: "abc"}.line()
	m := authorizedMsg(t, f, "alice", "", "", other)
	if r, _ := consume(m); r != 1 {
		t.Fatalf("consume_credentials = %d", r)
	}
	text := string(m.Bytes())
	if strings.Contains(text, `realm="example.com"`) {
		t.Fatalf("credentials still there:\n%s", text)
	}
	if !strings.Contains(text, `realm="upstream.net"`) {
		t.Fatalf("other realm's credentials removed:\n%s", text)
	}
	iVia, iBefore, iAfter, iOther := strings.Index(text, "Via:"), strings.Index(text, "X-Before"), strings.Index(text, "X-After"), strings.Index(text, "upstream.net")
	if !(iVia < iBefore && iBefore < iAfter && iAfter < iOther) {
		t.Errorf("header order changed:\n%s", text)
	}
	if m.Req.Via() == nil || m.Req.From() == nil || m.Req.CSeq() == nil {
		t.Error("parsed header references lost")
	}
	// Twice: nothing left to consume.
	if r, _ := consume(m); r != -1 {
		t.Errorf("second consume_credentials = %d", r)
	}
	// Nothing authorized.
	if r, _ := consume(modtest.Request{}.Msg(t)); r != -1 {
		t.Errorf("consume_credentials without authorization = %d", r)
	}
}
