package rr

import (
	"net/netip"
	"strings"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

func routeValues(msg *sipmsg.Msg) []string {
	var out []string
	for _, r := range routes(msg.Req) {
		out = append(out, r.Value())
	}
	return out
}

func TestLooseRoute(t *testing.T) {
	const (
		caller = "sip:alice@192.0.2.10:5060"
		withTo = "Bob <sip:bob@example.com>;tag=314159"
	)
	tests := []struct {
		name    string
		uri     string
		to      string
		routes  []string // Route header lines' values
		want    int
		wantURI string
		wantDst string
		wantRts []string
	}{
		{
			name: "no route header", uri: caller, to: withTo,
			want: -1, wantURI: caller,
		},
		{
			name: "only our route: request goes to the request uri", uri: caller, to: withTo,
			routes: []string{"<sip:bob@127.0.0.1:5060;ftag=1928301774;lr>"},
			want:   1, wantURI: caller,
		},
		{
			name: "our route then a loose router", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1;lr>", "<sip:p2.example.com;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "comma separated route values", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1;lr>,<sip:p2.example.com;lr=on>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr=on",
			wantRts: []string{"<sip:p2.example.com;lr=on>"},
		},
		{
			name: "our route then a strict router", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1;lr>", "<sip:p2.example.com>", "<sip:p3.example.com;lr>"},
			want:   1, wantURI: "sip:p2.example.com",
			wantRts: []string{"<sip:p3.example.com;lr>", "<" + caller + ">"},
		},
		{
			name: "top route is a foreign loose router", uri: caller, to: withTo,
			routes: []string{"<sip:p2.example.com;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "top route is a foreign strict router", uri: caller, to: withTo,
			routes: []string{"<sip:p2.example.com>"},
			want:   1, wantURI: "sip:p2.example.com",
			wantRts: []string{"<" + caller + ">"},
		},
		{
			name: "previous hop strict, next hop loose", uri: "sip:127.0.0.1;lr", to: withTo,
			routes: []string{"<sip:p2.example.com;lr>", "<" + caller + ">"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "previous hop strict, only the remote target left", uri: "sip:bob@127.0.0.1:5060;ftag=1928301774;lr", to: withTo,
			routes: []string{"<" + caller + ">"},
			want:   1, wantURI: caller,
		},
		{
			name: "previous hop strict, next hop strict", uri: "sip:127.0.0.1", to: withTo,
			routes: []string{"<sip:p2.example.com>", "<" + caller + ">"},
			want:   1, wantURI: "sip:p2.example.com",
			wantRts: []string{"<" + caller + ">"},
		},
		{
			name: "strict routing without to tag is refused", uri: "sip:127.0.0.1", to: "Bob <sip:bob@example.com>",
			routes: []string{"<" + caller + ">"},
			want:   -1, wantURI: "sip:127.0.0.1",
			wantRts: []string{"<" + caller + ">"},
		},
		{
			name: "preloaded route to us on an initial request", uri: "sip:bob@127.0.0.1", to: "Bob <sip:bob@example.com>",
			routes: []string{"<sip:127.0.0.1;lr>"},
			want:   -1, wantURI: "sip:bob@127.0.0.1",
		},
		{
			name: "preloaded route to us and onwards", uri: "sip:bob@127.0.0.1", to: "Bob <sip:bob@example.com>",
			routes: []string{"<sip:127.0.0.1;lr>", "<sip:p2.example.com;lr>"},
			want:   1, wantURI: "sip:bob@127.0.0.1", wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "our route by alias", uri: caller, to: withTo,
			routes: []string{"<sip:ser.example.com;lr>", "<sip:p2.example.com;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "our route over tcp", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1:5060;transport=tcp;lr>"},
			want:   1, wantURI: caller,
		},
		{
			name: "tls route to our address is not ours", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1;transport=tls;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:127.0.0.1;transport=tls;lr",
			wantRts: []string{"<sip:127.0.0.1;transport=tls;lr>"},
		},
		{
			name: "double record-route: both of ours go", uri: caller, to: withTo,
			routes: []string{"<sip:bob@127.0.0.1;transport=tcp;r2=on;ftag=1;lr>", "<sip:bob@127.0.0.1;r2=on;ftag=1;lr>", "<sip:p2.example.com;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "double record-route, nothing after it", uri: caller, to: withTo,
			routes: []string{"<sip:[::1]:5070;r2=on;lr>", "<sip:127.0.0.1;r2=on;lr>"},
			want:   1, wantURI: caller,
		},
		{
			name: "double record-route in one header", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1;transport=tcp;r2=on;lr>,<sip:127.0.0.1;r2=on;lr>,<sip:p2.example.com;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "double record-route after a strict router", uri: "sip:bob@127.0.0.1;r2=on;ftag=1;lr", to: withTo,
			routes: []string{"<sip:bob@127.0.0.1;transport=tcp;r2=on;ftag=1;lr>", "<sip:p2.example.com;lr>", "<" + caller + ">"},
			want:   1, wantURI: caller, wantDst: "sip:p2.example.com;lr",
			wantRts: []string{"<sip:p2.example.com;lr>"},
		},
		{
			name: "other port on our address is not ours", uri: caller, to: withTo,
			routes: []string{"<sip:127.0.0.1:5070;lr>"},
			want:   1, wantURI: caller, wantDst: "sip:127.0.0.1:5070;lr",
			wantRts: []string{"<sip:127.0.0.1:5070;lr>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hs []string
			for _, r := range tc.routes {
				hs = append(hs, "Route: "+r)
			}
			msg := modtest.Request{Method: "BYE", URI: tc.uri, To: tc.to, Headers: hs}.Msg(t)
			core := modtest.NewCore()
			core.Socks = append(core.Socks, &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("::1"), Port: 5070, Name: "::1"})
			core.Aliases = []string{"ser.example.com"}
			ret := call(t, core, nil, msg, "loose_route")
			if ret != tc.want {
				t.Errorf("returned %d, want %d", ret, tc.want)
			}
			if got := msg.URIString(); got != tc.wantURI {
				t.Errorf("R-URI = %q, want %q", got, tc.wantURI)
			}
			if msg.DstURI != tc.wantDst {
				t.Errorf("DstURI = %q, want %q", msg.DstURI, tc.wantDst)
			}
			got := routeValues(msg)
			if strings.Join(got, " ") != strings.Join(tc.wantRts, " ") {
				t.Errorf("Routes = %q, want %q", got, tc.wantRts)
			}
			if len(tc.wantRts) > 0 {
				if top := msg.Req.Route(); top == nil || top.Value() != tc.wantRts[0] {
					t.Errorf("Route() = %v, want the top route %s", top, tc.wantRts[0])
				}
			} else if top := msg.Req.Route(); top != nil {
				t.Errorf("Route() = %v, want none", top)
			}
			wire := string(msg.Bytes())
			if !strings.HasPrefix(wire, "BYE "+tc.wantURI+" SIP/2.0\r\n") {
				t.Errorf("request line on the wire:\n%s", wire)
			}
			if n := strings.Count(wire, "\r\nRoute: "); n != len(tc.wantRts) {
				t.Errorf("%d Route lines on the wire, want %d:\n%s", n, len(tc.wantRts), wire)
			}
		})
	}
}

func TestStrictRoute(t *testing.T) {
	for _, fname := range []string{"rewriteFromRoute", "strict_route"} {
		t.Run(fname, func(t *testing.T) {
			tests := []struct {
				name    string
				routes  []string
				want    int
				wantURI string
				wantRts []string
			}{
				{name: "no route", want: -1, wantURI: "sip:bob@example.com"},
				{name: "one route", routes: []string{"<sip:gw.example.com:5060>"}, want: 1, wantURI: "sip:gw.example.com:5060"},
				{name: "two routes", routes: []string{"<sip:p1.example.com>", "<sip:p2.example.com>"}, want: 1,
					wantURI: "sip:p1.example.com", wantRts: []string{"<sip:p2.example.com>"}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					var hs []string
					for _, r := range tc.routes {
						hs = append(hs, "Route: "+r)
					}
					msg := modtest.Request{Headers: hs}.Msg(t)
					if ret := call(t, modtest.NewCore(), nil, msg, fname); ret != tc.want {
						t.Errorf("returned %d, want %d", ret, tc.want)
					}
					if msg.URIString() != tc.wantURI {
						t.Errorf("R-URI = %q, want %q", msg.URIString(), tc.wantURI)
					}
					if got := routeValues(msg); strings.Join(got, " ") != strings.Join(tc.wantRts, " ") {
						t.Errorf("Routes = %q, want %q", got, tc.wantRts)
					}
				})
			}
		})
	}
}

// TestDialogThroughProxy record-routes an INVITE, then routes the dialog's
// ACK and BYE (in both directions, and from an RFC 2543 strict-routing UA)
// with the Route sets the user agents build from that Record-Route.
func TestDialogThroughProxy(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	recordRoute := modtest.Bind(t, Exports, inst, env, "record_route")
	looseRoute := modtest.Bind(t, Exports, inst, env, "loose_route")

	invite := modtest.Parse(t, `INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8
Max-Forwards: 70
To: Bob <sip:bob@example.com>
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10:5060>
Content-Length: 0

`)
	if ret, _ := recordRoute(invite); ret != 1 {
		t.Fatalf("record_route returned %d", ret)
	}
	rr := invite.Req.RecordRoute().Value()
	if rr != "<sip:127.0.0.1;ftag=1928301774;lr>" {
		t.Fatalf("Record-Route = %s", rr)
	}

	tests := []struct {
		name    string
		text    string
		wantURI string
		wantDst string
	}{
		{
			name: "ACK from caller",
			text: `ACK sip:bob@192.0.2.20:5062 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds9
Max-Forwards: 70
Route: ` + rr + `
To: Bob <sip:bob@example.com>;tag=a6c85cf
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 ACK
Content-Length: 0

`,
			wantURI: "sip:bob@192.0.2.20:5062",
		},
		{
			name: "BYE from callee",
			text: `BYE sip:alice@192.0.2.10:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKnashds10
Max-Forwards: 70
Route: ` + rr + `
From: Bob <sip:bob@example.com>;tag=a6c85cf
To: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 231 BYE
Content-Length: 0

`,
			wantURI: "sip:alice@192.0.2.10:5060",
		},
		{
			// An RFC 2543 UA strict-routes: our Record-Route becomes its
			// Request-URI and the remote target its last Route.
			name: "BYE from strict routing callee",
			text: `BYE sip:bob@127.0.0.1:5060;ftag=1928301774;lr SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKnashds11
Max-Forwards: 70
Route: <sip:alice@192.0.2.10:5060>
From: Bob <sip:bob@example.com>;tag=a6c85cf
To: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 232 BYE
Content-Length: 0

`,
			wantURI: "sip:alice@192.0.2.10:5060",
		},
		{
			// Two proxies record-routed; the callee's BYE has both, ours
			// first: the next hop is the other proxy.
			name: "BYE through a second proxy",
			text: `BYE sip:alice@192.0.2.10:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKnashds12
Max-Forwards: 70
Route: ` + rr + `, <sip:p1.example.com;lr>
From: Bob <sip:bob@example.com>;tag=a6c85cf
To: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 233 BYE
Content-Length: 0

`,
			wantURI: "sip:alice@192.0.2.10:5060",
			wantDst: "sip:p1.example.com;lr",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := modtest.Parse(t, tc.text)
			if ret, _ := looseRoute(msg); ret != 1 {
				t.Fatalf("loose_route returned %d", ret)
			}
			if msg.URIString() != tc.wantURI || msg.DstURI != tc.wantDst {
				t.Errorf("R-URI %q dst %q, want %q %q", msg.URIString(), msg.DstURI, tc.wantURI, tc.wantDst)
			}
			if strings.Contains(string(msg.Bytes()), "127.0.0.1") {
				t.Errorf("our route left in the request:\n%s", msg.Bytes())
			}
		})
	}
}

// TestLooseRouteR2Off: with enable_double_rr 0, ;r2 means nothing and only
// the top Route is removed (SER's condition).
func TestLooseRouteR2Off(t *testing.T) {
	msg := modtest.Request{Method: "BYE", URI: "sip:alice@192.0.2.10", To: "<sip:bob@example.com>;tag=1",
		Headers: []string{"Route: <sip:127.0.0.1;r2=on;lr>", "Route: <sip:127.0.0.1;transport=tcp;r2=on;lr>"}}.Msg(t)
	if ret := call(t, modtest.NewCore(), map[string]any{"enable_double_rr": 0}, msg, "loose_route"); ret != 1 {
		t.Fatalf("returned %d", ret)
	}
	if got := routeValues(msg); len(got) != 1 || got[0] != "<sip:127.0.0.1;transport=tcp;r2=on;lr>" {
		t.Errorf("Routes = %q", got)
	}
}
