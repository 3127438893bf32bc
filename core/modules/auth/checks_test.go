package auth

import (
	"strings"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
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
