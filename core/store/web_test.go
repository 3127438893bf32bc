package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestPhonebook(t *testing.T) { forEachEngine(t, testPhonebook) }

func testPhonebook(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	var ids []int64
	for _, e := range []PhonebookEntry{
		{Username: "alice", Domain: "example.com", FName: "Carol", LName: "Zed", SIPURI: "sip:carol@example.com"},
		{Username: "alice", Domain: "example.com", FName: "Bob", LName: "Abel", SIPURI: "sip:bob@example.com"},
		{Username: "alice", Domain: "example.com", FName: "Dan", LName: "Moe", SIPURI: "sip:dan@example.com"},
		{Username: "bob", Domain: "example.com", FName: "Alice", SIPURI: "sip:alice@example.com"},
	} {
		id, err := s.AddPhonebookEntry(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	page, total, err := s.Phonebook(ctx, "alice", "example.com", Page{Limit: 2})
	if err != nil || total != 3 || len(page) != 2 || page[0].LName != "Abel" || page[1].LName != "Moe" {
		t.Fatalf("Phonebook = %+v, %d, %v", page, total, err)
	}
	page, _, _ = s.Phonebook(ctx, "alice", "example.com", Page{Limit: 2, Offset: 2})
	if len(page) != 1 || page[0].LName != "Zed" {
		t.Errorf("second page %+v", page)
	}
	e := page[0]
	e.SIPURI = "sip:carol@example.org"
	if err := s.UpdatePhonebookEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PhonebookEntry(ctx, "alice", "example.com", e.ID); err != nil || got != e {
		t.Errorf("PhonebookEntry = %+v, %v; want %+v", got, err, e)
	}
	// Someone else's entry is not found, for reading, updating and deleting.
	if _, err := s.PhonebookEntry(ctx, "bob", "example.com", ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("foreign read: %v", err)
	}
	e.Username = "bob"
	if err := s.UpdatePhonebookEntry(ctx, e); !errors.Is(err, ErrNotFound) {
		t.Errorf("foreign update: %v", err)
	}
	if err := s.DeletePhonebookEntry(ctx, "bob", "example.com", ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("foreign delete: %v", err)
	}
	if err := s.DeletePhonebookEntry(ctx, "alice", "example.com", ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.Phonebook(ctx, "alice", "example.com", Page{}); total != 2 {
		t.Errorf("total after delete %d", total)
	}
	if _, err := s.AddPhonebookEntry(ctx, PhonebookEntry{Username: "alice", FName: string(make([]byte, 33))}); !errors.Is(err, ErrInvalid) {
		t.Errorf("long fname: %v", err)
	}
}

func TestSessions(t *testing.T) { forEachEngine(t, testSessions) }

func testSessions(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	if err := s.CreateSession(ctx, "ser_sess", "abc", "data1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, "ser_sess", "abc", "x"); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate session: %v", err)
	}
	ws, err := s.Session(ctx, "ser_sess", "abc")
	if err != nil || ws.Value != "data1" || !ws.Changed.Equal(t0) {
		t.Fatalf("Session = %+v, %v", ws, err)
	}
	var changed string
	s.r.QueryRow("SELECT changed FROM active_sessions").Scan(&changed)
	if changed != "20050210110921" {
		t.Errorf("changed stored as %q, want PHPLIB's YYYYMMDDhhmmss", changed)
	}
	c.Set(t0.Add(10 * time.Minute))
	if err := s.TouchSession(ctx, "ser_sess", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSession(ctx, "ser_sess", "def", "data2"); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(20 * time.Minute))
	if err := s.SaveSession(ctx, "ser_sess", "def", "data3"); err != nil {
		t.Fatal(err)
	}
	if ws, _ := s.Session(ctx, "ser_sess", "def"); ws.Value != "data3" || !ws.Changed.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("after save %+v", ws)
	}
	n, err := s.ExpireSessions(ctx, t0.Add(15*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("ExpireSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.Session(ctx, "ser_sess", "abc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	if err := s.DeleteSession(ctx, "ser_sess", "def"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"touch":  s.TouchSession(ctx, "ser_sess", "def"),
		"delete": s.DeleteSession(ctx, "ser_sess", "def"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s missing: %v", name, err)
		}
	}
	if err := s.CreateSession(ctx, "", "x", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
}

func TestAcc(t *testing.T) { forEachEngine(t, testAcc) }

func testAcc(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	for i := range 6 {
		r := AccRecord{From: "<sip:alice@example.com>;tag=1", To: "<sip:bob@example.com>", Status: "200 OK",
			Method: "INVITE", CallID: fmt.Sprintf("call-%d", i), Username: "alice", Domain: "example.com",
			Time: t0.Add(time.Duration(i) * time.Hour)}
		if i%2 == 1 {
			r.Method, r.Username = "BYE", "bob"
		}
		if err := s.InsertAcc(ctx, "acc", r); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(t0.Add(time.Minute))
	long := AccRecord{From: string(make([]byte, 300)), Method: "INVITE-TOO-LONG-METHOD", Username: "carol"}
	if err := s.InsertAcc(ctx, "missed_calls", long); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		table  string
		f      AccFilter
		calls  string
		total  int
		filter func(AccRecord) bool
	}{
		{"all newest first", "acc", AccFilter{Page: Page{Limit: 2}}, "call-5,call-4", 6, nil},
		{"user", "acc", AccFilter{Username: "alice", Domain: "example.com"}, "call-4,call-2,call-0", 3, nil},
		{"date range", "acc", AccFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, "call-2,call-1", 2, nil},
		{"method page 2", "acc", AccFilter{Method: "BYE", Page: Page{Limit: 2, Offset: 2}}, "call-1", 3, nil},
		{"callid", "acc", AccFilter{CallID: "call-3"}, "call-3", 1, nil},
		{"missed calls", "missed_calls", AccFilter{Username: "carol"}, "", 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, total, err := s.ListAcc(ctx, tc.table, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var calls []string
			for _, r := range rs {
				calls = append(calls, r.CallID)
			}
			if got := joinComma(calls); got != tc.calls || total != tc.total {
				t.Errorf("got %s (total %d), want %s (total %d)", got, total, tc.calls, tc.total)
			}
		})
	}
	rs, _, _ := s.ListAcc(ctx, "missed_calls", AccFilter{})
	if len(rs) != 1 || len(rs[0].From) != 128 || rs[0].Method != "INVITE-TOO-LONG-" || !rs[0].Time.Equal(t0.Add(time.Minute)) ||
		!rs[0].Timestamp.Equal(t0.Add(time.Minute)) {
		t.Errorf("cut record %+v", rs)
	}
	if err := s.DeleteAccRecord(ctx, "missed_calls", rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccRecord(ctx, "missed_calls", rs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing record: %v", err)
	}
	if n, err := s.DeleteUserAcc(ctx, "acc", "bob", "example.com"); err != nil || n != 3 {
		t.Errorf("DeleteUserAcc = %d, %v", n, err)
	}
	if err := s.InsertAcc(ctx, "acc; DROP TABLE acc", AccRecord{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func TestCut(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"long", "abcdef", 5, "abcde"},
		{"utf8 boundary", "aéé", 4, "aé"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cut(tc.in, tc.max); got != tc.want {
				t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestPreferences(t *testing.T) { forEachEngine(t, testPreferences) }

func testPreferences(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	if err := s.SetPreferenceType(ctx, PreferenceType{Name: "fw_on_busy", RawType: 2, DefaultValue: "0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreferenceType(ctx, PreferenceType{Name: "lang", RichType: "list", TypeSpec: "en,de"}); err != nil {
		t.Fatal(err)
	}
	types, _ := s.PreferenceTypes(ctx)
	if len(types) != 2 || types[0].RichType != "string" || types[1].TypeSpec != "en,de" {
		t.Errorf("PreferenceTypes = %+v", types)
	}
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "lang", Value: "en", Type: 2}); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Hour))
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "lang", Value: "de", Type: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPreference(ctx, Preference{Username: "alice", Domain: "example.com", Attribute: "fw_on_busy", Value: "1"}); err != nil {
		t.Fatal(err)
	}
	ps, _ := s.Preferences(ctx, "alice", "example.com")
	if len(ps) != 2 || ps[1].Attribute != "lang" || ps[1].Value != "de" || !ps[1].Modified.Equal(t0.Add(time.Hour)) {
		t.Errorf("Preferences = %+v", ps)
	}
	if err := s.DeletePreferenceType(ctx, "lang"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.Preferences(ctx, "alice", "example.com"); len(ps) != 1 {
		t.Errorf("deleting the type kept its values: %+v", ps)
	}
	if err := s.DeletePreferenceType(ctx, "lang"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing type: %v", err)
	}
	if err := s.DeletePreference(ctx, "alice", "example.com", "fw_on_busy"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePreference(ctx, "alice", "example.com", "fw_on_busy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing preference: %v", err)
	}
}

func TestSpeedDial(t *testing.T) { forEachEngine(t, testSpeedDial) }

func testSpeedDial(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	e := SpeedDial{Username: "alice", Domain: "example.com", SDUsername: "11", SDDomain: "example.com", NewURI: "sip:bob@example.com"}
	if err := s.SetSpeedDial(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.NewURI = "sip:carol@example.com"
	if err := s.SetSpeedDial(ctx, e); err != nil {
		t.Fatal(err)
	}
	if uri, err := s.LookupSpeedDial(ctx, "alice", "example.com", "11", "example.com"); err != nil || uri != "sip:carol@example.com" {
		t.Errorf("LookupSpeedDial = %q, %v", uri, err)
	}
	if _, err := s.LookupSpeedDial(ctx, "alice", "example.com", "12", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup missing: %v", err)
	}
	if l, _ := s.SpeedDials(ctx, "alice", "example.com"); len(l) != 1 || l[0] != e {
		t.Errorf("SpeedDials = %+v", l)
	}
	if err := s.DeleteSpeedDial(ctx, "alice", "example.com", "11", "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSpeedDial(ctx, "alice", "example.com", "11", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
}
