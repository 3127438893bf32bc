package store

import (
	"context"
	"errors"
	"testing"
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
