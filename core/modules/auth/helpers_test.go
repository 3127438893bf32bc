package auth

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// t0 is the fake clock's start.
var t0 = time.Unix(1700000000, 0)

const testSecret = "alsdkhglaksdhfkloiwr"

// fixture is an auth module (and sl) over a fake core and a real SQLite
// store with the users alice@example.com ("secret"), bob@example.com
// ("bobpw") and alice@other.org ("otherpw").
type fixture struct {
	t    testing.TB
	a    *Module
	sl   *sl.Module
	core *modtest.Core
	env  *module.Env
	st   *store.Store
	now  time.Time
}

// newStore opens a fresh SQLite store in a temporary directory.
func newStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "ser.db"),
		store.WithLogger(slog.New(slog.DiscardHandler)),
		store.WithPlaintextPasswords(true)) // calculate_ha1 tests read the plain-text column
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []store.Subscriber{
		{Username: "alice", Domain: "example.com", Password: "secret"},
		{Username: "bob", Domain: "example.com", Password: "bobpw"},
		{Username: "alice", Domain: "other.org", Password: "otherpw"},
	} {
		if err := st.AddSubscriber(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// newFixture loads sl (unless noSL) and auth with params (secret
// testSecret unless given), binds the calls in binds (so that their
// tables are checked) and attaches a store.
func newFixture(t testing.TB, params map[string]any, noSL bool) *fixture {
	t.Helper()
	core := modtest.NewCore()
	instances := map[string]any{}
	env := modtest.Env(t, core, instances)
	f := &fixture{t: t, core: core, env: env, now: t0}
	if !noSL {
		inst, err := modtest.LoadEnv(sl.Exports, env, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.sl = inst.(*sl.Module)
		instances["sl"] = f.sl
	}
	p := map[string]any{"secret": testSecret}
	for k, v := range params {
		p[k] = v
	}
	inst, err := modtest.LoadEnv(Exports, env, p)
	if err != nil {
		t.Fatal(err)
	}
	f.a = inst.(*Module)
	f.a.now = func() time.Time { return f.now }
	instances["auth"] = f.a
	f.st = newStore(t)
	return f
}

// bind binds an auth function; the first bind of an authorize function
// must come before attach.
func (f *fixture) bind(fname string, args ...any) module.Handler {
	f.t.Helper()
	return modtest.Bind(f.t, Exports, f.a, f.env, fname, args...)
}

// attach gives the module its store (what Start does).
func (f *fixture) attach() {
	f.t.Helper()
	if err := f.a.UseStore(context.Background(), f.st); err != nil {
		f.t.Fatal(err)
	}
}

// nonce returns a nonce as the module's challenge would carry now.
func (f *fixture) nonce() string {
	return MakeNonce([]byte(testSecret), f.now.Add(DefaultNonceExpire*time.Second))
}

// answer is a client's digest answer to a challenge.
type answer struct {
	Header                     string // default "Authorization"
	Username, Realm, Password  string
	Nonce, Method, URI         string
	QOP, NC, CNonce, Algorithm string
	HashUser                   string // the username the client hashes (default Username)
	Response                   string // overrides the computed response
	Extra                      string // appended directives
	Body                       []byte
}

// line returns the header line ("Authorization: Digest …").
func (x answer) line() string {
	if x.Header == "" {
		x.Header = "Authorization"
	}
	if x.Method == "" {
		x.Method = "INVITE"
	}
	if x.URI == "" {
		x.URI = "sip:bob@example.com"
	}
	if x.QOP != "" {
		if x.NC == "" {
			x.NC = "00000001"
		}
		if x.CNonce == "" {
			x.CNonce = "0a4f113b"
		}
	}
	hu := x.HashUser
	if hu == "" {
		hu = x.Username
	}
	c := &Credentials{Username: x.Username, Realm: x.Realm, Nonce: x.Nonce, URI: x.URI,
		QOP: x.QOP, NC: x.NC, CNonce: x.CNonce, Algorithm: x.Algorithm}
	resp := x.Response
	if resp == "" {
		resp = ExpectedResponse(HA1(hu, x.Realm, x.Password), c, x.Method, x.Body)
	}
	s := fmt.Sprintf(`%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"`,
		x.Header, x.Username, x.Realm, x.Nonce, x.URI, resp)
	if x.Algorithm != "" {
		s += ", algorithm=" + x.Algorithm
	}
	if x.QOP != "" {
		s += fmt.Sprintf(`, qop=%s, nc=%s, cnonce="%s"`, x.QOP, x.NC, x.CNonce)
	}
	return s + x.Extra
}

// req builds a request with the given extra header lines.
func req(t testing.TB, method string, hdrs ...string) *sipmsg.Msg {
	t.Helper()
	r := modtest.Request{Method: method, Headers: hdrs}
	if method == "REGISTER" {
		r.URI = "sip:example.com"
		r.To = "<sip:alice@example.com>"
		r.From = "<sip:alice@example.com>;tag=reg1"
	}
	return r.Msg(t)
}

var challengeRE = regexp.MustCompile(`^(WWW|Proxy)-Authenticate: Digest realm="([^"]*)", nonce="([0-9a-f]{48})"(, qop="auth")?(, stale=true)?, algorithm=MD5$`)

// challengeOf returns the challenge header line of the last reply and its
// parts: realm, nonce, qop and stale.
func (f *fixture) challengeOf() (code int, realm, nonce string, qop, stale bool) {
	f.t.Helper()
	r := f.core.LastReply(f.t)
	for _, l := range strings.Split(string(r.Bytes), "\r\n") {
		if m := challengeRE.FindStringSubmatch(l); m != nil {
			return r.Resp.StatusCode, m[2], m[3], m[4] != "", m[5] != ""
		}
	}
	f.t.Fatalf("no challenge in\n%s", r.Bytes)
	return
}
