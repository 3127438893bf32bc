package auth

import (
	"context"
	"strings"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

func TestAppendRPID(t *testing.T) {
	f := newFixture(t, map[string]any{"rpid_prefix": "<sip:", "rpid_suffix": "@example.com>;party=calling"}, false)
	f.bind("proxy_authorize", "example.com", "subscriber")
	appendDefault := f.bind("append_rpid_hf")
	appendGiven := f.bind("append_rpid_hf", "", ";screen=no")
	e164 := f.bind("is_rpid_user_e164")
	f.attach()
	if err := f.st.SetRPID(context.Background(), "alice", "example.com", "+4930123456"); err != nil {
		t.Fatal(err)
	}

	// alice has an rpid: the header is appended with the module's or
	// the call's prefix and suffix.
	m := authorizedMsg(t, f, "alice", "", "")
	if r, _ := appendDefault(m); r != 1 {
		t.Fatalf("append_rpid_hf() = %d", r)
	}
	if r, _ := appendGiven(m); r != 1 {
		t.Fatalf("append_rpid_hf(p, s) = %d", r)
	}
	var got []string
	for _, h := range m.Req.GetHeaders("Remote-Party-ID") {
		got = append(got, h.Value())
	}
	want := []string{"<sip:+4930123456@example.com>;party=calling", "+4930123456;screen=no"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Remote-Party-ID %q, want %q", got, want)
	}
	if !strings.Contains(string(m.Bytes()), "\r\nRemote-Party-ID: <sip:+4930123456@example.com>;party=calling\r\n") {
		t.Errorf("not in the forwarded text:\n%s", m.Bytes())
	}
	if r, _ := e164(m); r != 1 {
		t.Errorf("is_rpid_user_e164 = %d", r)
	}

	// bob has none (NULL): nothing appended, still true; not E.164.
	m = authorizedMsgAs(t, f, "bob", "bobpw")
	if r, _ := appendDefault(m); r != 1 || len(m.Req.GetHeaders("Remote-Party-ID")) != 0 {
		t.Errorf("append_rpid_hf without rpid = %d, headers %v", r, m.Req.GetHeaders("Remote-Party-ID"))
	}
	if r, _ := e164(m); r != -1 {
		t.Errorf("is_rpid_user_e164 without rpid = %d", r)
	}
	// Nothing authorized: nothing appended.
	m = modtest.Request{}.Msg(t)
	if r, _ := appendDefault(m); r != 1 || len(m.Req.GetHeaders("Remote-Party-ID")) != 0 {
		t.Errorf("append_rpid_hf unauthorized = %d", r)
	}
	if _, err := modtest.BindErr(Exports, f.a, f.env, "append_rpid_hf", "x"); err == nil {
		t.Error("append_rpid_hf with one argument accepted")
	}
}

func TestIsRPIDUserE164(t *testing.T) {
	for rpid, want := range map[string]int{
		"+4930123456": 1,
		"<sip:+4930123456@example.com>;party=calling":      1,
		`"Alice" <sip:+4930123456@example.com;user=phone>`: 1,
		"sip:+4930123456@example.com":                      1,
		"+12":                                              1,
		"+1":                                               -1, // too short
		"+1234567890123456":                                -1, // 16 digits
		"4930123456":                                       -1,
		"<sip:alice@example.com>":                          -1,
		"+49-30-123":                                       -1,
		"":                                                 -1,
	} {
		if got := IsRPIDUserE164(rpid); got != want {
			t.Errorf("IsRPIDUserE164(%q) = %d, want %d", rpid, got, want)
		}
	}
}

func TestRealmPrefix(t *testing.T) {
	f := newFixture(t, map[string]any{"realm_prefix": "sip."}, false)
	ch := f.bind("www_challenge", "", "0")
	m := modtest.Request{Method: "REGISTER", URI: "sip:sip.example.com", To: "<sip:alice@sip.example.com>"}.Msg(t)
	ch(m)
	_, realm, _, _, _ := f.challengeOf()
	if realm != "example.com" {
		t.Errorf("realm %q, want example.com (realm_prefix stripped)", realm)
	}
	if got := f.a.stripRealm("proxy.example.com"); got != "proxy.example.com" {
		t.Errorf("stripRealm without the prefix: %q", got)
	}
}

// authorizedMsgAs is authorizedMsg for a user with another password.
func authorizedMsgAs(t *testing.T, f *fixture, user, password string) *sipmsg.Msg {
	t.Helper()
	x := answer{Header: "Proxy-Authorization", Username: user, Realm: "example.com", Password: password, Nonce: f.nonce()}
	m := modtest.Request{Headers: []string{x.line()}}.Msg(t)
	if r := f.a.Authorize(m, "example.com", "subscriber", true); r != 1 {
		t.Fatalf("proxy_authorize = %d", r)
	}
	return m
}

func TestRetryCountRefused(t *testing.T) {
	p, ok := Exports.FindParam("retry_count")
	if !ok {
		t.Fatal("no retry_count")
	}
	if err := p.Set(New(), modtest.Int(5)); err == nil || !strings.Contains(err.Error(), "throttle_") {
		t.Errorf("retry_count: %v", err)
	}
}
