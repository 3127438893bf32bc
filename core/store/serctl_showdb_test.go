package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestUserContactsAndOnlineUsers(t *testing.T) { forEachEngine(t, testUserContactsAndOnlineUsers) }

func testUserContactsAndOnlineUsers(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, u := range []Subscriber{
		{Username: "alice", Domain: "example.com", Password: "a", Email: "alice@example.com"},
		{Username: "alice", Domain: "other.org", Password: "a", Email: "alice@other.org"},
		{Username: "bob", Domain: "example.com", Password: "b", Email: "bob@example.com"},
	} {
		if err := s.AddSubscriber(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	a1 := contact("alice", "sip:alice@10.0.0.1", t0.Add(time.Hour))
	a2 := contact("alice", "sip:alice@10.0.0.2", t0.Add(2*time.Hour))
	nodom := contact("bob", "sip:bob@10.0.0.3", t0.Add(time.Hour))
	nodom.Domain = ""
	stranger := contact("carol", "sip:carol@10.0.0.4", t0.Add(time.Hour))
	for _, c := range []Contact{a1, a2, nodom, stranger} {
		if err := s.UpsertContact(ctx, "location", c); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name, user string
		want       []string
	}{
		{"latest expiry first", "alice", []string{"sip:alice@10.0.0.2", "sip:alice@10.0.0.1"}},
		{"row without domain", "bob", []string{"sip:bob@10.0.0.3"}},
		{"nobody", "dave", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := s.UserContacts(ctx, "location", tc.user)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Contact)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("UserContacts(%s) = %v, want %v", tc.user, got, tc.want)
			}
		})
	}

	got, err := s.OnlineUsers(ctx, "location")
	if err != nil {
		t.Fatal(err)
	}
	want := []OnlineUser{
		{"alice", "example.com", "alice@example.com", "cid-sip:alice@10.0.0.1"},
		{"alice", "example.com", "alice@example.com", "cid-sip:alice@10.0.0.2"},
		{"bob", "example.com", "bob@example.com", "cid-sip:bob@10.0.0.3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnlineUsers\n got %+v\nwant %+v", got, want)
	}

	if _, err := s.UserContacts(ctx, "location; drop", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v, want ErrInvalid", err)
	}
	if _, err := s.OnlineUsers(ctx, "no such"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v, want ErrInvalid", err)
	}
}
