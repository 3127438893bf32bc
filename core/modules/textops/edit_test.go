package textops

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/modtest"
)

func TestEdits(t *testing.T) {
	subj := modtest.Request{Headers: []string{"Subject: ser rocks", "X-Note: ser ser ser"}}
	tests := []struct {
		name     string
		fname    string
		args     []any
		req      modtest.Request
		want     int
		contains []string // lines (without CRLF) expected afterwards
		absent   []string
	}{
		{
			// textops README: search_append("[Ss]er", " blabla").
			name: "search_append doc example", fname: "search_append", args: []any{"[Ss]er", " blabla"}, req: subj,
			want: 1, contains: []string{"Subject: ser blabla rocks", "X-Note: ser ser ser"},
		},
		{
			name: "search_append no match", fname: "search_append", args: []any{"nomatch", "x"}, req: subj, want: -1,
		},
		{
			// textops README: replace("ser", "Sip Express Router").
			name: "replace doc example", fname: "replace", args: []any{"ser", "Sip Express Router"}, req: subj,
			want: 1, contains: []string{"Subject: Sip Express Router rocks", "X-Note: ser ser ser"},
		},
		{
			name: "replace is case-insensitive", fname: "replace", args: []any{"SER ROCKS", "SER rules"}, req: subj,
			want: 1, contains: []string{"Subject: SER rules"},
		},
		{
			name: "replace_all", fname: "replace_all", args: []any{"ser", "SER"}, req: subj,
			want: 1, contains: []string{"Subject: SER rocks", "X-Note: SER SER SER"},
		},
		{
			name: "replace_all no match", fname: "replace_all", args: []any{"^X-None", "x"}, req: subj, want: -1,
		},
		{
			// The first line is never edited, even when it matches.
			name: "first line untouched", fname: "replace_all", args: []any{"sip:bob@example\\.com", "sip:carol@example.net"},
			want: 1, contains: []string{"INVITE sip:bob@example.com SIP/2.0", `To: "Bob" <sip:carol@example.net>`},
		},
		{
			name: "subst with back references", fname: "subst", args: []any{`/^(Subject:) (.*) rocks/\1 \2 rolls/`}, req: subj,
			want: 1, contains: []string{"Subject: ser rolls"},
		},
		{
			name: "subst is case-sensitive", fname: "subst", args: []any{`/SER/X/`}, req: subj, want: -1,
		},
		{
			name: "subst flag i", fname: "subst", args: []any{`/SER/X/i`}, req: subj,
			want: 1, contains: []string{"Subject: X rocks", "X-Note: ser ser ser"},
		},
		{
			name: "subst flag g", fname: "subst", args: []any{`/ser/X/g`}, req: subj,
			want: 1, contains: []string{"Subject: X rocks", "X-Note: X X X"},
		},
		{
			name: "subst \\u and \\0", fname: "subst", args: []any{`/^X-Note: [^\r]*/X-Note: \u (was \0)/`}, req: subj,
			want: 1, contains: []string{"X-Note: sip:bob@example.com (was X-Note: ser ser ser)"},
		},
		{
			name: "subst other separator and escapes", fname: "subst", args: []any{`#rocks#a\#b\\c#`}, req: subj,
			want: 1, contains: []string{`Subject: ser a#b\c`},
		},
		{
			name: "subst adds a header line", fname: "subst", args: []any{`/^(Subject: [^\r]*)/\1\r\nP-Added: yes/`}, req: subj,
			want: 1, contains: []string{"Subject: ser rocks", "P-Added: yes"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.req.Msg(t)
			before := string(msg.Bytes())
			got := run(t, bind(t, tc.fname, tc.args...), msg)
			if got != tc.want {
				t.Fatalf("%s returned %d, want %d", tc.fname, got, tc.want)
			}
			after := string(msg.Bytes())
			if tc.want < 0 && after != before {
				t.Errorf("message changed without a match:\n%s", after)
			}
			lines := strings.Split(after, "\r\n")
			for _, w := range tc.contains {
				if !hasLine(lines, w) {
					t.Errorf("message lacks line %q:\n%s", w, after)
				}
			}
			if string(msg.Raw) != after && tc.want > 0 {
				t.Errorf("Raw not updated after the edit")
			}
		})
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimRight(l, "\r") == want {
			return true
		}
	}
	return false
}

// TestSubstBodyKeepsContentLength rewrites the SDP body (the classic
// NAT helper use of subst) and checks Content-Length follows.
func TestSubstBodyKeepsContentLength(t *testing.T) {
	msg := modtest.Request{ContentType: "application/sdp", Body: modtest.SDP}.Msg(t)
	h := bind(t, "subst", `/192\.168\.0\.10/203.0.113.200/g`)
	if got := run(t, h, msg); got != 1 {
		t.Fatalf("subst returned %d", got)
	}
	body := string(msg.Req.Body())
	want := strings.ReplaceAll(modtest.SDP, "192.168.0.10", "203.0.113.200")
	if body != want {
		t.Errorf("body:\n%q\nwant:\n%q", body, want)
	}
	if cl := msg.Req.ContentLength(); cl == nil || int(*cl) != len(want) {
		t.Errorf("Content-Length = %v, want %d", cl, len(want))
	}
	if !strings.Contains(string(msg.Bytes()), "\r\nContent-Length: "+strconv.Itoa(len(want))+"\r\n") {
		t.Errorf("wire Content-Length wrong:\n%s", msg.Bytes())
	}
	// Shrinking works too.
	if got := run(t, bind(t, "replace", `^a=rtpmap:0 PCMU/8000\r\n`, ""), msg); got != 1 {
		t.Fatalf("replace returned %d", got)
	}
	want = strings.ReplaceAll(want, "a=rtpmap:0 PCMU/8000\r\n", "")
	if string(msg.Req.Body()) != want || int(*msg.Req.ContentLength()) != len(want) {
		t.Errorf("after shrinking: body %q length %v", msg.Req.Body(), *msg.Req.ContentLength())
	}
}

func TestEditKeepsRewrittenURIAndAddedHeaders(t *testing.T) {
	msg := modtest.Request{Headers: []string{"Subject: ser"}}.Msg(t)
	if err := msg.SetURI("sip:bob@192.0.2.20:5062"); err != nil {
		t.Fatal(err)
	}
	run(t, bind(t, "append_hf", "P-hint: USRLOC"), msg)
	run(t, bind(t, "replace", "^Subject: ser", "Subject: SER"), msg)
	out := string(msg.Bytes())
	if !strings.HasPrefix(out, "INVITE sip:bob@192.0.2.20:5062 SIP/2.0\r\n") || !strings.Contains(out, "\r\nP-hint: USRLOC\r\n") ||
		!strings.Contains(out, "\r\nSubject: SER\r\n") {
		t.Errorf("edit lost earlier changes:\n%s", out)
	}
	if msg.OrigURI().String() != "sip:bob@example.com" {
		t.Errorf("original URI lost: %s", msg.OrigURI())
	}
}

func TestEditReply(t *testing.T) {
	msg := modtest.Parse(t, `SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1
To: <sip:bob@example.com>;tag=x
From: <sip:alice@example.com>;tag=y
Call-ID: c1
CSeq: 1 INVITE
Contact: <sip:bob@192.168.1.5:5062>
Content-Length: 0

`)
	if got := run(t, bind(t, "subst", `/^(Contact: <sip:bob@)192\.168\.1\.5:5062>/\1198.51.100.9:40000>/`), msg); got != 1 {
		t.Fatalf("subst returned %d", got)
	}
	if c := msg.Resp.Contact(); c == nil || c.Address.Host != "198.51.100.9" || c.Address.Port != 40000 {
		t.Errorf("Contact after subst: %v", c)
	}
}

func TestSubstURI(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		uri   string
		want  int
		after string
	}{
		{name: "pstn gateway", expr: `/^sip:([0-9]+)@.*$/sip:\1@gw.example.com/`, uri: "sip:4930123@iptel.org",
			want: 1, after: "sip:4930123@gw.example.com"},
		{name: "no match", expr: `/^sip:([0-9]+)@.*$/sip:\1@gw.example.com/`, uri: "sip:bob@iptel.org",
			want: -1, after: "sip:bob@iptel.org"},
		{name: "case-insensitive with i", expr: `/IPTEL\.ORG/example.com/i`, uri: "sip:bob@iptel.org",
			want: 1, after: "sip:bob@example.com"},
		{name: "strip prefix", expr: `/^sip:00/sip:+/`, uri: "sip:004930123@iptel.org",
			want: 1, after: "sip:+4930123@iptel.org"},
		{name: "add transport", expr: `/$/;transport=tcp/`, uri: "sip:bob@iptel.org",
			want: 1, after: "sip:bob@iptel.org;transport=tcp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := modtest.Request{URI: tc.uri}.Msg(t)
			if got := run(t, bind(t, "subst_uri", tc.expr), msg); got != tc.want {
				t.Fatalf("subst_uri returned %d, want %d", got, tc.want)
			}
			if msg.URIString() != tc.after {
				t.Errorf("R-URI = %q, want %q", msg.URIString(), tc.after)
			}
		})
	}
	// A substitution that makes the URI unparsable is an error, the URI
	// stays.
	msg := modtest.Request{}.Msg(t)
	h := bind(t, "subst_uri", "/$/:abc/")
	if ret, err := h(msg); ret != -1 || err == nil || msg.URIString() != "sip:bob@example.com" {
		t.Errorf("bad result: %d %v %s", ret, err, msg.URIString())
	}
}

func TestParseSubstErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"too short", "/a", "too short"},
		{"backslash separator", `\a\b\`, "invalid separator"},
		{"no separator after re", "/abc", "no separator"},
		{"no separator after replacement", "/a/b", "missing separator"},
		{"unknown flag", "/a/b/x", "unknown flag"},
		{"bad re", "/(a/b/", "bad regular expression"},
		{"missing subexpression", `/(a)/\2/`, "missing subexpression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSubst(tc.expr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseSubst(%q) error = %v, want %q", tc.expr, err, tc.want)
			}
		})
	}
}

// TestDollarBeforeLF documents POSIX REG_NEWLINE semantics on SIP's CRLF
// lines: "$" matches before the LF, so ".*$" takes the CR along.
func TestDollarBeforeLF(t *testing.T) {
	se, err := parseSubst(`/^a: (.*)$/[\1]/`)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := se.apply([]byte("a: 1\r\nb: 2\r\n"), "")
	if string(out) != "[1\r]\nb: 2\r\n" {
		t.Errorf("got %q", out)
	}
}

func TestSubstFlagS(t *testing.T) {
	// Without s, . does not cross lines; with s it does.
	text := []byte("a: 1\r\nb: 2\r\n")
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{`/1.*2/x/`, false},
		{`/1.*2/x/s`, true},
	} {
		se, err := parseSubst(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := se.apply(text, ""); ok != tc.ok {
			t.Errorf("%s matched = %v, want %v", tc.expr, ok, tc.ok)
		}
	}
}

func TestFixContentLength(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"grown body", "INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\n\r\nabcd", "INVITE sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd"},
		{"compact form", "INVITE sip:a@b SIP/2.0\r\nl:10\r\nX: y\r\n\r\nab", "INVITE sip:a@b SIP/2.0\r\nl: 2\r\nX: y\r\n\r\nab"},
		{"no body", "INVITE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\n", "INVITE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"},
		{"no header", "INVITE sip:a@b SIP/2.0\r\nX: y\r\n\r\nab", "INVITE sip:a@b SIP/2.0\r\nX: y\r\n\r\nab"},
		{"body mentions content-length", "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\nContent-Length: 99\r\n",
			"SIP/2.0 200 OK\r\nContent-Length: 20\r\n\r\nContent-Length: 99\r\n"},
		{"lf only", "INVITE sip:a@b SIP/2.0\nContent-Length: 0\n\nabc", "INVITE sip:a@b SIP/2.0\nContent-Length: 3\n\nabc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(FixContentLength([]byte(tc.in))); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSubstUser: subst_user works on the user part of the R-URI only.
func TestSubstUser(t *testing.T) {
	for _, tc := range []struct {
		expr, uri string
		want      int
		after     string
	}{
		{`/^00/+/`, "sip:004930123@iptel.org;user=phone", 1, "sip:+4930123@iptel.org;user=phone"},
		{`/^([0-9]+)$/9\1/`, "sip:123:pw@iptel.org", 1, "sip:9123:pw@iptel.org"},
		{`/^bob$//`, "sip:bob:pw@iptel.org", 1, "sip:iptel.org"},
		{`/^$/voicemail/`, "sip:iptel.org", 1, "sip:voicemail@iptel.org"},
		{`/^[0-9]+$/x/`, "sip:bob@iptel.org", -1, "sip:bob@iptel.org"},
	} {
		msg := modtest.Request{URI: tc.uri}.Msg(t)
		if got := run(t, bind(t, "subst_user", tc.expr), msg); got != tc.want || msg.URIString() != tc.after {
			t.Errorf("subst_user(%s) on %s: %d %s, want %d %s", tc.expr, tc.uri, got, msg.URIString(), tc.want, tc.after)
		}
	}
}

// TestAppendTime: append_time puts SER's Date header on the local reply.
func TestAppendTime(t *testing.T) {
	msg := modtest.Request{}.Msg(t)
	before := time.Now().UTC().Truncate(time.Second)
	if got := run(t, bind(t, "append_time"), msg); got != 1 || len(msg.ReplyHeaders) != 1 {
		t.Fatalf("append_time: %d %q", got, msg.ReplyHeaders)
	}
	d, err := time.Parse("Date: Mon, 02 Jan 2006 15:04:05 GMT", msg.ReplyHeaders[0])
	if err != nil || d.Before(before) || d.After(time.Now().UTC().Add(time.Second)) {
		t.Errorf("header %q: %v", msg.ReplyHeaders[0], err)
	}
}
