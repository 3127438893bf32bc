package store

import (
	"context"
	"errors"
	"testing"
)

func TestReplacePreferences(t *testing.T) { forEachEngine(t, testReplacePreferences) }

func testReplacePreferences(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	set := func(v map[string]string) {
		t.Helper()
		if err := s.ReplacePreferences(ctx, "alice", "example.com", 0, v); err != nil {
			t.Fatal(err)
		}
	}
	get := func() map[string]string {
		t.Helper()
		ps, err := s.Preferences(ctx, "alice", "example.com")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range ps {
			if p.Type != 0 {
				t.Errorf("%s has type %d", p.Attribute, p.Type)
			}
			out[p.Attribute] = p.Value
		}
		return out
	}
	set(map[string]string{"callfwd": "sip:bob@example.com", "fwdbusy": "sip:vm@example.com", "fwdnoanswer": ""})
	if g := get(); len(g) != 2 || g["callfwd"] != "sip:bob@example.com" || g["fwdbusy"] != "sip:vm@example.com" {
		t.Errorf("after set: %v", g)
	}
	set(map[string]string{"callfwd": "", "fwdbusy": "sip:carol@example.com", "fwdnoanswer": "sip:vm@example.com"})
	if g := get(); len(g) != 2 || g["fwdbusy"] != "sip:carol@example.com" || g["fwdnoanswer"] != "sip:vm@example.com" {
		t.Errorf("after replace: %v", g)
	}
	// A value too long for the column changes nothing.
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'a'
	}
	if err := s.ReplacePreferences(ctx, "alice", "example.com", 0, map[string]string{"fwdbusy": "", "callfwd": string(long)}); err == nil {
		t.Error("129-character value accepted")
	}
	if g := get(); g["fwdbusy"] != "sip:carol@example.com" {
		t.Errorf("a refused change was half made: %v", g)
	}
}

func TestStoredMessages(t *testing.T) { forEachEngine(t, testStoredMessages) }

func testStoredMessages(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	for i, m := range []struct{ user string }{{"alice"}, {"bob"}, {"alice"}} {
		if _, err := s.w.ExecContext(ctx, "INSERT INTO silo (src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			"sip:carol@example.com", "sip:"+m.user+"@example.com", "sip:"+m.user+"@example.com", m.user, "example.com",
			1700000000+i, 1700003600+i, "text/plain", []byte("hello "+m.user)); err != nil {
			t.Fatal(err)
		}
	}
	ms, total, err := s.StoredMessages(ctx, "alice", "example.com", Page{})
	if err != nil || total != 2 || len(ms) != 2 || string(ms[0].Body) != "hello alice" || ms[0].Received.Unix() != 1700000002 ||
		ms[0].Expires.Unix() != 1700003602 || ms[0].From != "sip:carol@example.com" {
		t.Fatalf("alice's messages %+v %d %v", ms, total, err)
	}
	all, total, err := s.StoredMessages(ctx, "", "", Page{Limit: 1})
	if err != nil || total != 3 || len(all) != 1 {
		t.Fatalf("all messages %+v %d %v", all, total, err)
	}
	// A user cannot delete another's message; an administrator can.
	bobs, _, _ := s.StoredMessages(ctx, "bob", "example.com", Page{})
	if err := s.DeleteStoredMessage(ctx, bobs[0].MID, "alice", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice deleted bob's message: %v", err)
	}
	if err := s.DeleteStoredMessage(ctx, bobs[0].MID, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStoredMessage(ctx, ms[0].MID, "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.StoredMessages(ctx, "", "", Page{}); total != 1 {
		t.Errorf("%d left", total)
	}
}

func TestAccAnyOf(t *testing.T) { forEachEngine(t, testAccAnyOf) }

func testAccAnyOf(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	for _, r := range []AccRecord{{Username: "carol", Domain: "example.com"}, {Username: "5551234", Domain: "example.com"},
		{Username: "carol", Domain: "192.0.2.1"}, {Username: "carol", Domain: "other.org"}, {Username: "5551234", Domain: "other.org"}} {
		r.CallID = r.Username + "@" + r.Domain
		if err := s.InsertAcc(ctx, "missed_calls", r); err != nil {
			t.Fatal(err)
		}
	}
	f := AccFilter{AnyOf: []AccUser{{"carol", "example.com"}, {"carol", "192.0.2.1"}, {"5551234", "example.com"}}}
	if _, n, err := s.ListAcc(ctx, "missed_calls", f); err != nil || n != 3 {
		t.Errorf("ListAcc AnyOf: %d, %v", n, err)
	}
	if c, err := s.AccCounts(ctx, "missed_calls", f); err != nil || len(c) != 3 {
		t.Errorf("AccCounts AnyOf: %+v, %v", c, err)
	}
}
