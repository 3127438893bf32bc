package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGeneric runs the FIFO DB command's table-agnostic calls on both
// engines: values come back with the same Go types whatever the driver.
func TestGeneric(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		s, _ := e.open(t)
		ctx := context.Background()
		when := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
		str := func(v string) Value { return Value{Kind: KindString, Str: v} }
		for _, u := range []string{"alice", "bob"} {
			err := s.GenericInsert(ctx, "grp", []Cond{{"username", "=", str(u)}, {"domain", "=", str("example.com")},
				{"grp", "=", str("ld")}, {"last_modified", "=", Value{Kind: KindDate, Time: when}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := s.GenericInsert(ctx, "grp", []Cond{{"username", "=", str("bob")}, {"domain", "=", str("example.com")}, {"grp", "=", str("ld")}})
		if !errors.Is(err, ErrExists) {
			t.Fatalf("duplicate insert: %v", err)
		}
		res, err := s.GenericSelect(ctx, "grp", []string{"username", "last_modified"}, []Cond{{"username", "like", str("b%")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 || res.Rows[0][0] != "bob" || res.Rows[0][1] != when {
			t.Fatalf("select: %v %#v", res.Cols, res.Rows)
		}
		n, err := s.GenericUpdate(ctx, "grp", []Cond{{"grp", "=", str("local")}}, []Cond{{"username", "!=", str("bob")}})
		if err != nil || n != 1 {
			t.Fatalf("update: %d %v", n, err)
		}
		res, err = s.RawQuery(ctx, "SELECT COUNT(*) AS n, SUM(1.5) AS d FROM grp WHERE grp = 'local'")
		if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != int64(1) || res.Rows[0][1] != 1.5 {
			t.Fatalf("raw query: %#v %v", res, err)
		}
		if n, err := s.GenericDelete(ctx, "grp", nil); err != nil || n != 2 {
			t.Fatalf("delete all: %d %v", n, err)
		}
		if _, err := s.GenericSelect(ctx, "grp", []string{"username; --"}, nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad column accepted: %v", err)
		}
		if _, err := s.GenericDelete(ctx, "grp", []Cond{{"username", "or", str("x")}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad operator accepted: %v", err)
		}
	})
}
