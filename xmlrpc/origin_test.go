package xmlrpc

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"ser/core/rpc"
)

// refusalCase is one request against the bridge on a loopback listener:
// the Host header, extra headers, the Content-Type and the status wanted.
type refusalCase struct {
	name    string
	opts    Options
	host    string // "" = the listener's 127.0.0.1:port; "{port}" is replaced
	headers map[string]string
	ctype   string // "-" = none
	status  int
}

func runRefusalCases(t *testing.T, cases []refusalCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ts := newServer(t, rpc.NewLocal(f.reg), tt.opts)
			u, _ := url.Parse(ts.URL)
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/xmlrpc", strings.NewReader(seedBody(t)))
			if tt.host != "" {
				req.Host = strings.ReplaceAll(tt.host, "{port}", u.Port())
			}
			ct := tt.ctype
			if ct == "" {
				ct = "text/xml"
			}
			if ct != "-" {
				req.Header.Set("Content-Type", ct)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, strings.ReplaceAll(v, "{port}", u.Port()))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			want := int64(0)
			if tt.status == 200 {
				want = 1
			}
			if n := f.runs.Load(); n != want {
				t.Fatalf("%d commands ran, want %d", n, want)
			}
		})
	}
}

// TestHostCheck: the Host header must name this server (anti DNS
// rebinding): a rebound name gets 403 before anything runs.
func TestHostCheck(t *testing.T) {
	runRefusalCases(t, []refusalCase{
		{name: "listener address", status: 200},
		{name: "localhost with the port", host: "localhost:{port}", status: 200},
		{name: "LOCALHOST, trailing dot", host: "LOCALHOST.:{port}", status: 200},
		{name: "IPv6 loopback", host: "[::1]:{port}", status: 200},
		{name: "other loopback address", host: "127.0.0.2:{port}", status: 200},
		{name: "rebound name", host: "attacker.example:{port}", status: 403},
		{name: "rebound name without port", host: "attacker.example", status: 403},
		{name: "localhost on another port", host: "localhost:1", status: 403},
		{name: "listener address without its port", host: "127.0.0.1", status: 403},
		{name: "other address", host: "192.0.2.1:{port}", status: 403},
		{name: "configured name, any port", opts: Options{Hosts: []string{"ser.example"}}, host: "SER.example:{port}", status: 200},
		{name: "configured name with port", opts: Options{Hosts: []string{"ser.example:8443"}}, host: "ser.example:8443", status: 200},
		{name: "configured name, other port", opts: Options{Hosts: []string{"ser.example:8443"}}, host: "ser.example:{port}", status: 403},
		{name: "check off", opts: Options{Hosts: []string{"*"}}, host: "attacker.example", status: 200},
	})
}

// TestCrossOrigin: a request a browser marks as cross-site, or whose
// Origin is not this server, gets 403 before anything runs.
func TestCrossOrigin(t *testing.T) {
	runRefusalCases(t, []refusalCase{
		{name: "Sec-Fetch-Site cross-site", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "Sec-Fetch-Site same-site", headers: map[string]string{"Sec-Fetch-Site": "same-site"}, status: 403},
		{name: "Sec-Fetch-Site same-origin", headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: 200},
		{name: "Sec-Fetch-Site none (typed by the user)", headers: map[string]string{"Sec-Fetch-Site": "none"}, status: 200},
		{name: "foreign Origin", headers: map[string]string{"Origin": "http://127.0.0.1:1"}, status: 403},
		{name: "null Origin", headers: map[string]string{"Origin": "null"}, status: 403},
		{name: "own Origin", headers: map[string]string{"Origin": "http://127.0.0.1:{port}"}, status: 200},
		{name: "cross-site form post", ctype: "application/x-www-form-urlencoded",
			headers: map[string]string{"Origin": "http://localhost:1", "Sec-Fetch-Site": "same-site"}, status: 403},
	})
}

// TestContentTypeCheck: XML is taken; text/plain and multipart (what a
// page may send without a CORS preflight) get 415; the form type curl
// uses for CURLOPT_POSTFIELDS, and none, only from non-browsers.
func TestContentTypeCheck(t *testing.T) {
	runRefusalCases(t, []refusalCase{
		{name: "text/xml", status: 200},
		{name: "text/xml with charset", ctype: "text/xml; charset=iso-8859-1", status: 200},
		{name: "TEXT/XML", ctype: "TEXT/XML;charset=UTF-8", status: 200},
		{name: "application/xml", ctype: "application/xml", status: 200},
		{name: "text/plain", ctype: "text/plain;charset=UTF-8", status: 415},
		{name: "multipart", ctype: "multipart/form-data; boundary=x", status: 415},
		{name: "json", ctype: "application/json", status: 415},
		{name: "unparsable", ctype: "text/xml; ;;=", status: 415},
		{name: "curl form type", ctype: "application/x-www-form-urlencoded", status: 200},
		{name: "no type", ctype: "-", status: 200},
		{name: "form type from a browser", ctype: "application/x-www-form-urlencoded",
			headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: 415},
		{name: "no type from a browser", ctype: "-", headers: map[string]string{"Origin": "http://127.0.0.1:{port}"}, status: 415},
	})
}

// TestParseHostNames checks Options.Hosts validation.
func TestParseHostNames(t *testing.T) {
	for _, bad := range []string{"", "a b", "user@host", "host:0", "host:x", "host:70000", "http://x"} {
		if _, err := New(rpc.NewLocal(newFixture(t).reg), Options{Hosts: []string{bad}}); err == nil && strings.TrimSpace(bad) != "" {
			t.Errorf("Hosts %q accepted", bad)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/xmlrpc", nil)
	r.Host = "[::1]"
	s, _ := New(rpc.NewLocal(newFixture(t).reg), Options{Logger: quietLogger()})
	if !s.hosts.Allowed(r) {
		t.Error("[::1] without a listener address refused")
	}
}
