package pa

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/modules/tm"
	"ser/core/store"
)

// fakeUAC records the requests pa sends and answers them with code.
type fakeUAC struct {
	mu   sync.Mutex
	reqs []tm.UACRequest
	code int
}

func (f *fakeUAC) Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	code := f.code
	f.mu.Unlock()
	go done(tm.UACResult{Code: code})
	return "x", nil
}

func (f *fakeUAC) last(t *testing.T, n int) tm.UACRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) != n {
		t.Fatalf("%d requests sent, want %d", len(f.reqs), n)
	}
	return f.reqs[n-1]
}

func header(r tm.UACRequest, name string) string {
	for _, h := range r.Headers {
		if n, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(n, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// watched returns a module with one subscription of alice to bob.
func watched(t *testing.T) (*Module, *fakeUAC, *time.Time) {
	m := New()
	now := time.Unix(1_700_000_000, 0)
	m.SetClock(func() time.Time { return now })
	u := &fakeUAC{code: 200}
	m.SetUAC(u)
	d := m.domain("registrar")
	p := d.presentityLocked("sip:bob@example.com")
	w := &watcher{Watcher: store.Watcher{SID: "s1", PDomain: "registrar", RURI: p.uri, WURI: "sip:alice@example.com",
		Package: "presence", Status: "active", Expires: now.Add(time.Minute), CallID: "c1", FromTag: "ft", ToTag: "tt",
		Contact: "sip:alice@192.0.2.1:5060", Route: "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>", CSeq: 1}, pres: p}
	p.watchers["s1"] = w
	d.byDlg[dlgKey("c1", "ft", "tt")] = w
	m.total = 1
	p.last = m.documentLocked(d, p)
	return m, u, &now
}

func TestExternalStatus(t *testing.T) {
	m, u, _ := watched(t)
	if err := m.SetExternalStatus("sip:Bob@EXAMPLE.com", Open, "on XMPP"); err != nil {
		t.Fatal(err)
	}
	r := u.last(t, 1)
	if r.Method != "NOTIFY" || r.RURI != "sip:alice@192.0.2.1:5060" || r.NextHop != "sip:p1.example.com;lr" || r.CSeq != 2 ||
		r.From != "<sip:bob@example.com>;tag=tt" || r.To != "<sip:alice@example.com>;tag=ft" || r.CallID != "c1" ||
		header(r, "Route") != "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>" || header(r, "Subscription-State") != "active;expires=60" ||
		!strings.Contains(string(r.Body), "<basic>open</basic>") || !strings.Contains(string(r.Body), "<note>on XMPP</note>") {
		t.Fatalf("NOTIFY: %+v\n%s", r, r.Body)
	}
	if b, note := m.Status("", "sip:bob@example.com"); b != Open || note != "on XMPP" {
		t.Errorf("Status = %s %q", b, note)
	}
	// The same state again sends nothing.
	m.SetExternalStatus("sip:bob@example.com", Open, "on XMPP")
	u.last(t, 1)
	m.ClearExternalStatus("sip:bob@example.com")
	if r = u.last(t, 2); !strings.Contains(string(r.Body), "<basic>closed</basic>") || r.CSeq != 3 {
		t.Fatalf("NOTIFY after clear: %+v\n%s", r, r.Body)
	}
	if err := m.SetExternalStatus("sip:bob@example.com", "away", ""); err == nil {
		t.Error("a basic state other than open/closed was taken")
	}
}

func TestExpiryAndWatcherGone(t *testing.T) {
	m, u, now := watched(t)
	*now = now.Add(2 * time.Minute)
	m.Tick()
	r := u.last(t, 1)
	if header(r, "Subscription-State") != "terminated;reason=timeout" {
		t.Fatalf("NOTIFY at expiry: %+v", r)
	}
	if m.total != 0 || len(m.domains["registrar"].pres) != 0 || len(m.domains["registrar"].byDlg) != 0 {
		t.Fatalf("subscription kept: total %d", m.total)
	}

	// A watcher answering 481 loses its subscription.
	m, u, _ = watched(t)
	u.code = 481
	m.SetExternalStatus("sip:bob@example.com", Open, "")
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		m.mu.Lock()
		n := m.total
		m.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Fatal("subscription kept after 481")
}

func TestGoesOffline(t *testing.T) {
	mk := func(expires string, contacts ...string) *sip.Request {
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: "example.com"})
		if expires != "" {
			req.AppendHeader(sip.NewHeader("Expires", expires))
		}
		for _, c := range contacts {
			h := &sip.ContactHeader{}
			if c == "*" {
				h.Address.Wildcard = true
			} else {
				addr, params, _ := strings.Cut(c, ";")
				sip.ParseUri(addr, &h.Address)
				h.Params = sip.NewParams()
				if k, v, ok := strings.Cut(params, "="); ok {
					h.Params.Add(k, v)
				}
			}
			req.AppendHeader(h)
		}
		return req
	}
	for _, c := range []struct {
		req  *sip.Request
		want bool
	}{
		{mk("0", "sip:a@h"), true},
		{mk("", "sip:a@h;expires=0"), true},
		{mk("0", "*"), true},
		{mk("3600", "sip:a@h"), false},
		{mk("0", "sip:a@h;expires=60"), false},
		{mk("0"), false}, // a query
	} {
		if got := goesOffline(c.req); got != c.want {
			t.Errorf("goesOffline(%v) = %v", c.req.Headers(), got)
		}
	}
}

func TestSplitComma(t *testing.T) {
	got := splitComma(`<sip:a;lr>, "x, y" <sip:b>,<sip:c?h=1,2>`)
	if len(got) != 3 || strings.TrimSpace(got[1]) != `"x, y" <sip:b>` || got[2] != "<sip:c?h=1,2>" {
		t.Errorf("splitComma = %q", got)
	}
}
