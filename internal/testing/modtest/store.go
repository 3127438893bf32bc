package modtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"ser/core/store"
)

// SQLiteStore opens a store on a new SQLite database in the test's
// temporary directory (SER's schema, migrated), closed when the test ends.
func SQLiteStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(tb.TempDir(), "ser.db"), store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
