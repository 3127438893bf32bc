package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/core"
	_ "ser/core/modules"
	"ser/core/rpc"
	"ser/core/store"
	"ser/internal/testing/testutil"
)

// serCfg is a registrar with location and aliases tables, tm and sl.
const serCfg = `
fork=no
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 0)
route {
	if (method=="REGISTER") { save("location"); break; };
	lookup("aliases");
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); break; };
	t_relay();
}
`

// t0 is the tests' start time.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// clock is a settable clock shared by the store and the app.
type clock = testutil.Clock

// testExec runs commands on ser's registry, with per-command overrides
// (canned replies, transport failures) and a record of what was run.
type testExec struct {
	reg *rpc.Registry
	mu  sync.Mutex
	// fail makes every command fail as a transport error when set.
	fail bool
	// override answers the named commands instead of ser.
	override map[string]func(params []string) (*rpc.Reply, error)
	calls    []string
	params   map[string][]string
}

func (x *testExec) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	x.mu.Lock()
	x.calls = append(x.calls, cmd)
	if x.params == nil {
		x.params = map[string][]string{}
	}
	x.params[cmd] = append([]string(nil), params...)
	fail, f := x.fail, x.override[cmd]
	x.mu.Unlock()
	if fail {
		return nil, io.ErrUnexpectedEOF
	}
	if f != nil {
		return f(params)
	}
	return x.reg.Execute(ctx, cmd, rpc.Lines(params), rpc.FIFO), nil
}

func (x *testExec) setFail(b bool) { x.mu.Lock(); x.fail = b; x.mu.Unlock() }

func (x *testExec) on(cmd string, f func([]string) (*rpc.Reply, error)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.override == nil {
		x.override = map[string]func([]string) (*rpc.Reply, error){}
	}
	x.override[cmd] = f
}

func (x *testExec) lastParams(cmd string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.params[cmd]
}

// env is a console over a fresh database and a loaded (not started) ser.
type env struct {
	t    *testing.T
	app  *App
	st   *store.Store
	exec *testExec
	inst *core.Instance
	srv  *httptest.Server
	clk  *clock
	logs *syncBuffer
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Users seeded by newEnv (password for all: "password1").
const testPW = "password1"

// newEnv opens a store, seeds root@example.com (is_admin,
// change_privileges), alice@example.com and bob@example.com, loads ser
// with cfg ("" = serCfg) and starts the console on an httptest server.
func newEnv(t *testing.T, cfg string, tweak ...func(*Options)) *env {
	t.Helper()
	if cfg == "" {
		cfg = serCfg
	}
	clk := testutil.NewClock(t0)
	logs := &syncBuffer{}
	lg := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ser.db"), store.WithClock(clk.Now),
		store.WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for _, u := range []string{"root", "alice", "bob"} {
		if err := st.AddSubscriber(ctx, store.Subscriber{Username: u, Domain: "example.com", Password: testPW,
			FirstName: strings.ToUpper(u[:1]) + u[1:]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{store.PrivIsAdmin, store.PrivChangePrivileges} {
		if err := st.GrantPrivilege(ctx, "root", "example.com", p, "1"); err != nil {
			t.Fatal(err)
		}
	}
	inst, err := core.Load("test.cfg", []byte(cfg), core.LoadOptions{
		Log: lg,
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Host: "127.0.0.1", Port: 0, PortSet: true}}
			o.Port = 0
			o.FIFO, o.UnixSock, o.HTTP = "", "", ""
			o.DBURL = "sqlite://:memory:"
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.Stop)
	x := &testExec{reg: inst.Server.RPC()}
	opts := Options{Store: st, Exec: x, Domain: "example.com", Logger: lg, Clock: clk.Now}
	for _, f := range tweak {
		f(&opts)
	}
	app, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	app.Mount(r)
	r.NotFound(app.notFound)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	e := &env{t: t, app: app, st: st, exec: x, inst: inst, srv: srv, clk: clk, logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	return e
}

// page is one HTTP answer.
type page struct {
	status int
	body   string
	loc    string // Location of a redirect
	header http.Header
}

// browser is an HTTP client with cookies that does not follow redirects
// and keeps the last CSRF token it saw.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := &page{status: resp.StatusCode, body: string(body), loc: resp.Header.Get("Location"), header: resp.Header}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get fetches a path.
func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form (key, value pairs) with the current CSRF token.
func (b *browser) post(path string, kv ...string) *page {
	b.t.Helper()
	v := url.Values{"csrf": {b.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return b.postValues(path, v)
}

// postValues sends a form as given (no token added).
func (b *browser) postValues(path string, v url.Values) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login logs in and fails the test if that does not work.
func (b *browser) login(user, pw string) {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", "username", user, "password", pw)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d\n%s", user, p.status, p.body)
	}
}

// as returns a browser logged in as user (password testPW).
func (e *env) as(user string) *browser {
	b := e.browser()
	b.login(user, testPW)
	return b
}

// want fails unless p has status and its body holds every string.
func (p *page) want(t *testing.T, status int, contains ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d (location %q)\n%s", p.status, status, p.loc, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

// redirectsTo fails unless p is a redirect to loc.
func (p *page) redirectsTo(t *testing.T, loc string) {
	t.Helper()
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		t.Fatalf("status %d, want a redirect to %s\n%s", p.status, loc, p.body)
	}
	if p.loc != loc {
		t.Fatalf("redirect to %q, want %q", p.loc, loc)
	}
}
