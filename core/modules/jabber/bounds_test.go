package jabber

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/modules/tm"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

type nullUAC struct {
	mu   sync.Mutex
	sent []tm.UACRequest
}

func (u *nullUAC) Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error) {
	u.mu.Lock()
	u.sent = append(u.sent, r)
	u.mu.Unlock()
	return "1:1", nil
}

// loadGateway loads the module against server addr (host:port) with the
// given parameters and accounts for alice and bob.
func loadGateway(t *testing.T, addr string, params map[string]any, jabDomain ...string) (*Module, *modtest.Core) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "jab.db"),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "bob"} {
		id := u
		if len(jabDomain) > 0 {
			id += "@" + jabDomain[0]
		}
		if err := st.SetJabberAccount(context.Background(), store.JabberAccount{SIPID: "sip:" + u + "@example.com", JabID: id, Password: "pw"}); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	all := map[string]any{"jaddress": host, "jport": p, "jdomain": "jabber.example.com"}
	for k, v := range params {
		all[k] = v
	}
	core := modtest.NewCore()
	env := modtest.Env(t, core, map[string]any{"tm": tm.New()})
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, all)
	if err != nil {
		t.Fatal(err)
	}
	m := inst.(*Module)
	m.SetUAC(&nullUAC{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); m.Stop() })
	return m, core
}

func sendAs(t *testing.T, m *Module, core *modtest.Core, user, body string) int {
	t.Helper()
	return call(t, m, core, "jab_send_message", user, "sip:bob*example.org@jabber.example.com", body)
}

// call runs a jabber function for a MESSAGE from user@example.com to uri.
func call(t *testing.T, m *Module, core *modtest.Core, fn, user, uri, body string) int {
	t.Helper()
	if body == "" {
		body = "."
	}
	msg := modtest.Request{Method: "MESSAGE", URI: uri, From: "<sip:" + user + "@example.com>;tag=1",
		To: "<" + uri + ">", ContentType: "text/plain", Body: body}.Msg(t)
	h := modtest.Bind(t, Exports, m, modtest.Env(t, core, nil), fn)
	ret, err := h(msg)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

// A server that accepts connections and never answers keeps a login
// pending: the SIP side is not held, the gateway takes at most workers ×
// max_jobs users and queues at most 10 messages per user.
func TestBounds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // silent
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	m, core := loadGateway(t, ln.Addr().String(), map[string]any{"workers": 1, "max_jobs": 1})
	ok := 0
	for i := 0; i < 15; i++ {
		if sendAs(t, m, core, "alice", "m"+strconv.Itoa(i)) > 0 {
			ok++
		}
	}
	if ok != queueSize {
		t.Errorf("%d messages queued for a pending login, want %d", ok, queueSize)
	}
	if sendAs(t, m, core, "bob", "hi") > 0 {
		t.Error("a second user was taken with workers=1, max_jobs=1")
	}
	if s := m.Sessions(); len(s) != 1 || s["sip:alice@example.com"] {
		t.Errorf("sessions %v", s)
	}
}

// A server that refuses connections makes the first message fail later
// (the notice) and the following ones false at once.
func TestServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	m, core := loadGateway(t, addr, nil)
	uac := &nullUAC{}
	m.SetUAC(uac)
	sendAs(t, m, core, "alice", "first")
	for i := 0; ; i++ {
		if !m.down.Load() {
			if i > 1000 {
				t.Fatal("the server was never marked down")
			}
			waitShort()
			continue
		}
		break
	}
	if sendAs(t, m, core, "bob", "second") > 0 {
		t.Error("a message was taken while the server is down")
	}
	for i := 0; ; i++ {
		uac.mu.Lock()
		n := len(uac.sent)
		var body string
		if n > 0 {
			body = string(uac.sent[0].Body)
		}
		uac.mu.Unlock()
		if n > 0 {
			if body != msgNoJSrv || !strings.Contains(uac.sent[0].From, "bob*example.org@jabber.example.com") {
				t.Fatalf("notice %q from %s", body, uac.sent[0].From)
			}
			break
		}
		if i > 1000 {
			t.Fatal("no notice for the message that could not be sent")
		}
		waitShort()
	}
}

func waitShort() { <-time.After(10 * time.Millisecond) }
