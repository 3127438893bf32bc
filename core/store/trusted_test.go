package store

import (
	"context"
	"errors"
	"testing"
)

func TestTrusted(t *testing.T) { forEachEngine(t, testTrusted) }

func testTrusted(t *testing.T, eng engine) {
	ctx := context.Background()
	s, _ := eng.open(t)
	rows := []Trusted{
		{SrcIP: "192.0.2.1", Proto: "any", FromPattern: "^sip:.*@gw\\.example\\.com$"},
		{SrcIP: "192.0.2.1", Proto: "tcp", FromPattern: ".*"},
		{SrcIP: "0:0:0:0:0:0:0:1", Proto: "udp", FromPattern: "^sip:"},
	}
	for _, r := range rows {
		if err := s.AddTrusted(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddTrusted(ctx, rows[0]); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	all, err := s.TrustedEntries(ctx, TrustedSchema{})
	if err != nil || len(all) != 3 {
		t.Fatalf("all: %v %v", all, err)
	}
	some, err := s.TrustedEntries(ctx, TrustedSchema{Table: "trusted", SourceColumn: "src_ip", ProtoColumn: "proto", FromColumn: "from_pattern"}, "192.0.2.1", "192.0.2.9")
	if err != nil || len(some) != 2 {
		t.Fatalf("by address: %v %v", some, err)
	}
	if _, err := s.TrustedEntries(ctx, TrustedSchema{Table: "trusted;"}); err == nil {
		t.Error("bad table name accepted")
	}
	if err := s.DeleteTrusted(ctx, rows[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTrusted(ctx, rows[2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
}
