package textops

import (
	"strings"
	"testing"

	"ser/core/module"
	"ser/internal/testing/modtest"
)

func TestAppendHF(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want []string // lines at the end of the header
	}{
		// Admin guide: routing-history hints.
		{name: "admin guide hint", arg: "P-hint: USRLOC\r\n", want: []string{"P-hint: USRLOC"}},
		{name: "without CRLF", arg: "P-hint: OUTBOUND", want: []string{"P-hint: OUTBOUND"}},
		{name: "escaped CRLF left by the config lexer", arg: `P-hint: VOICEMAIL\r\n`, want: []string{"P-hint: VOICEMAIL"}},
		{name: "two headers", arg: "P-A: 1\r\nP-B: 2\r\n", want: []string{"P-A: 1", "P-B: 2"}},
		{name: "folded value", arg: "P-Long: a\r\n b\r\n", want: []string{"P-Long: a b"}},
		{name: "typed header", arg: "Route: <sip:p1.example.com;lr>\r\n", want: []string{"Route: <sip:p1.example.com;lr>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := modtest.Request{}.Msg(t)
			if got := run(t, bind(t, "append_hf", tc.arg), msg); got != 1 {
				t.Fatalf("returned %d", got)
			}
			out := string(msg.Bytes())
			hdr, _, _ := strings.Cut(out, "\r\n\r\n")
			if !strings.HasSuffix(hdr, "\r\n"+strings.Join(tc.want, "\r\n")) {
				t.Errorf("header does not end with %q:\n%s", tc.want, out)
			}
			if _, err := modtest.ParseErr(out); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
	// Route appended as a typed header is seen by the Route accessors.
	msg := modtest.Request{}.Msg(t)
	run(t, bind(t, "append_hf", "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"), msg)
	if n := len(msg.Req.GetHeaders("Route")); n != 2 || msg.Req.Route() == nil {
		t.Errorf("%d Route headers, top %v", n, msg.Req.Route())
	}
}

func TestHeaderArgsAtLoadTime(t *testing.T) {
	tests := []struct {
		fname string
		args  []any
	}{
		{"append_hf", []any{"no colon here"}},
		{"append_hf", []any{""}},
		{"append_hf", []any{"Bad Name: x"}},
		{"append_to_reply", []any{"\r\n"}},
		{"append_urihf", []any{"no header name ", "\r\n"}},
		{"remove_hf", []any{"Bad Name"}},
		{"is_present_hf", []any{""}},
	}
	for _, tc := range tests {
		t.Run(tc.fname+" "+tc.args[0].(string), func(t *testing.T) {
			inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
			if _, err := modtest.BindErr(Exports, inst, env, tc.fname, tc.args...); err == nil {
				t.Errorf("%s(%q) accepted", tc.fname, tc.args)
			}
		})
	}
}

func TestAppendURIHF(t *testing.T) {
	msg := modtest.Request{URI: "sip:bob@iptel.org"}.Msg(t)
	if err := msg.SetURI("sip:bob@192.0.2.20:5062"); err != nil {
		t.Fatal(err)
	}
	// textops README: append_urihf("CC-Diversion: ", "\r\n") — the original
	// Request-URI in the middle.
	if got := run(t, bind(t, "append_urihf", "CC-Diversion: ", "\r\n"), msg); got != 1 {
		t.Fatalf("returned %d", got)
	}
	if got := msg.Header("CC-Diversion"); got != "sip:bob@iptel.org" {
		t.Errorf("CC-Diversion = %q", got)
	}
	// A prefix and suffix around the URI.
	msg = modtest.Request{}.Msg(t)
	run(t, bind(t, "append_urihf", "Diversion: <", ">;reason=unconditional\r\n"), msg)
	if got := msg.Header("Diversion"); got != "<sip:bob@example.com>;reason=unconditional" {
		t.Errorf("Diversion = %q", got)
	}
}

func TestAppendToReply(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	msg := modtest.Request{}.Msg(t)
	for _, arg := range []string{"Foo: bar\r\n", "P-A: 1\r\nP-B: 2"} {
		if ret, _ := modtest.Bind(t, Exports, inst, env, "append_to_reply", arg)(msg); ret != 1 {
			t.Fatalf("append_to_reply(%q) returned %d", arg, ret)
		}
	}
	want := []string{"Foo: bar", "P-A: 1", "P-B: 2"}
	if strings.Join(msg.ReplyHeaders, "|") != strings.Join(want, "|") {
		t.Errorf("ReplyHeaders = %q, want %q", msg.ReplyHeaders, want)
	}
	// The request itself is unchanged; a locally built reply carries them.
	if strings.Contains(string(msg.Bytes()), "Foo:") {
		t.Error("append_to_reply changed the request")
	}
	resp := core.BuildReply(msg, 404, "Not Found", module.ReplyOpts{})
	if !strings.Contains(resp.String(), "\r\nFoo: bar\r\nP-A: 1\r\nP-B: 2\r\n") {
		t.Errorf("reply lacks the lines:\n%s", resp)
	}
}

func TestIsPresentAndRemoveHF(t *testing.T) {
	text := `INVITE sip:bob@example.com SIP/2.0
v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
f: Alice <sip:alice@example.com>;tag=9fxced76sl
t: Bob <sip:bob@example.com>
i: 3848276298220188511@example.com
CSeq: 1 INVITE
s: first
Subject: second
P-Asserted-Identity: <sip:alice@example.com>
k: 100rel
l: 0

`
	tests := []struct {
		name       string
		hf         string
		present    int
		removed    int // headers remove_hf takes away
		stillThere string
	}{
		{name: "full name of a compact header", hf: "From", present: 1, removed: 1},
		{name: "compact name of a full header", hf: "f", present: 1, removed: 1},
		{name: "case-insensitive", hf: "p-asserted-identity", present: 1, removed: 1},
		{name: "with colon", hf: "Call-ID:", present: 1, removed: 1},
		{name: "both forms removed", hf: "Subject", present: 1, removed: 2},
		{name: "supported compact", hf: "Supported", present: 1, removed: 1},
		{name: "absent", hf: "X-Nothing", present: -1, removed: 0},
		{name: "to via compact", hf: "t", present: 1, removed: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := modtest.Parse(t, text)
			if got := run(t, bind(t, "is_present_hf", tc.hf), msg); got != tc.present {
				t.Errorf("is_present_hf(%q) = %d, want %d", tc.hf, got, tc.present)
			}
			before := len(headersOf(msg).Headers())
			want := 1
			if tc.removed == 0 {
				want = -1
			}
			if got := run(t, bind(t, "remove_hf", tc.hf), msg); got != want {
				t.Errorf("remove_hf(%q) = %d, want %d", tc.hf, got, want)
			}
			if n := before - len(headersOf(msg).Headers()); n != tc.removed {
				t.Errorf("removed %d headers, want %d:\n%s", n, tc.removed, msg.Bytes())
			}
			if got := run(t, bind(t, "is_present_hf", tc.hf), msg); got != -1 {
				t.Errorf("is_present_hf(%q) after removal = %d", tc.hf, got)
			}
			if _, err := modtest.ParseErr(string(msg.Bytes())); err != nil {
				t.Errorf("message no longer parses: %v", err)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := map[string]string{
		"f": "from", "F": "from", "From": "from", "m": "contact", "i": "call-id", "l": "content-length",
		"c": "content-type", "k": "supported", "v": "via", "t": "to", "s": "subject", "X-Foo": "x-foo",
	}
	for in, want := range tests {
		if got := canonical(in); got != want {
			t.Errorf("canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderFunctionsOnReply(t *testing.T) {
	msg := modtest.Parse(t, `SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1
To: <sip:bob@example.com>;tag=x
From: <sip:alice@example.com>;tag=y
Call-ID: c1
CSeq: 1 INVITE
Server: Acme SIP 1.0
Content-Length: 0

`)
	if got := run(t, bind(t, "remove_hf", "Server"), msg); got != 1 {
		t.Fatalf("remove_hf returned %d", got)
	}
	if got := run(t, bind(t, "append_hf", "P-Relayed: yes"), msg); got != 1 {
		t.Fatalf("append_hf returned %d", got)
	}
	out := string(msg.Bytes())
	if strings.Contains(out, "Server:") || !strings.Contains(out, "\r\nP-Relayed: yes\r\n") {
		t.Errorf("reply:\n%s", out)
	}
}
