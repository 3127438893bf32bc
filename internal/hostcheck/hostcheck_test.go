package hostcheck

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, bad := range []string{"a b", "user@host", "host:0", "host:x", "host:70000", "http://x", ":80"} {
		if _, err := New([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c, err := New([]string{"", " Ser.Example. ", "[2001:db8::1]:8443", "*"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Off() || len(c.names) != 2 || c.names[0] != (name{"ser.example", ""}) || c.names[1] != (name{"2001:db8::1", "8443"}) {
		t.Fatalf("parsed %+v off=%v", c.names, c.Off())
	}
}

// request returns a request for host as if received on local.
func request(host string, local *net.TCPAddr, withTLS bool) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = host
	if local != nil {
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	}
	if withTLS {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}

func TestAllowed(t *testing.T) {
	l8080 := &net.TCPAddr{IP: net.ParseIP("192.0.2.5"), Port: 8080}
	l80 := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80}
	l443 := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 443}
	named, _ := New([]string{"ser.example", "api.example:9000"})
	off, _ := New([]string{"*"})
	for _, tt := range []struct {
		c     *Checker
		host  string
		local *net.TCPAddr
		tls   bool
		want  bool
	}{
		{nil, "localhost:8080", l8080, false, true},
		{nil, "127.0.0.9:8080", l8080, false, true},
		{nil, "[::1]:8080", l8080, false, true},
		{nil, "192.0.2.5:8080", l8080, false, true},
		{nil, "[::ffff:192.0.2.5]:8080", l8080, false, true},
		{nil, "192.0.2.6:8080", l8080, false, false},
		{nil, "localhost", l8080, false, false},
		{nil, "localhost:8081", l8080, false, false},
		{nil, "rebind.test:8080", l8080, false, false},
		{nil, "localhost", l80, false, true},
		{nil, "localhost", l443, true, true},
		{nil, "localhost", l443, false, false},
		{nil, "[::1]", nil, false, true},
		{&Checker{}, "rebind.test", nil, false, false},
		{named, "SER.example.:1234", l8080, false, true},
		{named, "api.example:9000", l8080, false, true},
		{named, "api.example:8080", l8080, false, false},
		{off, "rebind.test:1", l8080, false, true},
	} {
		if got := tt.c.Allowed(request(tt.host, tt.local, tt.tls)); got != tt.want {
			t.Errorf("Allowed(%q on %v, tls %v) = %v, want %v", tt.host, tt.local, tt.tls, got, tt.want)
		}
	}
}

// TestHandler: over a real loopback listener, a rebound Host gets 403
// and next does not run; the listener's own names pass.
func TestHandler(t *testing.T) {
	runs := 0
	c, _ := New(nil)
	ts := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		io.WriteString(w, "ok")
	}), "xmlrpc_host", nil))
	defer ts.Close()
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	for _, tt := range []struct {
		host   string
		status int
	}{
		{"", 200},
		{"localhost:" + port, 200},
		{"rebind.test:" + port, 403},
		{"rebind.test", 403},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/login", strings.NewReader("a=b"))
		if tt.host != "" {
			req.Host = tt.host
		}
		before := runs
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("Host %q: status %d, want %d: %s", tt.host, resp.StatusCode, tt.status, body)
		}
		ran := runs - before
		if (tt.status == 200) != (ran == 1) {
			t.Fatalf("Host %q: handler ran %d times", tt.host, ran)
		}
		if tt.status == 403 && !strings.Contains(string(body), "see xmlrpc_host") {
			t.Fatalf("Host %q: body %q", tt.host, body)
		}
	}
}
