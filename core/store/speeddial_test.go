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
