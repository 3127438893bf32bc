package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSilo(t *testing.T) { forEachEngine(t, testSilo) }

func testSilo(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	if err := s.CheckSiloTable(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSiloTable(ctx, "no_such_silo"); err == nil {
		t.Error("CheckSiloTable of a missing table succeeded")
	}
	now := time.Unix(1_700_000_000, 0)
	msg := func(user, body string, ttl time.Duration) SiloMessage {
		return SiloMessage{From: "sip:alice@example.com", To: "sip:" + user + "@example.com", Username: user, Domain: "example.com",
			Received: now, Expires: now.Add(ttl), ContentType: "text/plain", Body: []byte(body)}
	}
	id1, err := s.StoreSiloMessage(ctx, "", msg("bob", "first", time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	bin := msg("bob", "\x00binary'\"\\", 2*time.Hour)
	bin.ContentType = ""
	id2, err := s.StoreSiloMessage(ctx, "silo", bin, 0)
	if err != nil || id2 <= id1 {
		t.Fatalf("second store: %d, %v (first %d)", id2, err, id1)
	}
	if _, err := s.StoreSiloMessage(ctx, "", msg("bob", "expired", time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreSiloMessage(ctx, "", msg("carol", "other", time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	// Unexpired at now+2s: the first two, oldest first, all columns back.
	got, err := s.SiloMessages(ctx, "", "bob", "example.com", now.Add(2*time.Second), 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("SiloMessages = %+v, %v", got, err)
	}
	if g := got[0]; g.MID != id1 || g.From != "sip:alice@example.com" || g.To != "sip:bob@example.com" || string(g.Body) != "first" ||
		!g.Received.Equal(now) || !g.Expires.Equal(now.Add(time.Hour)) || g.ContentType != "text/plain" || g.RURI != "" {
		t.Errorf("first = %+v", g)
	}
	if g := got[1]; g.MID != id2 || !bytes.Equal(g.Body, bin.Body) || g.ContentType != "text/plain" {
		t.Errorf("second = %+v", g)
	}
	if got, _ := s.SiloMessages(ctx, "", "bob", "example.com", now, 1); len(got) != 1 || got[0].MID != id1 {
		t.Errorf("limit 1: %+v", got)
	}
	// max_messages: bob has 3 unexpired at now.
	if _, err := s.StoreSiloMessage(ctx, "", msg("bob", "fourth", time.Hour), 3); !errors.Is(err, ErrSiloFull) || !errors.Is(err, ErrInvalid) {
		t.Errorf("store over the limit: %v", err)
	}
	if _, err := s.StoreSiloMessage(ctx, "", msg("bob", "fourth", time.Hour), 4); err != nil {
		t.Errorf("store under the limit: %v", err)
	}
	// Refused values.
	long := msg("bob", "x", time.Hour)
	long.From = "sip:" + strings.Repeat("a", 260) + "@example.com"
	if _, err := s.StoreSiloMessage(ctx, "", long, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("long src_addr: %v", err)
	}
	if _, err := s.StoreSiloMessage(ctx, "", msg("", "x", time.Hour), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty username: %v", err)
	}
	if _, err := s.StoreSiloMessage(ctx, "bad table", msg("bob", "x", time.Hour), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v", err)
	}
	// Clean-up of expired ones (exp_time <= now), then delivery deletes.
	if n, err := s.DeleteExpiredSilo(ctx, "", now.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSilo = %d, %v", n, err)
	}
	if n, err := s.DeleteSiloMessages(ctx, "", id1, id2, 999999); err != nil || n != 2 {
		t.Errorf("DeleteSiloMessages = %d, %v", n, err)
	}
	if n, err := s.DeleteSiloMessages(ctx, ""); err != nil || n != 0 {
		t.Errorf("DeleteSiloMessages() = %d, %v", n, err)
	}
	if got, _ := s.SiloMessages(ctx, "", "bob", "example.com", now, 0); len(got) != 1 || string(got[0].Body) != "fourth" {
		t.Errorf("left for bob: %+v", got)
	}
	if got, _ := s.SiloMessages(ctx, "", "carol", "example.com", now, 0); len(got) != 1 {
		t.Errorf("left for carol: %+v", got)
	}
}

// TestSiloStoreRollback: a failing insert leaves nothing behind.
func TestSiloStoreRollback(t *testing.T) { forEachEngine(t, testSiloStoreRollback) }

func testSiloStoreRollback(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	failTrigger(t, s, "silo_fail", "BEFORE INSERT", "silo", "")
	now := time.Unix(1_700_000_000, 0)
	_, err := s.StoreSiloMessage(ctx, "", SiloMessage{Username: "bob", Domain: "d", Received: now, Expires: now.Add(time.Hour), Body: []byte("x")}, 5)
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("store with failing trigger: %v", err)
	}
	if got, _ := s.SiloMessages(ctx, "", "bob", "d", now, 0); len(got) != 0 {
		t.Errorf("rows after failure: %+v", got)
	}
}
