package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

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
