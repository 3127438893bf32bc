package acc

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loadAcc loads the module with params over a fresh SQLite database and a
// real (idle) tm instance; it returns the instance, its log and the store.
func loadAcc(t *testing.T, params map[string]any) (*Acc, *syncBuf, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "acc.db"),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := modtest.Env(t, modtest.NewCore(), map[string]any{"tm": tm.New()})
	buf := &syncBuf{}
	env.Log = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("module", "acc")
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Acc), buf, st
}

func rows(t *testing.T, st *store.Store, table string) []store.AccRecord {
	t.Helper()
	rs, _, err := st.ListAcc(context.Background(), table, store.AccFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func reply(t *testing.T, code int, reason string) (*sip.Response, []byte) {
	t.Helper()
	raw := modtest.CRLF("SIP/2.0 " + strconv.Itoa(code) + " " + reason + `
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1
From: "Alice" <sip:alice@example.com>;tag=a1
To: <sip:+4930123@iptel.org>;tag=gw-7
Call-ID: call-1@192.0.2.10
CSeq: 42 INVITE
Content-Length: 0

`)
	m := modtest.Parse(t, raw)
	return m.Resp, []byte(raw)
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]any
		method   string
		flags    []int
		code     int
		reason   string
		local    bool
		wantLog  []string // substrings, in order; nil = no ACC line
		wantAcc  int
		wantMiss int
	}{
		{name: "answered", params: map[string]any{"db_flag": 1}, flags: []int{1}, code: 200, reason: "OK",
			wantLog: []string{"ACC: transaction answered: method=INVITE", "status=200"}, wantAcc: 1},
		{name: "no flag", params: map[string]any{"db_flag": 1}, code: 200, reason: "OK"},
		{name: "failed without missed flag", params: map[string]any{"db_flag": 1}, flags: []int{1}, code: 486, reason: "Busy Here"},
		{name: "missed", params: map[string]any{"db_flag": 1, "db_missed_flag": 3, "log_missed_flag": 2},
			flags: []int{1, 2, 3}, code: 486, reason: "Busy Here",
			wantLog: []string{"ACC: call missed: method=INVITE", "status=486 Busy Here"}, wantMiss: 1},
		{name: "missed local timeout", params: map[string]any{"log_missed_flag": 2, "log_fmt": "mts"},
			flags: []int{2}, code: 408, reason: "Request Timeout", local: true,
			wantLog: []string{"ACC: call missed: method=INVITE, to=<sip:+4930123@iptel.org>, status=408 Request Timeout"}},
		{name: "failed transactions", params: map[string]any{"failed_transactions": 1, "db_flag": 1}, flags: []int{1}, code: 486, reason: "Busy Here",
			wantLog: []string{"transaction answered", "status=486"}, wantAcc: 1},
		{name: "failed transaction flag", params: map[string]any{"failed_transaction_flag": 5}, flags: []int{1, 5}, code: 603, reason: "Decline",
			wantLog: []string{"transaction answered", "status=603"}},
		{name: "failed transaction flag not set", params: map[string]any{"failed_transaction_flag": 5}, flags: []int{1}, code: 603, reason: "Decline"},
		{name: "bye", method: "BYE", flags: []int{1}, code: 200, reason: "OK", wantLog: []string{"method=BYE"}},
		{name: "failed bye is no missed call", method: "BYE", flags: []int{1, 2}, code: 481, reason: "Call/Transaction Does Not Exist"},
		{name: "cancel skipped", method: "CANCEL", flags: []int{1}, code: 200, reason: "OK"},
		{name: "cancel reported", method: "CANCEL", params: map[string]any{"report_cancels": 1}, flags: []int{1}, code: 200, reason: "OK",
			wantLog: []string{"method=CANCEL"}},
		{name: "acc_flag alias", params: map[string]any{"acc_flag": 4}, flags: []int{4}, code: 200, reason: "OK",
			wantLog: []string{"transaction answered"}},
		{name: "flag 0 disables", params: map[string]any{"log_flag": 0}, flags: []int{0, 1}, code: 200, reason: "OK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, buf, st := loadAcc(t, tc.params)
			text := testInvite
			if tc.method != "" {
				text = strings.ReplaceAll(text, "INVITE", tc.method)
			}
			req := modtest.Parse(t, text)
			for _, f := range tc.flags {
				req.SetFlag(f)
			}
			o := Outcome{Req: req, Code: tc.code, Reason: tc.reason}
			if !tc.local {
				o.Reply, o.ReplyRaw = reply(t, tc.code, tc.reason)
			}
			a.Complete(o)
			logged := buf.String()
			if tc.wantLog == nil && strings.Contains(logged, "ACC:") {
				t.Errorf("unexpected ACC line:\n%s", logged)
			}
			rest := logged
			for _, w := range tc.wantLog {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("log lacks %q:\n%s", w, logged)
				}
				rest = rest[i+len(w):]
			}
			if n := len(rows(t, st, "acc")); n != tc.wantAcc {
				t.Errorf("acc rows = %d, want %d", n, tc.wantAcc)
			}
			if n := len(rows(t, st, "missed_calls")); n != tc.wantMiss {
				t.Errorf("missed_calls rows = %d, want %d", n, tc.wantMiss)
			}
		})
	}
}

func TestCompleteRows(t *testing.T) {
	a, _, st := loadAcc(t, map[string]any{"db_url": "", "db_table_missed_calls": "missed_calls"})
	req := testReq(t)
	req.SetFlag(1)
	req.SetFlag(2)
	resp, raw := reply(t, 200, "OK")
	a.Complete(Outcome{Req: req, Code: 200, Reason: "OK", Reply: resp, ReplyRaw: raw})
	rs := rows(t, st, "acc")
	if len(rs) != 1 {
		t.Fatalf("acc rows: %+v", rs)
	}
	r := rs[0]
	if r.Method != "INVITE" || r.Status != "200" || r.ToTag != "gw-7" || r.FromTag != "a1" ||
		r.Username != "alice" || r.Domain != "example.com" || r.OURI != "sip:+4930123@192.168.0.10:5060" ||
		r.IURI != "sip:+4930123@iptel.org;user=phone" || r.To != "<sip:+4930123@iptel.org>;tag=gw-7" ||
		r.CallID != "call-1@192.0.2.10" || r.Time.IsZero() {
		t.Errorf("acc row: %+v", r)
	}
	resp, raw = reply(t, 486, "Busy Here")
	req2 := testReq(t)
	req2.SetFlag(2)
	a.Complete(Outcome{Req: req2, Code: 486, Reason: "Busy Here", Reply: resp, ReplyRaw: raw})
	mc := rows(t, st, "missed_calls")
	if len(mc) != 1 || mc[0].Status != "486 Busy Here" || mc[0].Username != "+4930123" || mc[0].Domain != "iptel.org" {
		t.Errorf("missed_calls rows: %+v", mc)
	}
}

func TestScriptFunctions(t *testing.T) {
	a, buf, st := loadAcc(t, map[string]any{"log_fmt": "mfs"})
	env := a.env
	h := modtest.Bind(t, Exports, a, env, "acc_log_request", "404 Not Found")
	m := testReq(t)
	if ret, err := h(m); ret != 1 || err != nil {
		t.Fatalf("acc_log_request = %d, %v", ret, err)
	}
	want := `ACC: request accounted: method=INVITE, from="Alice" <sip:alice@example.com>;tag=a1, status=404 Not Found`
	if !strings.Contains(buf.String(), strings.ReplaceAll(want, `"`, `\"`)) {
		t.Errorf("log lacks %q:\n%s", want, buf.String())
	}
	d := modtest.Bind(t, Exports, a, env, "acc_db_request", "404 Not Found", "missed_calls")
	if ret, _ := d(m); ret != 1 {
		t.Fatalf("acc_db_request = %d", ret)
	}
	mc := rows(t, st, "missed_calls")
	if len(mc) != 1 || mc[0].Status != "404 Not Found" || mc[0].Username != "alice" {
		t.Errorf("missed_calls: %+v", mc)
	}
	if _, err := modtest.BindErr(Exports, a, env, "acc_db_request", "x", "bad table"); err == nil {
		t.Error("a bad table name was accepted")
	}
	// A table that does not exist: the insert fails, the call is false.
	d2 := modtest.Bind(t, Exports, a, env, "acc_db_request", "x", "nosuchtable")
	if ret, _ := d2(m); ret != -1 {
		t.Errorf("insert into a missing table = %d, want -1", ret)
	}
}

func TestParams(t *testing.T) {
	tests := []struct {
		name  string
		param string
		val   any
		ok    bool
	}{
		{"log_level", "log_level", 1, true},
		{"log_level too low", "log_level", -4, false},
		{"log_fmt", "log_fmt", "miocfsDX", true},
		{"log_fmt unknown letter", "log_fmt", "miocfz", false},
		{"log_fmt too long", "log_fmt", allLogFmt + "c", false},
		{"log_fmt empty", "log_fmt", "", false},
		{"flag", "log_flag", 31, true},
		{"flag out of range", "log_flag", 32, false},
		{"flag not a number", "acc_flag", "one", false},
		{"report_ack off", "report_ack", 0, true},
		{"report_ack on", "report_ack", 1, false},
		{"early_media on", "early_media", 1, false},
		{"table", "db_table_acc", "acc_2", true},
		{"bad table", "db_table_acc", "acc;drop", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := Exports.FindParam(tc.param)
			if !ok {
				t.Fatalf("no modparam %s", tc.param)
			}
			err := p.Set(New(), modtest.Values(tc.val)[0])
			if (err == nil) != tc.ok {
				t.Errorf("Set(%v) error = %v, want ok=%v", tc.val, err, tc.ok)
			}
		})
	}
}

func TestInitNeedsTMAndDB(t *testing.T) {
	env := modtest.Env(t, modtest.NewCore(), nil)
	if _, err := modtest.LoadEnv(Exports, env, nil); err == nil || !strings.Contains(err.Error(), "tm") {
		t.Errorf("init without tm: %v", err)
	}
	env = modtest.Env(t, modtest.NewCore(), map[string]any{"tm": tm.New()})
	if _, err := modtest.LoadEnv(Exports, env, map[string]any{"db_flag": 1}); err == nil {
		t.Error("SQL accounting without a database was accepted")
	}
	// Without Instance (script compile tests), init binds nothing.
	if err := Exports.Init(New(), &module.Env{}); err != nil {
		t.Error(err)
	}
}
