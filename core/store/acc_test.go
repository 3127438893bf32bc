package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAcc(t *testing.T) { forEachEngine(t, testAcc) }

func testAcc(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	for i := range 6 {
		r := AccRecord{From: "<sip:alice@example.com>;tag=1", To: "<sip:bob@example.com>", Status: "200 OK",
			Method: "INVITE", CallID: fmt.Sprintf("call-%d", i), Username: "alice", Domain: "example.com",
			Time: t0.Add(time.Duration(i) * time.Hour)}
		if i%2 == 1 {
			r.Method, r.Username = "BYE", "bob"
		}
		if err := s.InsertAcc(ctx, "acc", r); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(t0.Add(time.Minute))
	long := AccRecord{From: string(make([]byte, 300)), Method: "INVITE-TOO-LONG-METHOD", Username: "carol"}
	if err := s.InsertAcc(ctx, "missed_calls", long); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		table  string
		f      AccFilter
		calls  string
		total  int
		filter func(AccRecord) bool
	}{
		{"all newest first", "acc", AccFilter{Page: Page{Limit: 2}}, "call-5,call-4", 6, nil},
		{"user", "acc", AccFilter{Username: "alice", Domain: "example.com"}, "call-4,call-2,call-0", 3, nil},
		{"date range", "acc", AccFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, "call-2,call-1", 2, nil},
		{"method page 2", "acc", AccFilter{Method: "BYE", Page: Page{Limit: 2, Offset: 2}}, "call-1", 3, nil},
		{"callid", "acc", AccFilter{CallID: "call-3"}, "call-3", 1, nil},
		{"missed calls", "missed_calls", AccFilter{Username: "carol"}, "", 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, total, err := s.ListAcc(ctx, tc.table, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var calls []string
			for _, r := range rs {
				calls = append(calls, r.CallID)
			}
			if got := joinComma(calls); got != tc.calls || total != tc.total {
				t.Errorf("got %s (total %d), want %s (total %d)", got, total, tc.calls, tc.total)
			}
		})
	}
	rs, _, _ := s.ListAcc(ctx, "missed_calls", AccFilter{})
	if len(rs) != 1 || len(rs[0].From) != 128 || rs[0].Method != "INVITE-TOO-LONG-" || !rs[0].Time.Equal(t0.Add(time.Minute)) ||
		!rs[0].Timestamp.Equal(t0.Add(time.Minute)) {
		t.Errorf("cut record %+v", rs)
	}
	if err := s.DeleteAccRecord(ctx, "missed_calls", rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccRecord(ctx, "missed_calls", rs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing record: %v", err)
	}
	if n, err := s.DeleteUserAcc(ctx, "acc", "bob", "example.com"); err != nil || n != 3 {
		t.Errorf("DeleteUserAcc = %d, %v", n, err)
	}
	if err := s.InsertAcc(ctx, "acc; DROP TABLE acc", AccRecord{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func TestCut(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"long", "abcdef", 5, "abcde"},
		{"utf8 boundary", "aéé", 4, "aé"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cut(tc.in, tc.max); got != tc.want {
				t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestAccCounts(t *testing.T) { forEachEngine(t, testAccCounts) }

func testAccCounts(t *testing.T, e engine) {
	ctx := context.Background()
	s, clk := e.open(t)
	for i, u := range []string{"alice", "bob", "bob", "carol", "bob"} {
		clk.Set(t0.Add(time.Duration(i) * time.Hour))
		if err := s.InsertAcc(ctx, "missed_calls", AccRecord{Username: u, Domain: "example.com", Method: "INVITE"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    AccFilter
		want string
	}{
		{name: "all", want: "bob=3 alice=1 carol=1"},
		{name: "limit", f: AccFilter{Page: Page{Limit: 1}}, want: "bob=3"},
		{name: "since", f: AccFilter{Since: t0.Add(2 * time.Hour)}, want: "bob=2 carol=1"},
		{name: "until", f: AccFilter{Until: t0.Add(time.Hour)}, want: "alice=1"},
		{name: "user", f: AccFilter{Username: "carol", Domain: "example.com"}, want: "carol=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counts, err := s.AccCounts(ctx, "missed_calls", tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range counts {
				got = append(got, fmt.Sprintf("%s=%d", c.Username, c.Records))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %v want %s", got, tc.want)
			}
		})
	}
	if _, err := s.AccCounts(ctx, "bad name", AccFilter{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table: %v", err)
	}
}
