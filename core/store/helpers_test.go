package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the fixed "now" of test stores.
var t0 = time.Date(2005, 2, 10, 11, 9, 21, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// quiet is a logger that drops everything.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openTest opens a store on a new SQLite file in t.TempDir() with a clock
// at t0, closed at the end of the test.
func openTest(t testing.TB, opts ...Option) (*Store, *clock) {
	t.Helper()
	c := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "ser.db")
	s, err := Open(context.Background(), path, append([]Option{WithClock(c.Now), WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

// mustExec runs raw SQL on the write pool (test set-up only).
func mustExec(t testing.TB, s *Store, q string, args ...any) {
	t.Helper()
	if _, err := s.w.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// countRows returns "table=n" for each table, for the web console tests.
func countRows(t *testing.T, s *Store, tables ...string) string {
	t.Helper()
	var out []string
	for _, tb := range tables {
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", tb, n))
	}
	return strings.Join(out, " ")
}
