package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheckColumns(t *testing.T) { forEachEngine(t, testCheckColumns) }

func testCheckColumns(t *testing.T, e engine) {
	s, _ := e.open(t)
	noTable := "no such table"
	if s.d == MySQL {
		noTable = "doesn't exist"
	}
	tests := []struct {
		name    string
		table   string
		cols    []string
		err     error
		errText string
	}{
		{name: "subscriber credentials", table: "subscriber", cols: []string{"username", "domain", "ha1", "ha1b", "password"}},
		{name: "case-insensitive", table: "grp", cols: []string{"USERNAME", "Grp"}},
		{name: "no columns asked", table: "grp"},
		{name: "missing columns", table: "subscriber", cols: []string{"username", "pw", "hash"}, err: ErrNotFound, errText: "no column pw, hash"},
		{name: "missing table", table: "nosuch", cols: []string{"a"}, errText: noTable},
		{name: "bad table name", table: "a b", err: ErrInvalid},
		{name: "bad column name", table: "grp", cols: []string{"grp;"}, err: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CheckColumns(context.Background(), tc.table, tc.cols...)
			if tc.err == nil && tc.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want %v %q", err, tc.err, tc.errText)
			}
		})
	}
}
