package msilo

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/modules/tm"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
	"ser/internal/testing/testutil"
)

// fakeUAC records the requests; each stays pending until answered.
type fakeUAC struct {
	mu   sync.Mutex
	sent []tm.UACRequest
	done []func(tm.UACResult)
}

func (f *fakeUAC) Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, r)
	f.done = append(f.done, done)
	return "1:1", nil
}

func (f *fakeUAC) requests() []tm.UACRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tm.UACRequest(nil), f.sent...)
}

// answer completes request i with code.
func (f *fakeUAC) answer(i, code int) {
	f.mu.Lock()
	done := f.done[i]
	f.mu.Unlock()
	done(tm.UACResult{Code: code, Reason: "x"})
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	m     *Module
	uac   *fakeUAC
	st    *store.Store
	clock *testutil.Clock
	core  *modtest.Core
}

// load loads msilo with params over a fresh SQLite database, a real tm
// instance (for Init) and a fake UAC.
func load(t *testing.T, params map[string]any) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "silo.db"),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	core := modtest.NewCore()
	env := modtest.Env(t, core, map[string]any{"tm": tm.New()})
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{m: inst.(*Module), uac: &fakeUAC{}, st: st, clock: testutil.NewClock(t0), core: core}
	f.m.SetUAC(f.uac)
	f.m.SetClock(f.clock.Now)
	return f
}

func (f *fixture) call(t *testing.T, fn string, msg *sipmsg.Msg, args ...any) int {
	t.Helper()
	env := modtest.Env(t, f.core, nil)
	h := modtest.Bind(t, Exports, f.m, env, fn, args...)
	ret, err := h(msg)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

func (f *fixture) stored(t *testing.T, user, domain string) []store.SiloMessage {
	t.Helper()
	ms, err := f.st.SiloMessages(context.Background(), "", user, domain, f.clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func message(body string, hdrs ...string) modtest.Request {
	return modtest.Request{Method: "MESSAGE", URI: "sip:bob@example.com", ContentType: "text/plain", Body: body,
		Headers: append([]string{"Contact: <sip:alice@192.0.2.1:5062>"}, hdrs...)}
}

func register(hdrs ...string) modtest.Request {
	if len(hdrs) == 0 {
		hdrs = []string{"Contact: <sip:bob@192.0.2.7:5070>", "Expires: 3600"}
	}
	return modtest.Request{Method: "REGISTER", URI: "sip:example.com", To: "<sip:bob@example.com>",
		From: "<sip:bob@example.com>;tag=r1", Headers: hdrs}
}

// TestStoreAndNotice: m_store("0") keeps SER's columns and the registrar
// tells the sender, at its Contact, in SER's words.
func TestStoreAndNotice(t *testing.T) {
	f := load(t, map[string]any{"registrar": "sip:registrar@example.com"})
	if ret := f.call(t, "m_store", message("hello bob").Msg(t), "0"); ret != 1 {
		t.Fatalf("m_store = %d", ret)
	}
	ms := f.stored(t, "bob", "example.com")
	if len(ms) != 1 {
		t.Fatalf("stored %+v", ms)
	}
	s := ms[0]
	if s.From != "sip:alice@example.com" || s.To != "sip:bob@example.com" || string(s.Body) != "hello bob" ||
		s.ContentType != "text/plain" || !s.Received.Equal(t0) || !s.Expires.Equal(t0.Add(DefaultExpireTime*time.Second)) {
		t.Errorf("row %+v", s)
	}
	reqs := f.uac.requests()
	if len(reqs) != 1 {
		t.Fatalf("notices %+v", reqs)
	}
	n := reqs[0]
	if n.Method != "MESSAGE" || n.RURI != "sip:alice@192.0.2.1:5062" || n.To != "<sip:alice@example.com>" || n.From != "<sip:registrar@example.com>" ||
		string(n.Body) != "User [sip:bob@example.com] is offline. The message will be delivered when user goes online." ||
		strings.Join(n.Headers, "|") != "Content-Type: text/plain|Contact: <sip:registrar@example.com>;msilo=yes" {
		t.Errorf("notice %+v", n)
	}
}

func TestNoticeOptions(t *testing.T) {
	// use_contact=0: the notice goes to the From URI.
	f := load(t, map[string]any{"registrar": "sip:registrar@example.com", "use_contact": 0})
	f.call(t, "m_store", message("x").Msg(t), "0")
	if r := f.uac.requests(); len(r) != 1 || r[0].RURI != "sip:alice@example.com" {
		t.Errorf("use_contact 0: %+v", r)
	}
	// No registrar: stored, no notice.
	f = load(t, nil)
	if f.call(t, "m_store", message("x").Msg(t), "0") != 1 || len(f.stored(t, "bob", "example.com")) != 1 {
		t.Error("not stored without registrar")
	}
	if r := f.uac.requests(); len(r) != 0 {
		t.Errorf("notice without registrar: %+v", r)
	}
	// next_hop (the later SER line's second argument) is where the notice goes.
	f = load(t, map[string]any{"registrar": "sip:registrar@example.com"})
	f.call(t, "m_store", message("x").Msg(t), "1", "sip:10.0.0.9:5060")
	if r := f.uac.requests(); len(r) != 1 || r[0].NextHop != "sip:10.0.0.9:5060" {
		t.Errorf("next hop: %+v", r)
	}
}

// TestStoreModes: where the recipient comes from (SER's m_store modes).
func TestStoreModes(t *testing.T) {
	f := load(t, nil)
	// Mode 0: a rewritten R-URI that is an address of record wins.
	m := message("m0").Msg(t)
	if err := m.SetURI("sip:carol@example.org"); err != nil {
		t.Fatal(err)
	}
	f.call(t, "m_store", m, "0")
	if len(f.stored(t, "carol", "example.org")) != 1 {
		t.Error("mode 0: not stored for the new R-URI")
	}
	// Mode 1 ignores the rewrite (a failure route after lookup): the R-URI as received.
	m = message("m1").Msg(t)
	m.SetURI("sip:carol@192.0.2.55:5060")
	f.call(t, "m_store", m, "1")
	if len(f.stored(t, "bob", "example.com")) != 1 {
		t.Error("mode 1: not stored for the received R-URI")
	}
	// Mode 0 with a rewrite to a contact (an IP host): the received R-URI.
	f.call(t, "m_store", m, "0")
	if len(f.stored(t, "bob", "example.com")) != 2 {
		t.Error("mode 0 with a contact R-URI: not stored for bob")
	}
	// An R-URI with an IP host is no address of record: the To URI.
	r := message("ip")
	r.URI = "sip:dave@192.0.2.9"
	r.To = "<sip:dave@example.net>"
	f.call(t, "m_store", r.Msg(t), "1")
	if len(f.stored(t, "dave", "example.net")) != 1 {
		t.Error("IP R-URI: not stored for the To URI")
	}
	// The domain is kept in lower case (host names are case-insensitive).
	r = message("case")
	r.URI = "sip:gina@Example.COM"
	f.call(t, "m_store", r.Msg(t), "1")
	if len(f.stored(t, "gina", "example.com")) != 1 {
		t.Error("domain not lower-cased")
	}
	// Mode 2: the To URI only.
	r = message("to")
	r.URI = "sip:erin@example.com"
	r.To = "<sip:frank@example.com>"
	f.call(t, "m_store", r.Msg(t), "2")
	if len(f.stored(t, "frank", "example.com")) != 1 || len(f.stored(t, "erin", "example.com")) != 0 {
		t.Error("mode 2: not stored for the To URI")
	}
}

// TestStoreRefused: what SER refused, and the per-user limit.
func TestStoreRefused(t *testing.T) {
	f := load(t, map[string]any{"registrar": "sip:registrar@example.com", "max_messages": 2})
	noCT := message("x")
	noCT.ContentType = ""
	toReg := message("x")
	toReg.To = "<sip:registrar@example.com>"
	fromReg := message("x")
	fromReg.From = "<sip:registrar@example.com>;tag=9"
	for name, r := range map[string]modtest.Request{"empty body": message(""), "no Content-Type": noCT, "to registrar": toReg, "from registrar": fromReg} {
		if ret := f.call(t, "m_store", r.Msg(t), "0"); ret != -1 {
			t.Errorf("%s: m_store = %d", name, ret)
		}
	}
	if len(f.uac.requests()) != 0 || len(f.stored(t, "bob", "example.com")) != 0 {
		t.Fatal("something was stored or sent")
	}
	for i, want := range []int{1, 1, -1} {
		if ret := f.call(t, "m_store", message("n").Msg(t), "0"); ret != want {
			t.Errorf("message %d: m_store = %d, want %d", i+1, ret, want)
		}
	}
	if n := len(f.stored(t, "bob", "example.com")); n != 2 {
		t.Errorf("%d stored, limit 2", n)
	}
}

// TestStoreExpires: a smaller Expires header of the MESSAGE wins.
func TestStoreExpires(t *testing.T) {
	f := load(t, map[string]any{"expire_time": 600})
	f.call(t, "m_store", message("a", "Expires: 60").Msg(t), "0")
	f.call(t, "m_store", message("b", "Expires: 6000").Msg(t), "0")
	ms := f.stored(t, "bob", "example.com")
	if len(ms) != 2 || !ms[0].Expires.Equal(t0.Add(60*time.Second)) || !ms[1].Expires.Equal(t0.Add(600*time.Second)) {
		t.Errorf("%+v", ms)
	}
	ct := message("<b>x</b>")
	ct.ContentType = "text/html; charset=utf-8"
	f.call(t, "m_store", ct.Msg(t), "0")
	if ms := f.stored(t, "bob", "example.com"); len(ms) != 3 || ms[2].ContentType != "text/html" {
		t.Errorf("ctype: %+v", ms)
	}
}

// TestDump: m_dump sends every stored message once, to the AoR, with
// SER's headers and body; a 2xx deletes it, a failure keeps it for the
// next registration.
func TestDump(t *testing.T) {
	f := load(t, nil)
	f.call(t, "m_store", message("first").Msg(t), "0")
	html := message("<i>second</i>")
	html.ContentType = "text/html"
	f.clock.Advance(time.Minute)
	f.call(t, "m_store", html.Msg(t), "0")
	if ret := f.call(t, "m_dump", register().Msg(t)); ret != 1 {
		t.Fatalf("m_dump = %d", ret)
	}
	reqs := f.uac.requests()
	if len(reqs) != 2 {
		t.Fatalf("dumped %+v", reqs)
	}
	d := reqs[0]
	wantBody := "[Offline message - " + t0.Local().Format("Mon Jan _2 15:04:05 2006") + "] first"
	if d.Method != "MESSAGE" || d.RURI != "sip:bob@example.com" || d.From != "<sip:alice@example.com>" || d.To != "<sip:bob@example.com>" ||
		string(d.Body) != wantBody || strings.Join(d.Headers, "|") != "Content-Type: text/plain|Contact: <sip:alice@example.com>;msilo=yes" {
		t.Errorf("dumped %+v (body %q)", d, d.Body)
	}
	if string(reqs[1].Body) != "<i>second</i>" || reqs[1].Headers[0] != "Content-Type: text/html" {
		t.Errorf("html dumped %+v", reqs[1])
	}
	// Another REGISTER while both are in flight sends nothing.
	f.call(t, "m_dump", register().Msg(t))
	if n := len(f.uac.requests()); n != 2 {
		t.Fatalf("%d requests after a second REGISTER in flight", n)
	}

	f.uac.answer(0, 200)
	f.uac.answer(1, 480)
	f.m.Tick()
	ms := f.stored(t, "bob", "example.com")
	if len(ms) != 1 || string(ms[0].Body) != "<i>second</i>" {
		t.Fatalf("left after 200 and 480: %+v", ms)
	}
	// The undelivered one goes again with the next registration, only it.
	f.call(t, "m_dump", register().Msg(t))
	reqs = f.uac.requests()
	if len(reqs) != 3 || string(reqs[2].Body) != "<i>second</i>" {
		t.Fatalf("requests %+v", reqs)
	}
	f.uac.answer(2, 202)
	f.m.Tick()
	if ms := f.stored(t, "bob", "example.com"); len(ms) != 0 {
		t.Errorf("left %+v", ms)
	}
	f.call(t, "m_dump", register().Msg(t))
	if n := len(f.uac.requests()); n != 3 {
		t.Errorf("%d requests, a delivered message was sent again", n)
	}
}

// TestDumpDomainCase: the To host of the REGISTER in other case is the
// same user.
func TestDumpDomainCase(t *testing.T) {
	f := load(t, nil)
	f.call(t, "m_store", message("x").Msg(t), "0")
	f.call(t, "m_dump", modtest.Request{Method: "REGISTER", URI: "sip:example.com", To: "<sip:bob@EXAMPLE.com>",
		From: "<sip:bob@example.com>;tag=r2", Headers: []string{"Contact: <sip:bob@192.0.2.7:5070>"}}.Msg(t))
	if r := f.uac.requests(); len(r) != 1 || r[0].RURI != "sip:bob@EXAMPLE.com" {
		t.Errorf("%+v", r)
	}
}

// TestDumpOffline: a REGISTER that removes the bindings dumps nothing.
func TestDumpOffline(t *testing.T) {
	f := load(t, nil)
	f.call(t, "m_store", message("x").Msg(t), "0")
	for name, r := range map[string]modtest.Request{
		"Expires: 0":       register("Contact: <sip:bob@192.0.2.7:5070>", "Expires: 0"),
		"contact expires":  register("Contact: <sip:bob@192.0.2.7:5070>;expires=0"),
		"Contact: * and 0": register("Contact: *", "Expires: 0"),
	} {
		if ret := f.call(t, "m_dump", r.Msg(t)); ret != -1 {
			t.Errorf("%s: m_dump = %d", name, ret)
		}
	}
	if n := len(f.uac.requests()); n != 0 {
		t.Errorf("%d requests sent to an offline user", n)
	}
	// A query (no Contact) dumps, as in SER.
	if ret := f.call(t, "m_dump", register("Expires: 10").Msg(t)); ret != 1 || len(f.uac.requests()) != 1 {
		t.Errorf("query: %d, %d requests", ret, len(f.uac.requests()))
	}
}

// TestExpiry: an expired message is never sent and the timer deletes it
// every clean_period-th tick.
func TestExpiry(t *testing.T) {
	f := load(t, map[string]any{"clean_period": 2})
	f.call(t, "m_store", message("old", "Expires: 30").Msg(t), "0")
	f.clock.Advance(31 * time.Second)
	f.call(t, "m_dump", register().Msg(t))
	if n := len(f.uac.requests()); n != 0 {
		t.Errorf("expired message sent (%d requests)", n)
	}
	count := func() int {
		all, err := f.st.SiloMessages(context.Background(), "", "bob", "example.com", time.Unix(0, 0), 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	f.m.Tick()
	if count() != 1 {
		t.Error("deleted before clean_period ticks")
	}
	f.m.Tick()
	if count() != 0 {
		t.Error("expired message kept after clean_period ticks")
	}
}

// TestNextHopMyself: a domain this server serves is reached through its
// own socket (no DNS for the alias).
func TestNextHopMyself(t *testing.T) {
	f := load(t, nil)
	f.core.Aliases = []string{"example.com"}
	f.call(t, "m_store", message("x").Msg(t), "0")
	f.call(t, "m_dump", register().Msg(t))
	if r := f.uac.requests(); len(r) != 1 || r[0].NextHop != "sip:127.0.0.1:5060;transport=udp" {
		t.Errorf("%+v", r)
	}
	if hop := f.m.nextHop("sip:bob@192.0.2.7:5070", ""); hop != "" {
		t.Errorf("next hop of an address: %q", hop)
	}
	if hop := f.m.nextHop("sip:bob@elsewhere.example", ""); hop != "" {
		t.Errorf("next hop of a foreign domain: %q", hop)
	}
}

// TestConfigErrors: bad arguments and modparams are refused at load time.
func TestConfigErrors(t *testing.T) {
	f := load(t, nil)
	env := modtest.Env(t, f.core, nil)
	for _, args := range [][]any{{"3"}, {"x"}, {"0", "not a uri"}} {
		if _, err := modtest.BindErr(Exports, f.m, env, "m_store", args...); err == nil {
			t.Errorf("m_store%v bound", args)
		}
	}
	if _, err := modtest.BindErr(Exports, f.m, env, "m_dump", "mailto:x@y"); err == nil {
		t.Error("m_dump(mailto:) bound")
	}
	for p, v := range map[string]any{"registrar": "registrar@example.com", "expire_time": 0, "check_time": -1,
		"clean_period": 0, "max_messages": -1, "db_table": "si lo", "sc_body": "text"} {
		env := modtest.Env(t, f.core, map[string]any{"tm": tm.New()})
		env.Check = true
		if _, err := modtest.LoadEnv(Exports, env, map[string]any{p: v}); err == nil {
			t.Errorf("modparam %s = %v accepted", p, v)
		}
	}
	// Without tm the module does not load.
	env = modtest.Env(t, f.core, nil)
	env.Check = true
	if _, err := modtest.LoadEnv(Exports, env, nil); err == nil || !strings.Contains(err.Error(), "tm") {
		t.Errorf("without tm: %v", err)
	}
	// A config check opens no database and accepts SER's defaults.
	env = modtest.Env(t, f.core, map[string]any{"tm": tm.New()})
	env.Check = true
	if _, err := modtest.LoadEnv(Exports, env, map[string]any{"db_url": "mysql://user:xxx@127.0.0.1/msilo", "sc_body": "body", "db_table": "silo"}); err != nil {
		t.Errorf("check: %v", err)
	}
	// A missing table stops the start.
	env = modtest.Env(t, f.core, map[string]any{"tm": tm.New()})
	env.DB = func(string) (*store.Store, error) { return f.st, nil }
	if _, err := modtest.LoadEnv(Exports, env, map[string]any{"db_table": "silo2"}); err == nil || !strings.Contains(err.Error(), "silo2") {
		t.Errorf("missing table: %v", err)
	}
}

// TestStartStop: the timer runs and a 2xx deletes the row without
// waiting for it; Stop flushes.
func TestStartStop(t *testing.T) {
	f := load(t, map[string]any{"check_time": 3600})
	f.call(t, "m_store", message("x").Msg(t), "0")
	f.call(t, "m_dump", register().Msg(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	f.uac.answer(0, 200)
	deadline := time.Now().Add(10 * time.Second)
	for len(f.stored(t, "bob", "example.com")) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("delivered message not deleted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.m.Stop()
}
