package acc

import (
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

const testInvite = `INVITE sip:+4930123@iptel.org;user=phone SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1
Max-Forwards: 10
From: "Alice" <sip:alice@example.com>;tag=a1
To: <sip:+4930123@iptel.org>
Call-ID: call-1@192.0.2.10
CSeq: 42 INVITE
Proxy-Authorization: Digest username="alice", realm="iptel.org", nonce="x", uri="sip:+4930123@iptel.org", response="y"
Content-Length: 0

`

// testReq parses testInvite and rewrites its R-URI as a gateway script
// would before t_relay.
func testReq(t *testing.T) *sipmsg.Msg {
	t.Helper()
	m := modtest.Parse(t, testInvite)
	if err := m.SetURI("sip:+4930123@192.168.0.10:5060"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFormatLine(t *testing.T) {
	const replyTo = `<sip:+4930123@iptel.org>;tag=gw-7`
	tests := []struct {
		name, lead, fmt, to, phrase, want string
		msg                               string
	}{
		{
			name: "default miocfs", lead: leadAnswered, fmt: "miocfs", to: replyTo, phrase: "200",
			want: `ACC: transaction answered: method=INVITE, i-uri=sip:+4930123@iptel.org;user=phone, ` +
				`o-uri=sip:+4930123@192.168.0.10:5060, call_id=call-1@192.0.2.10, ` +
				`from="Alice" <sip:alice@example.com>;tag=a1, status=200`,
		},
		{
			name: "missed with to and tags", lead: leadMissed, fmt: "mtdrs", to: replyTo, phrase: "486 Busy Here",
			want: `ACC: call missed: method=INVITE, to=<sip:+4930123@iptel.org>;tag=gw-7, totag=gw-7, fromtag=a1, status=486 Busy Here`,
		},
		{
			name: "every letter", lead: leadRequest, fmt: allLogFmt, to: replyTo, phrase: "404 Not Found",
			want: `ACC: request accounted: call_id=call-1@192.0.2.10, totag=gw-7, ` +
				`from="Alice" <sip:alice@example.com>;tag=a1, i-uri=sip:+4930123@iptel.org;user=phone, method=INVITE, ` +
				`o-uri=sip:+4930123@192.168.0.10:5060, fromtag=a1, status=404 Not Found, to=<sip:+4930123@iptel.org>;tag=gw-7, ` +
				`uid=alice, userpart=+4930123, fromuser=alice, touser=+4930123, fromuri=sip:alice@example.com, ` +
				`touri=sip:+4930123@iptel.org, uid=alice, code=404, cseq=42, ruridomain=iptel.org, fromdomain=example.com`,
		},
		{
			name: "missing values are n/a", lead: leadRequest, fmt: "udrUsS", to: "<sip:b@x>", phrase: "ok",
			msg: `OPTIONS sip:b@x SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK2
f: sip:a@y
t: <sip:b@x>
i: c2
CSeq: 1 OPTIONS
Content-Length: 0

`,
			want: `ACC: request accounted: uid=n/a, totag=n/a, fromtag=n/a, fromuri=sip:a@y, status=ok, code=n/a`,
		},
		{
			name: "compact headers and unchanged uri", lead: leadAnswered, fmt: "ocfr", to: "", phrase: "200",
			msg: `MESSAGE sip:b@x;transport=udp SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK3
f: Bob <sip:bob@y>;tag=77
t: sip:b@x
i: compact-1
CSeq: 1 MESSAGE
l: 0

`,
			want: `ACC: transaction answered: o-uri=sip:b@x;transport=udp, call_id=compact-1, from=Bob <sip:bob@y>;tag=77, fromtag=77`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := testReq(t)
			if tc.msg != "" {
				m = modtest.Parse(t, tc.msg)
			}
			got := formatLine(tc.lead, tc.fmt, &event{req: m, to: tc.to, phrase: tc.phrase})
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestRecordFormats(t *testing.T) {
	m := testReq(t)
	ev := &event{req: m, to: `<sip:+4930123@iptel.org>;tag=gw-7`, phrase: "200"}
	r := record(sqlAccFmt, ev)
	want := map[string][2]string{
		"from_uri": {r.FromURI, "sip:alice@example.com"}, "to_uri": {r.ToURI, "sip:+4930123@iptel.org"},
		"sip_method": {r.Method, "INVITE"}, "i_uri": {r.IURI, "sip:+4930123@iptel.org;user=phone"},
		"o_uri": {r.OURI, "sip:+4930123@192.168.0.10:5060"}, "sip_from": {r.From, `"Alice" <sip:alice@example.com>;tag=a1`},
		"sip_callid": {r.CallID, "call-1@192.0.2.10"}, "sip_to": {r.To, `<sip:+4930123@iptel.org>;tag=gw-7`},
		"sip_status": {r.Status, "200"}, "username": {r.Username, "alice"}, "totag": {r.ToTag, "gw-7"},
		"fromtag": {r.FromTag, "a1"}, "domain": {r.Domain, "example.com"},
	}
	for col, gw := range want {
		if gw[0] != gw[1] {
			t.Errorf("acc %s = %q, want %q", col, gw[0], gw[1])
		}
	}
	mc := record(sqlMCFmt, ev)
	if mc.Username != "+4930123" || mc.Domain != "iptel.org" {
		t.Errorf("missed_calls username/domain = %q/%q, want the original R-URI's +4930123/iptel.org", mc.Username, mc.Domain)
	}
}

func TestHeaderHelpers(t *testing.T) {
	tests := []struct {
		name, body, uri, tag string
	}{
		{"name-addr", `"A <x>" <sip:a@b;lr>;tag=1;x=2`, "sip:a@b;lr", "1"},
		{"addr-spec", `sip:a@b;tag=xyz`, "sip:a@b", "xyz"},
		{"no tag", `<sip:a@b>`, "sip:a@b", ""},
		{"spaces", `Bob <sip:bob@y> ; TAG = 9 `, "sip:bob@y", "9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sipmsg.NameAddrURI(tc.body); got != tc.uri {
				t.Errorf("uri = %q, want %q", got, tc.uri)
			}
			if got := sipmsg.TagParam(tc.body); got != tc.tag {
				t.Errorf("tag = %q, want %q", got, tc.tag)
			}
		})
	}
	raw := []byte("INVITE sip:a@b SIP/2.0\r\nSubject: one\r\n  two\r\nX: y\r\n\r\nBody: no\r\n")
	if v, ok := sipmsg.RawHeader(raw, "subject"); !ok || v != "one two" {
		t.Errorf("folded header = %q, %v", v, ok)
	}
	if _, ok := sipmsg.RawHeader(raw, "Body"); ok {
		t.Error("a body line was read as a header")
	}
	if u := digestParam(`Digest realm="a,b", username="bob"`, "username"); u != "bob" {
		t.Errorf("digest username = %q", u)
	}
}
