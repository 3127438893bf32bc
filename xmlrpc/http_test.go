package xmlrpc

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"ser/core/rpc"
)

// seedBody is PHP's request from Granig's mail.
func seedBody(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/php_fifo_execute.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHTTP covers the HTTP layer: POST only, content types, size limit,
// malformed bodies as faults, paths.
func TestHTTP(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{MaxBodyBytes: 4096})
	url := ts.URL + "/xmlrpc"

	t.Run("GET is 405", func(t *testing.T) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" ||
			!strings.Contains(string(body), "XML-RPC takes a POST") {
			t.Fatalf("GET: %d %q %q", resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	})
	t.Run("seed request as a form post", func(t *testing.T) {
		// curl with CURLOPT_POSTFIELDS (the PHP script) sends this type.
		resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(seedBody(t)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 200 || mt != "text/xml" || params["charset"] != "utf-8" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(string(body), "<name>output</name><value><string>200 OK\n&lt;sip:012345@192.0.2.10:5060&gt;;q=1;expires=3600\n</string>") {
			t.Fatalf("body:\n%s", body)
		}
	})
	t.Run("malformed XML is a fault", func(t *testing.T) {
		status, body, _ := post(t, url, "<methodCall><methodName>x</methodName>")
		if fe, ok := faultOf(t, body); status != 200 || !ok || fe.Code != FaultParse {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("unknown method is a fault", func(t *testing.T) {
		status, body, _ := post(t, url, "<methodCall><methodName>x.y</methodName></methodCall>")
		if fe, ok := faultOf(t, body); status != 200 || !ok || fe.Code != FaultMethodNotFound {
			t.Fatalf("%d %s", status, body)
		}
	})
	tooBig := "<methodCall><methodName>echo</methodName><params><param><value>" + strings.Repeat("x", 5000) +
		"</value></param></params></methodCall>"
	t.Run("too large with Content-Length", func(t *testing.T) {
		status, body, _ := post(t, url, tooBig)
		if fe, ok := faultOf(t, body); status != 413 || !ok || fe.Code != FaultTooLarge || fe.String != "request too large: over 4096 bytes" {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("too large chunked", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url, io.MultiReader(strings.NewReader(tooBig)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if fe, ok := faultOf(t, string(body)); resp.StatusCode != 413 || !ok || fe.Code != FaultTooLarge {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("other path is 404", func(t *testing.T) {
		status, _, _ := post(t, ts.URL+"/RPC2", seedBody(t))
		if status != 404 {
			t.Fatalf("status %d", status)
		}
	})
	if n := f.runs.Load(); n != 1 {
		t.Errorf("%d commands ran, want 1 (the seed request)", n)
	}
}

// TestHugeBodyDefaultLimit sends 2 MiB against the default 1 MiB limit.
func TestHugeBodyDefaultLimit(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{})
	body := "<methodCall><methodName>echo</methodName><params><param><value>" +
		strings.Repeat("0123456789abcdef", 2<<16) + "</value></param></params></methodCall>"
	status, resp, _ := post(t, ts.URL+"/xmlrpc", body)
	if fe, ok := faultOf(t, resp); status != 413 || !ok || fe.Code != FaultTooLarge {
		t.Fatalf("%d %s", status, resp)
	}
	if f.runs.Load() != 0 {
		t.Fatal("command ran")
	}
}

// TestAccessControl: the allow-list answers 403 and basic authentication
// 401, and a refused request never runs its command.
func TestAccessControl(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		user     string
		password string
		status   int
	}{
		{name: "loopback allowed by default", status: 200},
		{name: "client not in allow-list", opts: Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, status: 403},
		{name: "allow-list with the client", opts: Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}, status: 200},
		{name: "credentials missing", opts: Options{Users: map[string]string{"admin": "secret"}}, status: 401},
		{name: "wrong password", opts: Options{Users: map[string]string{"admin": "secret"}}, user: "admin", password: "guess", status: 401},
		{name: "unknown user", opts: Options{Users: map[string]string{"admin": "secret"}}, user: "root", password: "secret", status: 401},
		{name: "right credentials", opts: Options{Users: map[string]string{"admin": "secret"}}, user: "admin", password: "secret", status: 200},
		{name: "Authenticate hook accepts", opts: Options{Authenticate: func(u, p string) bool { return u == "bob" && p == "pw" }},
			user: "bob", password: "pw", status: 200},
		{name: "Authenticate hook refuses", opts: Options{Authenticate: func(u, p string) bool { return false }},
			user: "bob", password: "pw", status: 401},
		{name: "allow-list checked before credentials", opts: Options{Allow: []netip.Prefix{netip.MustParsePrefix("::1/128")},
			Users: map[string]string{"admin": "secret"}}, user: "admin", password: "secret", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ts := newServer(t, rpc.NewLocal(f.reg), tt.opts)
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/xmlrpc", strings.NewReader(seedBody(t)))
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.password)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") != `Basic realm="ser xmlrpc", charset="UTF-8"` {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			wantRuns := int64(0)
			if tt.status == 200 {
				wantRuns = 1
			}
			if n := f.runs.Load(); n != wantRuns {
				t.Fatalf("%d commands ran, want %d", n, wantRuns)
			}
		})
	}
}

// TestAdmitAddresses checks client address matching.
func TestAdmitAddresses(t *testing.T) {
	s, err := New(rpc.NewLocal(newFixture(t).reg), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{
		"127.0.0.1:5000":          0,
		"127.8.9.1:5000":          0,
		"[::1]:5000":              0,
		"[::ffff:127.0.0.1]:5000": 0,
		"192.0.2.1:5000":          403,
		"[2001:db8::1]:5000":      403,
		"@":                       403,
		"":                        403,
	} {
		r := httptest.NewRequest(http.MethodPost, "/xmlrpc", nil)
		r.RemoteAddr = addr
		r.Host = "127.0.0.1:5080"
		if got, _ := s.admit(r); got != want {
			t.Errorf("admit(%q) = %d, want %d", addr, got, want)
		}
	}
}

// TestParseAllow parses allow-list entries.
func TestParseAllow(t *testing.T) {
	got, err := ParseAllow([]string{"10.1.2.3/8", " 192.0.2.7 ", "", "::1", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.0.2.7/32 ::1/128 2001:db8::/32]"
	if fmtPrefixes(got) != want {
		t.Fatalf("ParseAllow = %s, want %s", fmtPrefixes(got), want)
	}
	for _, bad := range []string{"10.0.0.0/33", "host.example", "1.2.3"} {
		if _, err := ParseAllow([]string{bad}); err == nil {
			t.Errorf("ParseAllow(%q) succeeded", bad)
		}
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	var b strings.Builder
	b.WriteString("[")
	for i, p := range ps {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(p.String())
	}
	b.WriteString("]")
	return b.String()
}

// TestNewErrors checks option validation.
func TestNewErrors(t *testing.T) {
	exec := rpc.NewLocal(newFixture(t).reg)
	tests := []struct {
		name string
		exec rpc.Executor
		opts Options
	}{
		{name: "nil executor", opts: Options{}},
		{name: "relative path", exec: exec, opts: Options{Path: "xmlrpc"}},
		{name: "negative body limit", exec: exec, opts: Options{MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.exec, tt.opts); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

// TestMountChi shares a chi router with another handler (the web console).
func TestMountChi(t *testing.T) {
	f := newFixture(t)
	s, err := New(rpc.NewLocal(f.reg), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("web console")) })
	s.Mount(r)
	ts := httptest.NewServer(r)
	defer ts.Close()
	status, body, _ := post(t, ts.URL+"/xmlrpc", seedBody(t))
	if status != 200 || !strings.Contains(body, "<name>code</name><value><int>200</int>") {
		t.Fatalf("%d %s", status, body)
	}
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(b, []byte("web console")) {
		t.Fatalf("web console route: %q", b)
	}
}
