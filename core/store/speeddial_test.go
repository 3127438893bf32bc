package store

import (
	"context"
	"errors"
	"testing"
)

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
	// sd_lookup's key sets: without domains, with the caller's only, and
	// a table/column schema spelled out.
	other := SpeedDial{Username: "alice", Domain: "other.org", SDUsername: "11", SDDomain: "other.org", NewURI: "sip:dave@other.org"}
	if err := s.SetSpeedDial(ctx, other); err != nil {
		t.Fatal(err)
	}
	sc := SpeedDialSchema{Table: "speed_dial", UserColumn: "username", DomainColumn: "domain", SDUserColumn: "sd_username", SDDomainColumn: "sd_domain", NewURIColumn: "new_uri"}
	for _, tc := range []struct {
		k    SpeedDialKey
		want string
	}{
		{SpeedDialKey{Username: "alice", Domain: "other.org", SDUsername: "11", UseDomain: true}, "sip:dave@other.org"},
		{SpeedDialKey{Username: "alice", Domain: "example.com", SDUsername: "11", SDDomain: "example.com", UseDomain: true, UseSDDomain: true}, "sip:carol@example.com"},
		{SpeedDialKey{Username: "alice", Domain: "example.com", SDUsername: "11", SDDomain: "other.org", UseDomain: true, UseSDDomain: true}, ""},
	} {
		uri, err := s.LookupSpeedDialIn(ctx, sc, tc.k)
		if tc.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%+v: %q, %v", tc.k, uri, err)
			}
		} else if err != nil || uri != tc.want {
			t.Errorf("%+v: %q, %v, want %s", tc.k, uri, err, tc.want)
		}
	}
	if uri, err := s.LookupSpeedDialIn(ctx, SpeedDialSchema{}, SpeedDialKey{Username: "alice", SDUsername: "11"}); err != nil || uri == "" {
		t.Errorf("without domains: %q, %v", uri, err)
	}
	if _, err := s.LookupSpeedDialIn(ctx, SpeedDialSchema{Table: "speed dial"}, SpeedDialKey{Username: "alice"}); err == nil {
		t.Error("bad table name accepted")
	}
	if err := s.DeleteSpeedDial(ctx, "alice", "other.org", "11", "other.org"); err != nil {
		t.Fatal(err)
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
