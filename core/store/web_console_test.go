package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// countRows returns "table=n" for each table, for the web console tests.
func countRows(t *testing.T, s *Store, tables ...string) string {
	t.Helper()
	var out []string
	for _, tb := range tables {
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", tb, n))
	}
	return strings.Join(out, " ")
}

func TestPurgeSubscriber(t *testing.T) { forEachEngine(t, testPurgeSubscriber) }

func testPurgeSubscriber(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	seed := func() {
		t.Helper()
		for _, u := range []string{"alice", "bob"} {
			if err := s.AddSubscriber(ctx, Subscriber{Username: u, Domain: "example.com", Password: "pw"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Grant(ctx, u, "example.com", "ld"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddPhonebookEntry(ctx, PhonebookEntry{Username: u, Domain: "example.com", SIPURI: "sip:x@y.z"}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetPreference(ctx, Preference{Username: u, Domain: "example.com", Attribute: "a", Value: "1"}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSpeedDial(ctx, SpeedDial{Username: u, Domain: "example.com", SDUsername: "1", SDDomain: "example.com", NewURI: "sip:x@y.z"}); err != nil {
				t.Fatal(err)
			}
			if err := s.InsertAcc(ctx, "acc", AccRecord{Username: u, Domain: "example.com", Method: "INVITE"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.GrantPrivilege(ctx, "alice", "example.com", PrivIsAdmin, "1"); err != nil {
			t.Fatal(err)
		}
	}
	seed()
	tables := []string{"subscriber", "uri", "grp", "admin_privileges", "phonebook", "usr_preferences", "speed_dial", "acc"}
	// A failure in the last statement undoes everything.
	failTrigger(t, s, "fail_event", "BEFORE DELETE", "event", "")
	mustExec(t, s, "INSERT INTO event (username, domain, uri, description) VALUES ('alice', 'example.com', 'sip:a@b', 'x')")
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("PurgeSubscriber = %v, want the injected failure", err)
	}
	want := "subscriber=2 uri=2 grp=2 admin_privileges=1 phonebook=2 usr_preferences=2 speed_dial=2 acc=2"
	if got := countRows(t, s, tables...); got != want {
		t.Errorf("after failed purge %s, want %s", got, want)
	}
	mustExec(t, s, "DROP TRIGGER fail_event")
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
	want = "subscriber=1 uri=1 grp=1 admin_privileges=0 phonebook=1 usr_preferences=1 speed_dial=1 acc=2"
	if got := countRows(t, s, tables...); got != want {
		t.Errorf("after purge %s, want %s (bob kept, accounting kept)", got, want)
	}
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second purge: %v", err)
	}
}

func TestBootstrapAdmin(t *testing.T) { forEachEngine(t, testBootstrapAdmin) }

func testBootstrapAdmin(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	privs := []Privilege{{Name: PrivIsAdmin, Value: "1"}, {Name: PrivChangePrivileges, Value: "1"}}
	prefs := []Preference{{Attribute: "must_change", Value: "1"}}
	// The name is taken: ErrExists, nothing created.
	if err := s.AddSubscriber(ctx, Subscriber{Username: "admin", Domain: "example.com", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	ok, err := s.BootstrapAdmin(ctx, Subscriber{Username: "admin", Domain: "example.com", Password: "secret"}, privs, prefs)
	if ok || !errors.Is(err, ErrExists) {
		t.Fatalf("taken name: %v, %v", ok, err)
	}
	if got := countRows(t, s, "admin_privileges", "usr_preferences"); got != "admin_privileges=0 usr_preferences=0" {
		t.Errorf("after refused bootstrap: %s", got)
	}
	ok, err = s.BootstrapAdmin(ctx, Subscriber{Username: "admin2", Domain: "example.com", Password: "secret"}, privs, prefs)
	if !ok || err != nil {
		t.Fatalf("bootstrap: %v, %v", ok, err)
	}
	u, err := s.Subscriber(ctx, "admin2", "example.com")
	if err != nil || u.HA1 != HA1("admin2", "example.com", "secret") || u.PHPLibID == "" {
		t.Fatalf("admin subscriber %+v, %v", u, err)
	}
	if uris, _ := s.URIs(ctx, "admin2", "example.com"); len(uris) != 1 {
		t.Errorf("uri rows %v", uris)
	}
	if isAdmin, _ := s.IsAdmin(ctx, "admin2", "example.com"); !isAdmin {
		t.Error("not admin")
	}
	if p, _ := s.Preferences(ctx, "admin2", "example.com"); len(p) != 1 || p[0].Attribute != "must_change" {
		t.Errorf("preferences %+v", p)
	}
	// An administrator exists: nothing more is created.
	ok, err = s.BootstrapAdmin(ctx, Subscriber{Username: "admin3", Domain: "example.com", Password: "secret"}, privs, nil)
	if ok || err != nil {
		t.Fatalf("second bootstrap: %v, %v", ok, err)
	}
	if _, err := s.Subscriber(ctx, "admin3", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("admin3 created: %v", err)
	}
	if _, err := s.BootstrapAdmin(ctx, Subscriber{Username: "", Domain: "x"}, privs, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
}

func TestAllPrivilegesAndAccCounts(t *testing.T) { forEachEngine(t, testAllPrivilegesAndAccCounts) }

func testAllPrivilegesAndAccCounts(t *testing.T, e engine) {
	ctx := context.Background()
	s, clk := e.open(t)
	for _, p := range []Privilege{{"bob", "b.com", PrivIsAdmin, "1"}, {"alice", "a.com", PrivACLControl, "ld"}, {"alice", "a.com", PrivIsAdmin, "1"}} {
		if err := s.GrantPrivilege(ctx, p.Username, p.Domain, p.Name, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllPrivileges(ctx)
	if err != nil || len(all) != 3 || all[0] != (Privilege{"alice", "a.com", PrivACLControl, "ld"}) || all[2].Username != "bob" {
		t.Fatalf("AllPrivileges = %+v, %v", all, err)
	}
	for i, u := range []string{"alice", "bob", "bob", "carol", "bob"} {
		clk.Set(t0.Add(time.Duration(i) * time.Hour))
		if err := s.InsertAcc(ctx, "missed_calls", AccRecord{Username: u, Domain: "example.com", Method: "INVITE"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    AccFilter
		want string
	}{
		{name: "all", want: "bob=3 alice=1 carol=1"},
		{name: "limit", f: AccFilter{Page: Page{Limit: 1}}, want: "bob=3"},
		{name: "since", f: AccFilter{Since: t0.Add(2 * time.Hour)}, want: "bob=2 carol=1"},
		{name: "until", f: AccFilter{Until: t0.Add(time.Hour)}, want: "alice=1"},
		{name: "user", f: AccFilter{Username: "carol", Domain: "example.com"}, want: "carol=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counts, err := s.AccCounts(ctx, "missed_calls", tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range counts {
				got = append(got, fmt.Sprintf("%s=%d", c.Username, c.Records))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %v want %s", got, tc.want)
			}
		})
	}
	if _, err := s.AccCounts(ctx, "bad name", AccFilter{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
}
