package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/core/store"
)

func TestLoginLogout(t *testing.T) {
	e := newEnv(t, "")
	b := e.browser()
	b.get("/").redirectsTo(t, "/login")
	b.get("/account").redirectsTo(t, "/login?next=%2Faccount")
	p := b.get("/login")
	p.want(t, http.StatusOK, `name="username"`, `name="csrf"`)
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") ||
		p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("security headers %v", p.header)
	}
	tests := []struct {
		name, user, pw, want string
	}{
		{name: "wrong password", user: "alice", pw: "nope", want: "Wrong user name or password."},
		{name: "unknown user", user: "mallory", pw: testPW, want: "Wrong user name or password."},
		{name: "other domain", user: "alice@other.org", pw: testPW, want: "Wrong user name or password."},
		{name: "empty", user: "", pw: "", want: "Enter your user name and password."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/login", "username", tc.user, "password", tc.pw)
			p.want(t, http.StatusOK, tc.want)
			if strings.Contains(p.body, tc.pw) && tc.pw != "" {
				t.Errorf("the password is shown again")
			}
		})
	}
	// With user@domain and a next page.
	p = b.post("/login", "username", "alice@example.com", "password", testPW, "next", "/phonebook")
	p.redirectsTo(t, "/phonebook")
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, sessionCookie+"=") && (!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict")) {
			t.Errorf("session cookie %q", c)
		}
	}
	b.get("/phonebook").want(t, http.StatusOK, "alice@example.com")
	b.get("/").redirectsTo(t, "/account")
	b.get("/login").redirectsTo(t, "/")
	// The session row holds a hash, not the cookie's token.
	u, _ := url.Parse(e.srv.URL)
	var token string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			token = c.Value
		}
	}
	if _, err := e.st.Session(context.Background(), sessionName, token[:min(32, len(token))]); err == nil {
		t.Error("the cookie's token is a session key")
	}
	if _, err := e.st.Session(context.Background(), sessionName, sessionKey(token)); err != nil {
		t.Errorf("session row: %v", err)
	}
	// Log out: the old cookie is worthless afterwards.
	b.get("/account")
	b.post("/logout").redirectsTo(t, "/login?bye=1")
	b.get("/login?bye=1").want(t, http.StatusOK, "You are logged out.")
	b.get("/account").redirectsTo(t, "/login?next=%2Faccount")
	replay := e.browser()
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: token, Path: "/"}})
	replay.get("/account").redirectsTo(t, "/login?next=%2Faccount")
	// Admins start on the status page.
	e.as("root").get("/").redirectsTo(t, "/admin/")
}

func TestLoginRedirectStaysLocal(t *testing.T) {
	e := newEnv(t, "")
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := e.browser()
		b.get("/login")
		b.post("/login", "username", "alice", "password", testPW, "next", next).redirectsTo(t, "/")
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t, "")
	b := e.browser()
	// No login cookie and no token.
	b.postValues("/login", url.Values{"username": {"alice"}, "password": {testPW}}).want(t, http.StatusForbidden, "out of date")
	// A token that is not the cookie's.
	b.get("/login")
	b.postValues("/login", url.Values{"csrf": {"x" + b.csrf}, "username": {"alice"}, "password": {testPW}}).
		want(t, http.StatusForbidden)
	// Cross-origin form posts are refused before anything else.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login",
		strings.NewReader(url.Values{"csrf": {b.csrf}, "username": {"alice"}, "password": {testPW}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	b.do(req).want(t, http.StatusForbidden, "Cross-origin")
}

// browserFrom is a browser whose connections come from another loopback
// address (127.0.0.2, …): a second client on the same machine.
func (e *env) browserFrom(ip string) *browser {
	b := e.browser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.c.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

// fakeWaits makes the limiter's waits advance the test clock and records
// them.
func fakeWaits(e *env) *[]time.Duration {
	var waits []time.Duration
	e.app.limiter.Sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		e.clk.Advance(d)
		return nil
	}
	return &waits
}

// TestLoginThrottlePair: guesses for alice from one address back off
// after five, answered 429 without checking — the right password too —
// while alice herself (another address) and bob (the same address) log
// in. Nothing is locked for 15 minutes: after the back-off one more
// guess is checked.
func TestLoginThrottlePair(t *testing.T) {
	e := newEnv(t, "")
	fakeWaits(e)
	attacker := e.browserFrom("127.0.0.2")
	attacker.get("/login")
	for i := 0; i < loginPolicy.PairFailures; i++ {
		attacker.post("/login", "username", "alice", "password", "wrong").want(t, http.StatusOK, "Wrong user name")
	}
	attacker.post("/login", "username", "alice", "password", testPW).
		want(t, http.StatusTooManyRequests, "Too many failed logins for this account from your address. Try again in 1 second.")
	// The owner, from her own address, and bob from the attacker's.
	e.browser().login("alice", testPW)
	attacker.post("/login", "username", "bob", "password", testPW).redirectsTo(t, "/")
	// One more guess after the back-off (which then doubles).
	e.clk.Advance(loginPolicy.Delay)
	b := e.browserFrom("127.0.0.2")
	b.get("/login")
	b.post("/login", "username", "alice", "password", "wrong").want(t, http.StatusOK, "Wrong user name")
	b.post("/login", "username", "alice", "password", "wrong").
		want(t, http.StatusTooManyRequests, "Try again in 2 seconds.")
	e.clk.Advance(2 * loginPolicy.Delay)
	b.post("/login", "username", "alice", "password", testPW).redirectsTo(t, "/")
	logs := e.logs.String()
	if !strings.Contains(logs, "login refused: too many failures") || !strings.Contains(logs, "remote=127.0.0.2") ||
		!strings.Contains(logs, "account at this address backs off") {
		t.Errorf("not logged:\n%s", logs)
	}
	if strings.Contains(logs, testPW) || strings.Contains(logs, "wrong") {
		t.Error("a password is in the log")
	}
}

// TestLoginAccountUnderAttack: guesses for alice from several addresses
// (each below its own limit) space out alice's checks: a guess waits for
// its slot, or gets 429 when the next slot is too far; alice from an
// address that has not failed for her waits at most loginPolicy.MaxWait and
// gets in — she cannot be locked out.
func TestLoginAccountUnderAttack(t *testing.T) {
	e := newEnv(t, "")
	waits := fakeWaits(e)
	// Six addresses, two guesses each: no pair reaches its limit, the
	// account passes its tenth failure.
	var attackers []*browser
	for i := 2; i < 8; i++ {
		b := e.browserFrom(fmt.Sprint("127.0.0.", i))
		b.get("/login")
		for j := 0; j < 2; j++ {
			b.post("/login", "username", "alice", "password", "wrong").want(t, http.StatusOK, "Wrong user name")
		}
		attackers = append(attackers, b)
	}
	for i, w := range (*waits)[:loginPolicy.AccountFailures] {
		if w != 0 {
			t.Errorf("login %d waited %v before the account was under attack", i+1, w)
		}
	}
	refused := false
	for i := 0; i < 3*len(attackers) && !refused; i++ {
		p := attackers[i%len(attackers)].post("/login", "username", "alice", "password", "wrong")
		switch p.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			if !strings.Contains(p.body, "Too many failed logins for this account. Try again in") {
				t.Fatalf("refusal:\n%s", p.body)
			}
			refused = true
		default:
			t.Fatalf("status %d", p.status)
		}
	}
	if !refused {
		t.Fatal("guesses from addresses that failed were never refused")
	}
	for _, w := range *waits {
		if w > loginPolicy.MaxWait {
			t.Errorf("a login waited %v", w)
		}
	}
	n := len(*waits)
	owner := e.browserFrom("127.0.0.9")
	owner.login("alice", testPW)
	if len(*waits) != n+1 || (*waits)[n] == 0 || (*waits)[n] > loginPolicy.MaxWait {
		t.Errorf("the owner's login waited %v, want a delay of at most %v", (*waits)[n:], loginPolicy.MaxWait)
	}
}

// TestLoginBehindProxy: many users behind one address (a reverse proxy):
// one user's failures do not keep the others out.
func TestLoginBehindProxy(t *testing.T) {
	e := newEnv(t, "")
	fakeWaits(e)
	b := e.browser()
	b.get("/login")
	for i := 0; i < 30; i++ {
		b.post("/login", "username", "bob", "password", "wrong")
	}
	e.browser().login("alice", testPW)
	e.browser().login("root", testPW)
}

// TestLoginSpraying: one address trying many accounts backs off for all
// of them; other addresses are not affected.
func TestLoginSpraying(t *testing.T) {
	e := newEnv(t, "")
	fakeWaits(e)
	b := e.browserFrom("127.0.0.6")
	b.get("/login")
	for i := 0; i < loginPolicy.AddrAccounts; i++ {
		b.post("/login", "username", fmt.Sprint("user", i), "password", "123456").want(t, http.StatusOK, "Wrong user name")
	}
	b.post("/login", "username", "alice", "password", testPW).
		want(t, http.StatusTooManyRequests, "Too many failed logins from your address.")
	e.browser().login("alice", testPW)
}

// TestPasswordChangeThrottled: guessing the current password on the
// password page (with a stolen session) is limited as logins are.
func TestPasswordChangeThrottled(t *testing.T) {
	e := newEnv(t, "")
	fakeWaits(e)
	b := e.as("alice")
	b.get("/password")
	for i := 0; i < loginPolicy.PairFailures; i++ {
		b.post("/password", "password", "wrong", "new_password", "NewSecret1", "confirm_password", "NewSecret1").
			want(t, http.StatusUnprocessableEntity, "wrong password")
	}
	b.post("/password", "password", testPW, "new_password", "NewSecret1", "confirm_password", "NewSecret1").
		want(t, http.StatusTooManyRequests, "Too many failed logins for this account from your address.")
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.SessionIdle = 30 * time.Minute; o.SessionMax = 2 * time.Hour })
	b := e.as("alice")
	e.clk.Advance(25 * time.Minute)
	b.get("/account").want(t, http.StatusOK) // touched: idle time restarts
	e.clk.Advance(25 * time.Minute)
	b.get("/account").want(t, http.StatusOK)
	e.clk.Advance(31 * time.Minute)
	b.get("/account").redirectsTo(t, "/login?next=%2Faccount")
	// The absolute limit ends even a busy session.
	b = e.as("alice")
	for i := 0; i < 5; i++ {
		e.clk.Advance(25 * time.Minute)
		b.get("/account")
	}
	b.get("/account").redirectsTo(t, "/login?next=%2Faccount")
	// Expired rows are deleted by the background job.
	e.app.expireSessions(context.Background())
	if n, _ := e.st.ExpireSessions(context.Background(), t0.Add(-time.Hour)); n != 0 {
		t.Errorf("left %d", n)
	}
	// A form posted with an expired session is refused.
	b.post("/account/profile", "email", "a@b.c").want(t, http.StatusForbidden, "session has expired")
}

func TestDeletedUserLosesSession(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("alice")
	if err := e.st.PurgeSubscriber(context.Background(), "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
	b.get("/account").redirectsTo(t, "/login")
}

var passwordLogRE = regexp.MustCompile(`user=(\S+) password=(\S+)`)

// TestBootstrapRecoveredWithSerctl: the administrator's one-time password
// is lost and reset with serctl passwd (store.SetPassword) before anyone
// logged in: the console accepts it, does not hold the login on the
// password page, and later starts do not replace it.
func TestBootstrapRecoveredWithSerctl(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if err := e.st.RevokePrivilege(ctx, "root", "example.com", store.PrivIsAdmin, ""); err != nil {
		t.Fatal(err)
	}
	newApp := func() {
		t.Helper()
		if _, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now}); err != nil {
			t.Fatal(err)
		}
	}
	newApp()
	if err := e.st.SetPassword(ctx, "admin", "example.com", "Chosen-by-op1"); err != nil {
		t.Fatal(err)
	}
	e.logs.mu.Lock()
	e.logs.b.Reset()
	e.logs.mu.Unlock()
	newApp()
	if strings.Contains(e.logs.String(), "password=") {
		t.Errorf("a start after serctl passwd replaced the password:\n%s", e.logs.String())
	}
	b := e.browser()
	b.login("admin", "Chosen-by-op1")
	b.get("/admin/users").want(t, http.StatusOK, "admin@example.com")
}

// TestLoginWithSERHashes: databases written by SER's serctl (plain
// password, ha1 and ha1b), by hand (plain password only) or with only
// ha1b log in with the right password and only with it.
func TestLoginWithSERHashes(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    store.Subscriber
	}{
		{"ser 0.9 serctl", store.Subscriber{Password: "Secret-99", HA1: store.HA1("carol", "example.com", "Secret-99"),
			HA1B: store.HA1B("carol", "example.com", "example.com", "Secret-99")}},
		{"upper-case ha1", store.Subscriber{HA1: strings.ToUpper(store.HA1("carol", "example.com", "Secret-99"))}},
		{"ha1b only", store.Subscriber{HA1B: store.HA1B("carol", "example.com", "example.com", "Secret-99")}},
		{"plain text only", store.Subscriber{Password: "Secret-99"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.Username, tc.u.Domain = "carol", "example.com"
			if !passwordMatches(tc.u, "Secret-99") {
				t.Error("right password refused")
			}
			if passwordMatches(tc.u, "Secret-98") || passwordMatches(tc.u, "") {
				t.Error("wrong password accepted")
			}
		})
	}
	if passwordMatches(store.Subscriber{Username: "carol", Domain: "example.com"}, "") {
		t.Error("a subscriber without credentials accepted the empty password")
	}
}

func TestBootstrapAdmin(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	// Remove the seeded admin and start another console on the same store.
	if err := e.st.RevokePrivilege(ctx, "root", "example.com", store.PrivIsAdmin, ""); err != nil {
		t.Fatal(err)
	}
	e.logs.mu.Lock()
	e.logs.b.Reset()
	e.logs.mu.Unlock()
	e2 := &env{t: t, st: e.st, exec: e.exec, clk: e.clk, logs: e.logs}
	app, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	m := passwordLogRE.FindStringSubmatch(e.logs.String())
	if m == nil || m[1] != "admin@example.com" || len(m[2]) != 16 {
		t.Fatalf("no one-time password in the log:\n%s", e.logs.String())
	}
	first := m[2]
	if !strings.Contains(e.logs.String(), "level=WARN") {
		t.Error("not a warning")
	}
	if u, _ := e.st.Subscriber(ctx, "admin", "example.com"); u.Password != "" {
		t.Errorf("one-time password stored in plain text: %q", u.Password)
	}
	// A second start before anyone logged in (the first may have failed
	// after printing its password) creates nothing but issues and prints
	// a new one-time password; the old one is void.
	e.logs.mu.Lock()
	e.logs.b.Reset()
	e.logs.mu.Unlock()
	if _, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	m = passwordLogRE.FindStringSubmatch(e.logs.String())
	if m == nil || m[1] != "admin@example.com" || m[2] == first {
		t.Fatalf("no new one-time password in the log of the second start:\n%s", e.logs.String())
	}
	pw := m[2]
	e2.app = app
	e2.srv = e.srv
	b := e.browser()
	b.get("/login")
	b.post("/login", "username", "admin", "password", first).want(t, http.StatusOK, "Wrong user name or password")
	b.get("/login")
	b.post("/login", "username", "admin", "password", pw).redirectsTo(t, "/password")
	b.get("/admin/users").redirectsTo(t, "/password")
	b.get("/password").want(t, http.StatusOK, "one-time password")
	b.post("/password", "password", pw, "new_password", "short", "confirm_password", "short").
		want(t, http.StatusUnprocessableEntity, "at least 8 characters")
	b.post("/password", "password", pw, "new_password", pw, "confirm_password", pw).
		want(t, http.StatusUnprocessableEntity, "choose a new password")
	b.post("/password", "password", "bad", "new_password", "NewSecret1", "confirm_password", "NewSecret1").
		want(t, http.StatusUnprocessableEntity, "wrong password")
	b.post("/password", "password", pw, "new_password", "NewSecret1", "confirm_password", "NewSecret1").redirectsTo(t, "/account")
	b.get("/account").want(t, http.StatusOK, "Your password was changed.")
	if u, _ := e.st.Subscriber(ctx, "admin", "example.com"); u.Password != "" || u.HA1 != store.HA1("admin", "example.com", "NewSecret1") {
		t.Errorf("the administrator's new password is not stored as ha1 only: %+v", u)
	}
	b.get("/admin/users").want(t, http.StatusOK, "admin@example.com")
	// The mark is gone: a new login is not held.
	b2 := e.browser()
	b2.login("admin", "NewSecret1")
	b2.get("/admin/").want(t, http.StatusOK)
	// Changed: later starts print nothing.
	e.logs.mu.Lock()
	e.logs.b.Reset()
	e.logs.mu.Unlock()
	if _, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.logs.String(), "password=") {
		t.Errorf("a start after the change printed a password:\n%s", e.logs.String())
	}
	// A taken name: admin2.
	if err := e.st.RevokePrivilege(ctx, "admin", "example.com", store.PrivIsAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.st.IsAdmin(ctx, "admin2", "example.com"); !ok {
		t.Error("admin2 not created")
	}
}
