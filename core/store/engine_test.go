package store

import (
	"context"
	"path/filepath"
	"testing"

	"ser/internal/testing/mariadb"
)

// engine is a database engine the store's tests run on.
type engine struct {
	name string
	// newURL returns the URL of a new, empty database.
	newURL func(t testing.TB) string
}

// sqliteEngine makes an SQLite file in t.TempDir(); mariadbEngine a new
// database on the test process's MariaDB server (internal/testing/mariadb.Shared,
// stopped by TestMain).
var (
	sqliteEngine = engine{"sqlite", func(t testing.TB) string {
		return "sqlite://" + filepath.Join(t.TempDir(), "ser.db")
	}}
	mariadbEngine = engine{"mariadb", func(t testing.TB) string {
		srv := mariadb.Shared(t)
		return srv.URL(srv.NewDatabase(t))
	}}
)

// forEachEngine runs fn as the subtests "sqlite" and "mariadb". The
// MariaDB one is skipped when mariadbd is not installed (a failure under
// CI or SER_REQUIRE_TOOLS=1).
func forEachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	t.Parallel() // each test has a database of its own
	for _, e := range []engine{sqliteEngine, mariadbEngine} {
		t.Run(e.name, func(t *testing.T) { fn(t, e) })
	}
}

// open opens a store on a new database with a clock at t0, closed at the
// end of the test.
func (e engine) open(t testing.TB, opts ...Option) (*Store, *clock) {
	t.Helper()
	c := &clock{t: t0}
	return e.openURL(t, e.newURL(t), append([]Option{WithClock(c.Now)}, opts...)...), c
}

// openURL opens a store on url with a quiet logger, closed at the end of
// the test.
func (e engine) openURL(t testing.TB, url string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, append([]Option{WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// failTrigger makes every row event ("BEFORE INSERT", "BEFORE DELETE") on
// table fail with "injected failure" when cond (SQL over NEW./OLD., ""
// for always) holds: the tests' way of failing one statement inside a
// store transaction.
func failTrigger(t testing.TB, s *Store, name, event, table, cond string) {
	t.Helper()
	var q string
	if s.d == MySQL {
		raise := "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'"
		if cond != "" {
			raise = "BEGIN IF " + cond + " THEN " + raise + "; END IF; END"
		}
		q = "CREATE TRIGGER " + name + " " + event + " ON " + table + " FOR EACH ROW " + raise
	} else {
		when := ""
		if cond != "" {
			when = " WHEN " + cond
		}
		q = "CREATE TRIGGER " + name + " " + event + " ON " + table + when +
			" BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
	}
	mustExec(t, s, q)
}
