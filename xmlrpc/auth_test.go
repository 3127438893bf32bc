package xmlrpc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/internal/testing/testutil"
	"ser/internal/throttle"
)

// authServer is a bridge with basic auth on a loopback listener whose
// limits run on a test clock (slot waits advance it).
func authServer(t *testing.T, opts Options) (*Server, *httptest.Server, *fixture, *testutil.Clock) {
	t.Helper()
	f := newFixture(t)
	opts.Logger = quietLogger()
	s, err := New(rpc.NewLocal(f.reg), opts)
	if err != nil {
		t.Fatal(err)
	}
	clk := testutil.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	s.logins.Now = clk.Now
	s.logins.Sleep = func(_ context.Context, d time.Duration) error { clk.Advance(d); return nil }
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, f, clk
}

// from returns a transport whose connections come from the loopback
// address ip (127.0.0.2, …): another client machine.
func from(ip string) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Transport{DialContext: d.DialContext}
}

// withUser puts user:pw into the URL (kolo and Go's client send it as
// basic auth).
func withUser(url, user, pw string) string {
	return strings.Replace(url, "http://", "http://"+user+":"+pw+"@", 1) + "/xmlrpc"
}

const aorCall = `<?xml version="1.0"?><methodCall><methodName>ul_show_contact</methodName>` +
	`<params><param><value>location</value></param><param><value>012345</value></param></params></methodCall>`

// rawCall posts aorCall with basic auth user:pw over transport.
func rawCall(t *testing.T, tr *http.Transport, url, user, pw string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/xmlrpc", strings.NewReader(aorCall))
	req.Header.Set("Content-Type", "text/xml")
	req.SetBasicAuth(user, pw)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestBasicAuthThrottled: wrong passwords for admin from one address
// (kolo/xmlrpc) are compared five times, then refused with 429 without a
// comparison — the right password from there too — while admin from
// another address gets in; after the back-off one more guess is
// compared. No command runs for a refused request.
func TestBasicAuthThrottled(t *testing.T) {
	sum := sha256.Sum256([]byte("s3cret-pw"))
	s, ts, f, clk := authServer(t, Options{Users: map[string]string{"admin": "{SHA256}" + hex.EncodeToString(sum[:])}})
	free := throttle.DefaultLogins.PairFailures
	attacker := newKoloTransport(t, withUser(ts.URL, "admin", "guess"), from("127.0.0.2"))
	for i := 0; i < 20; i++ {
		var res execResult
		err := attacker.Call("ul_show_contact", []any{"location", "012345"}, &res)
		want := "bad status code - 401"
		if i >= free {
			want = "bad status code - 429"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("guess %d: %v, want %s", i+1, err, want)
		}
	}
	if n := s.checks.Load(); n != int64(free) {
		t.Fatalf("%d of 20 guesses reached the comparison, want %d", n, free)
	}
	// The right password from the attacker's address: refused unchecked.
	code, hdr, body := rawCall(t, from("127.0.0.2"), ts.URL, "admin", "s3cret-pw")
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(body, "too many failed logins") {
		t.Fatalf("right password while throttled: %d %q %s", code, hdr.Get("Retry-After"), body)
	}
	if n := s.checks.Load(); n != int64(free) || f.runs.Load() != 0 {
		t.Fatalf("%d comparisons, %d commands run", n, f.runs.Load())
	}
	// The owner from another address.
	owner := newKoloTransport(t, withUser(ts.URL, "admin", "s3cret-pw"), from("127.0.0.3"))
	var got execResult
	if err := owner.Call("ul_show_contact", []any{"location", "012345"}, &got); err != nil || !strings.Contains(got.Output, "192.0.2.10") {
		t.Fatalf("owner: %+v %v", got, err)
	}
	if f.runs.Load() != 1 {
		t.Fatalf("%d commands run", f.runs.Load())
	}
	// After the back-off (1 s) one more guess is compared, and the
	// back-off doubles.
	clk.Advance(time.Second)
	before := s.checks.Load()
	if code, _, _ := rawCall(t, from("127.0.0.2"), ts.URL, "admin", "guess"); code != http.StatusUnauthorized {
		t.Fatalf("guess after the back-off: %d", code)
	}
	if code, hdr, _ := rawCall(t, from("127.0.0.2"), ts.URL, "admin", "guess"); code != http.StatusTooManyRequests || hdr.Get("Retry-After") != "2" {
		t.Fatalf("next guess: %d, Retry-After %q", code, hdr.Get("Retry-After"))
	}
	if n := s.checks.Load() - before; n != 1 {
		t.Fatalf("%d comparisons after the back-off, want 1", n)
	}
	clk.Advance(2 * time.Second)
	if code, _, body := rawCall(t, from("127.0.0.2"), ts.URL, "admin", "s3cret-pw"); code != http.StatusOK {
		t.Fatalf("right password after the back-off: %d %s", code, body)
	}
}

// TestBasicAuthSpraying: one address trying many user names backs off
// for all of them (unknown users cost a comparison too); the owner from
// another address is not affected.
func TestBasicAuthSpraying(t *testing.T) {
	s, ts, f, _ := authServer(t, Options{Users: map[string]string{"admin": "plain-pw"}})
	spray := throttle.DefaultLogins.AddrAccounts
	for i := 0; i < spray; i++ {
		if code, _, body := rawCall(t, from("127.0.0.4"), ts.URL, fmt.Sprint("user", i), "123456"); code != http.StatusUnauthorized {
			t.Fatalf("user%d: %d %s", i, code, body)
		}
	}
	code, hdr, body := rawCall(t, from("127.0.0.4"), ts.URL, "admin", "plain-pw")
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("address spraying: %d %s", code, body)
	}
	if n := s.checks.Load(); n != int64(spray) {
		t.Fatalf("%d comparisons, want %d", n, spray)
	}
	if code, _, body := rawCall(t, from("127.0.0.5"), ts.URL, "admin", "plain-pw"); code != http.StatusOK {
		t.Fatalf("owner: %d %s", code, body)
	}
	if f.runs.Load() != 1 {
		t.Fatalf("%d commands run", f.runs.Load())
	}
}

// TestBasicAuthConcurrentGuesses: a burst of concurrent guesses from one
// address gets no more comparisons than a sequence.
func TestBasicAuthConcurrentGuesses(t *testing.T) {
	s, ts, _, _ := authServer(t, Options{Users: map[string]string{"admin": "plain-pw"}})
	tr := from("127.0.0.6")
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/xmlrpc", strings.NewReader(aorCall))
			req.Header.Set("Content-Type", "text/xml")
			req.SetBasicAuth("admin", "guess")
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if n := s.checks.Load(); n > int64(throttle.DefaultLogins.PairFailures) {
		t.Fatalf("%d of 30 concurrent guesses compared", n)
	}
}

func TestParsePassword(t *testing.T) {
	sum := sha256.Sum256([]byte("pw"))
	for _, in := range []string{"pw", "{SHA256}" + hex.EncodeToString(sum[:]), "{SHA256}" + strings.ToUpper(hex.EncodeToString(sum[:])),
		"{SHA256}" + base64.StdEncoding.EncodeToString(sum[:])} {
		if d, err := ParsePassword(in); err != nil || d != sum {
			t.Errorf("%q: %x %v", in, d, err)
		}
	}
	for _, bad := range []string{"{SHA256}", "{SHA256}abc", "{SHA256}" + hex.EncodeToString(sum[:31]), "{SHA256}" + strings.Repeat("z", 64)} {
		if _, err := ParsePassword(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := New(rpc.NewLocal(newFixture(t).reg), Options{Users: map[string]string{"a": "{SHA256}x"}}); err == nil ||
		!strings.Contains(err.Error(), "sha256sum") {
		t.Errorf("bad digest: %v", err)
	}
}
