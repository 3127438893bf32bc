package store

import (
	"context"
	"testing"
)

// TestStatementStats: every statement of the store is timed and counted
// through the instrumented driver, and a failing one counts as an error.
func TestStatementStats(t *testing.T) {
	s, _ := openTest(t)
	st := s.Stats()
	before, errs := st.Count.Load(), st.Errors.Load()
	ctx := context.Background()
	if _, err := s.queryStrings(ctx, "test", "SELECT username FROM subscriber"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)"); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	if st.Count.Load() < before+1 {
		t.Errorf("count %d → %d", before, st.Count.Load())
	}
	if st.Errors.Load() != errs+1 {
		t.Errorf("errors %d → %d, want one more", errs, st.Errors.Load())
	}
	var sum uint64
	for i := range st.Buckets {
		sum += st.Buckets[i].Load()
	}
	if sum != st.Count.Load() || st.SumNanos.Load() == 0 {
		t.Errorf("buckets %d, count %d, sum %d ns", sum, st.Count.Load(), st.SumNanos.Load())
	}
}
