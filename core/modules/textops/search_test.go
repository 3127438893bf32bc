package textops

import (
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// bind binds fname(args…) on a fresh textops instance.
func bind(t *testing.T, fname string, args ...any) module.Handler {
	t.Helper()
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
	return modtest.Bind(t, Exports, inst, env, fname, args...)
}

func run(t *testing.T, h module.Handler, msg *sipmsg.Msg) int {
	t.Helper()
	ret, err := h(msg)
	if err != nil {
		t.Fatalf("internal error: %v", err)
	}
	return ret
}

// register is a REGISTER from a UA behind NAT (compact Contact form
// optional), for the admin guide's private-address search.
func register(contact string) string {
	return `REGISTER sip:iptel.org SIP/2.0
Via: SIP/2.0/UDP 192.168.0.10:5060;branch=z9hG4bKnashds7
Max-Forwards: 70
To: Bob <sip:bob@iptel.org>
From: Bob <sip:bob@iptel.org>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
` + contact + `
Expires: 7200
Subject: SER rocks
Content-Length: 0

`
}

func TestSearch(t *testing.T) {
	const private = `^(Contact|m): .*@(192\.168\.|10\.|172\.16)`
	tests := []struct {
		name string
		re   string
		text string
		want int
	}{
		{name: "private contact", re: private, text: register("Contact: <sip:bob@192.168.0.10:5060>"), want: 1},
		{name: "private contact compact form", re: private, text: register("m: <sip:bob@10.0.0.7>;expires=60"), want: 1},
		{name: "case-insensitive name", re: private, text: register("CONTACT: <sip:bob@172.16.3.4>"), want: 1},
		{name: "public contact", re: private, text: register("Contact: <sip:bob@195.37.77.100:5060>"), want: -1},
		// The Via carries a private address but is not a Contact line:
		// ^ anchors at line starts, . does not cross them.
		{name: "line anchored", re: `^v.*192\.168`, text: register("Contact: <sip:bob@195.37.77.100>"), want: 1},
		{name: "dot stops at line end", re: `To:.*Call-ID`, text: register("Contact: <sip:a@b>"), want: -1},
		{name: "negated class stops at line end", re: `To:[^@]*Call-ID`, text: register("Contact: <sip:a@b>"), want: -1},
		{name: "dollar at line end", re: `REGISTER\r?$`, text: register("Contact: <sip:a@b>"), want: 1},
		// Admin guide, Example 3: strangers claiming our domain.
		{name: "from our domain", re: `(f|From): .*@iptel.org`, text: register("Contact: <sip:a@b>"), want: 1},
		{name: "from our domain, compact", re: `(f|From): .*@iptel.org`,
			text: strings.Replace(register("Contact: <sip:a@b>"), "From: ", "f: ", 1), want: 1},
		// textops README: search("[Ss][Ee][Rr]").
		{name: "doc example", re: `[Ss][Ee][Rr]`, text: register("Contact: <sip:a@b>"), want: 1},
		{name: "first line is searched", re: `^register sip:iptel\.org`, text: register("Contact: <sip:a@b>"), want: 1},
		{name: "body is searched", re: `^c=IN IP4 192\.168\.`, text: modtest.Request{ContentType: "application/sdp", Body: modtest.SDP}.String(), want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, bind(t, "search", tc.re), modtest.Parse(t, tc.text)); got != tc.want {
				t.Errorf("search(%q) = %d, want %d", tc.re, got, tc.want)
			}
		})
	}
}

func TestSearchSeesReceivedText(t *testing.T) {
	msg := modtest.Request{}.Msg(t)
	appendHF := bind(t, "append_hf", "P-hint: USRLOC\r\n")
	search := bind(t, "search", "^P-hint")
	run(t, appendHF, msg)
	if got := run(t, search, msg); got != -1 {
		t.Errorf("search saw a header added after receipt (SER searches the received buffer)")
	}
	// After a textual edit, search sees the edited text.
	run(t, bind(t, "replace", "^Max-Forwards: 70", "Max-Forwards: 69"), msg)
	if got := run(t, search, msg); got != 1 {
		t.Errorf("search does not see the text after an edit")
	}
	if got := run(t, bind(t, "search", "^Max-Forwards: 69"), msg); got != 1 {
		t.Errorf("search does not see the replaced value")
	}
}

func TestRegexAtLoadTime(t *testing.T) {
	tests := []struct {
		fname string
		args  []any
	}{
		{"search", []any{"(unclosed"}},
		{"search", []any{`(a)\1`}},
		{"search_append", []any{"[z-a]", "x"}},
		{"replace", []any{"*", "x"}},
		{"replace_all", []any{"a{2,1}", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.fname+" "+tc.args[0].(string), func(t *testing.T) {
			inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
			if _, err := modtest.BindErr(Exports, inst, env, tc.fname, tc.args...); err == nil {
				t.Errorf("bad regular expression %q accepted", tc.args[0])
			}
		})
	}
}
