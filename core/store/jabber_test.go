package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestJabberAccounts(t *testing.T) { forEachEngine(t, testJabberAccounts) }

func testJabberAccounts(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	const sid = "sip:alice@example.com"
	if _, err := s.EnabledJabberAccount(ctx, sid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
	if err := s.SetJabberAccount(ctx, JabberAccount{SIPID: sid, JabID: "alice"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("new account without password: %v", err)
	}
	if err := s.SetJabberAccount(ctx, JabberAccount{SIPID: sid, JabID: "alice", Password: "p'w\"1"}); err != nil {
		t.Fatal(err)
	}
	a, err := s.EnabledJabberAccount(ctx, sid)
	if err != nil || a.JabID != "alice" || a.Password != "p'w\"1" {
		t.Fatalf("account %+v, %v", a, err)
	}
	// An empty password keeps the stored one; disabling hides the account
	// from the gateway but not from the console.
	if err := s.SetJabberAccount(ctx, JabberAccount{SIPID: sid, JabID: "alice2", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnabledJabberAccount(ctx, sid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disabled account found: %v", err)
	}
	if id, off, err := s.JabberAccountID(ctx, sid); err != nil || id != "alice2" || !off {
		t.Fatalf("JabberAccountID = %q %v %v", id, off, err)
	}
	if err := s.SetJabberAccount(ctx, JabberAccount{SIPID: sid, JabID: "alice2"}); err != nil {
		t.Fatal(err)
	}
	if a, err := s.EnabledJabberAccount(ctx, sid); err != nil || a.Password != "p'w\"1" {
		t.Fatalf("password not kept: %+v %v", a, err)
	}
	if err := s.SetJabberAccount(ctx, JabberAccount{SIPID: sid, JabID: "x", Password: strings.Repeat("p", 51)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long password: %v", err)
	}
	if err := s.DeleteJabberAccount(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJabberAccount(ctx, sid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
