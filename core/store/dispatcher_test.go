package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDispatcherSchema(t *testing.T) {
	s, _ := openTest(t)
	cols, pk := tableInfo(t, s, "dispatcher")
	if want := strings.Fields("id setid destination flags priority description"); !reflect.DeepEqual(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	if !reflect.DeepEqual(pk, []string{"id"}) {
		t.Errorf("primary key %v, want [id]", pk)
	}
}

func TestDispatcherDests(t *testing.T) {
	forEachEngine(t, testDispatcherDests)
}

func testDispatcherDests(t *testing.T, e engine) {
	s, _ := e.open(t)
	ctx := context.Background()
	add := func(d DispatcherDest) int {
		t.Helper()
		id, err := s.AddDispatcherDest(ctx, "", d)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := add(DispatcherDest{SetID: 2, Destination: "sip:10.0.0.3:5060", Description: "proxy b"})
	b := add(DispatcherDest{SetID: 1, Destination: "sip:10.0.0.1:5060", Flags: 8})
	c := add(DispatcherDest{SetID: 2, Destination: "sip:10.0.0.2:5060", Priority: 5})
	got, err := s.DispatcherDests(ctx, "dispatcher")
	if err != nil {
		t.Fatal(err)
	}
	want := []DispatcherDest{
		{ID: b, SetID: 1, Destination: "sip:10.0.0.1:5060", Flags: 8},
		{ID: c, SetID: 2, Destination: "sip:10.0.0.2:5060", Priority: 5},
		{ID: a, SetID: 2, Destination: "sip:10.0.0.3:5060", Description: "proxy b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows\n got %+v\nwant %+v", got, want)
	}
	if err := s.DeleteDispatcherDest(ctx, "", a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDispatcherDest(ctx, "", a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if got, _ := s.DispatcherDests(ctx, ""); len(got) != 2 {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestDispatcherInvalid(t *testing.T) {
	forEachEngine(t, testDispatcherInvalid)
}

func testDispatcherInvalid(t *testing.T, e engine) {
	s, _ := e.open(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		table string
		d     DispatcherDest
	}{
		{"bad table name", "dispatcher; DROP TABLE x", DispatcherDest{Destination: "sip:a"}},
		{"empty destination", "", DispatcherDest{}},
		{"long destination", "", DispatcherDest{Destination: "sip:" + strings.Repeat("a", 200)}},
		{"long description", "", DispatcherDest{Destination: "sip:a", Description: strings.Repeat("d", 65)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AddDispatcherDest(ctx, tc.table, tc.d); !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.DispatcherDests(ctx, "no_such_table"); err == nil || !strings.HasPrefix(err.Error(), "store: load dispatcher table no_such_table:") {
		t.Fatalf("missing table: %v", err)
	}
}
