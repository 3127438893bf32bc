package store

import (
	"context"
	"errors"
	"testing"
)

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

func TestAllPrivileges(t *testing.T) { forEachEngine(t, testAllPrivileges) }

func testAllPrivileges(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, p := range []Privilege{{"bob", "b.com", PrivIsAdmin, "1"}, {"alice", "a.com", PrivACLControl, "ld"}, {"alice", "a.com", PrivIsAdmin, "1"}} {
		if err := s.GrantPrivilege(ctx, p.Username, p.Domain, p.Name, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllPrivileges(ctx)
	if err != nil || len(all) != 3 || all[0] != (Privilege{"alice", "a.com", PrivACLControl, "ld"}) || all[2].Username != "bob" {
		t.Fatalf("AllPrivileges = %+v, %v", all, err)
	}
}
