package web

import (
	"context"
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

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, "")
	b := e.browser()
	b.get("/login")
	for i := 0; i < maxFailuresUser; i++ {
		b.post("/login", "username", "alice", "password", "wrong").want(t, http.StatusOK, "Wrong user name")
	}
	// Blocked now, even with the right password.
	b.post("/login", "username", "alice", "password", testPW).want(t, http.StatusTooManyRequests, "Too many failed logins. Try again in 15 minutes.")
	// Another user from the same address is not blocked yet.
	b.post("/login", "username", "bob", "password", testPW).redirectsTo(t, "/")
	if !strings.Contains(e.logs.String(), "login refused: too many failures") {
		t.Error("not logged")
	}
	if strings.Contains(e.logs.String(), testPW) || strings.Contains(e.logs.String(), "wrong") {
		t.Error("a password is in the log")
	}
	e.clk.Advance(loginWindow)
	b2 := e.browser()
	b2.login("alice", testPW)
}

func TestLimiterPerAddress(t *testing.T) {
	clk := &clock{t: t0}
	l := newLimiter(clk.Now)
	for i := 0; i < maxFailuresIP; i++ {
		l.fail("192.0.2.1", "u"+strings.Repeat("x", i))
	}
	if _, blocked := l.blocked("192.0.2.1", "someone"); !blocked {
		t.Error("address not blocked")
	}
	if _, blocked := l.blocked("192.0.2.2", "someone"); blocked {
		t.Error("other address blocked")
	}
	clk.Advance(loginWindow)
	if _, blocked := l.blocked("192.0.2.1", "someone"); blocked {
		t.Error("still blocked after the window")
	}
	// The maps stay bounded.
	for i := 0; i < maxLimiterKeys+10; i++ {
		l.fail("198.51.100.1", "flood"+strings.Repeat("y", i%50)+string(rune('a'+i%26))+time.Duration(i).String())
	}
	if len(l.user) > maxLimiterKeys {
		t.Errorf("%d user windows kept", len(l.user))
	}
	huge := strings.Repeat("h", 60000)
	l.fail("198.51.100.2", huge)
	if _, ok := l.user[huge]; ok || l.user[huge[:maxLimiterKeyLen]] == nil {
		t.Error("a huge user name is kept whole")
	}
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
	pw := m[2]
	if !strings.Contains(e.logs.String(), "level=WARN") {
		t.Error("not a warning")
	}
	// A second start creates nothing.
	if _, err := New(Options{Store: e.st, Exec: e.exec, Domain: "example.com", Logger: e.app.opts.Logger, Clock: e.clk.Now}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.logs.String(), "first start"); n != 1 {
		t.Errorf("%d first-start messages", n)
	}
	e2.app = app
	e2.srv = e.srv
	b := e.browser()
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
	b.get("/admin/users").want(t, http.StatusOK, "admin@example.com")
	// The mark is gone: a new login is not held.
	b2 := e.browser()
	b2.login("admin", "NewSecret1")
	b2.get("/admin/").want(t, http.StatusOK)
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
