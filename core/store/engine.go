// Package store is ser's SQL layer: it opens the database, applies the
// numbered migrations of package migrations (SER 0.9's schema) and owns
// every SQL statement the server, serctl and the web console run. Callers
// see Go types and the sentinel errors ErrNotFound, ErrExists and
// ErrInvalid, never *sql.DB.
//
// Two engines: SQLite (github.com/mattn/go-sqlite3), the embedded
// default, and MySQL/MariaDB (github.com/go-sql-driver/mysql), SER's own
// database, shared by several ser nodes. Everything that differs between
// them is kept in Dialect, the connection set-up and the migration runner;
// the resource files are the same for both.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"ser/migrations"
)

// Store is an open database. It is safe for concurrent use.
//
// With SQLite it holds two pools: one connection for writes (every write
// and transaction, so writers queue in Go instead of spinning on SQLite's
// lock) and several read-only connections, which WAL mode lets run
// alongside the writer. With MySQL one pool serves both (w == r).
type Store struct {
	d   *Dialect
	w   *sql.DB // writes and transactions
	r   *sql.DB // reads
	src Source
	log *slog.Logger
	now func() time.Time
	// plaintext keeps the password column filled (WithPlaintextPasswords).
	plaintext bool

	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt

	// stats are the statement counters of both pools (engine_stats.go).
	stats *Stats

	// dbt is the dbtext directory behind the in-memory database (nil for
	// other engines).
	dbt *dbtext

	// writes and lookups coalesce concurrent one-row writes (usrloc
	// upserts, acc inserts) and credentials lookups on MySQL
	// (engine_batch.go), by statement.
	writes  batchers[[]any, struct{}]
	lookups batchers[[]any, []sql.NullString]
}

// stmtKey identifies a cached prepared statement.
type stmtKey struct {
	db *sql.DB
	q  string
}

// Option changes how Open sets up the store.
type Option func(*options)

type options struct {
	log        *slog.Logger
	now        func() time.Time
	migrations fs.FS
	readConns  int
	workers    int
	plaintext  bool
	fileMode   os.FileMode
}

// DefaultFileMode is the mode an SQLite database file is created with;
// SQLite gives its -wal and -shm files the mode of the database file.
const DefaultFileMode os.FileMode = 0o600

// WithPlaintextPasswords makes AddSubscriber, SetPassword and
// BootstrapAdmin store the plain-text password in the subscriber's
// password column too, as SER's serctl and serweb did (needed by configs
// with auth's calculate_ha1). Off by default: only ha1 and ha1b, which
// digest authentication and the console's login use, are stored.
func WithPlaintextPasswords(on bool) Option { return func(o *options) { o.plaintext = on } }

// WithFileMode sets the permissions a new SQLite database file is created
// with (default DefaultFileMode, 0600; 0640 lets a group read it). Its
// -wal and -shm files get the same mode. Modes giving other users any
// access are refused by Open; an existing file keeps its mode.
func WithFileMode(perm os.FileMode) Option { return func(o *options) { o.fileMode = perm } }

// CheckFileMode reports whether perm is acceptable for a database file:
// readable and writable by its owner, nothing for other users.
func CheckFileMode(perm os.FileMode) error {
	if perm&^0o777 != 0 || perm&0o600 != 0o600 || perm&0o007 != 0 {
		return fmt.Errorf("store: database file mode %#o: the owner needs rw and other users nothing (e.g. 0600, 0640): %w", uint32(perm), ErrInvalid)
	}
	return nil
}

// WithLogger sets the logger (default slog.Default with module=store).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock used for datetime_created, last_modified and the
// like (default time.Now). Tests use it to get fixed times.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithMigrations replaces the embedded migrations (migrations.FS) with
// fsys, whose *.sql files at its root are applied instead.
func WithMigrations(fsys fs.FS) Option { return func(o *options) { o.migrations = fsys } }

// WithReadConns sets the size of the SQLite read pool (default
// max(4, GOMAXPROCS)), or of the MySQL connection pool (default
// max(8, 2*GOMAXPROCS)).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// WithWorkers tells the store how many goroutines may run statements at
// once (the server's SIP workers, each blocking on its query as a SER
// child does). The MySQL pool gets at least that many connections, so that
// no worker waits for a connection another worker holds: with children=16
// and the default pool of 8, half the workers would queue in database/sql
// behind a network round trip each. SQLite is not affected (its writes are
// serial anyway and its reads are local).
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// Open opens the database named by dbURL (see ParseURL) and applies the
// pending migrations. An SQLite file is created when missing; each
// migration runs in its own transaction and a failing one is rolled back.
// A MySQL database must exist (CREATE DATABASE, with a user allowed to
// create tables in it); the server must answer within the dial timeout,
// and migrations resume where a failed one stopped (see migrateMySQL).
// Open returns the migration's error.
func Open(ctx context.Context, dbURL string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, migrations: migrations.FS, fileMode: DefaultFileMode}
	for _, f := range opts {
		f(&o)
	}
	if err := CheckFileMode(o.fileMode); err != nil {
		return nil, err
	}
	if o.log == nil {
		o.log = slog.Default().With("module", "store")
	}
	src, err := ParseURL(dbURL)
	if err != nil {
		return nil, err
	}
	s := &Store{d: SQLite, src: src, log: o.log, now: o.now, plaintext: o.plaintext, stmts: map[stmtKey]*sql.Stmt{}, stats: &Stats{}}
	if src.Engine == "mysql" {
		s.d = MySQL
		if o.readConns <= 0 {
			o.readConns = max(8, 2*runtime.GOMAXPROCS(0), o.workers)
		}
		err = s.openMySQL(ctx, o.readConns)
	} else {
		if o.readConns <= 0 {
			o.readConns = max(4, runtime.GOMAXPROCS(0))
		}
		if src.Engine == "dbtext" {
			err = s.openDBText(ctx, o.readConns, o.fileMode)
		} else {
			err = s.openSQLite(ctx, o.readConns, o.fileMode)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, o.migrations); err != nil {
		s.Close()
		return nil, err
	}
	if s.dbt != nil {
		if err := s.startDBText(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// memSeq numbers in-memory databases so that each Open gets its own.
var memSeq atomic.Int64

// openSQLite opens the write and read pools.
func (s *Store) openSQLite(ctx context.Context, readConns int, perm os.FileMode) error {
	var file string
	common := "_busy_timeout=5000&_foreign_keys=on"
	wparams := common + "&_txlock=immediate"
	rparams := common + "&_query_only=on"
	if s.src.Memory {
		// The memdb VFS shares one in-memory database between the
		// connections of this process that open the same "/name".
		file = fmt.Sprintf("file:/ser-mem-%d-%d-%d?vfs=memdb&", os.Getpid(), memSeq.Add(1), rand.Int64())
	} else {
		if dir := filepath.Dir(s.src.Path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("store: create database directory: %w", err)
			}
		}
		if err := s.createFile(perm); err != nil {
			return err
		}
		file = "file:" + uriEscaper.Replace(s.src.Path) + "?"
		wparams += "&_journal_mode=WAL&_synchronous=NORMAL"
	}
	drv := &sqlite3.SQLiteDriver{}
	return s.sqlitePools(ctx, dsnConnector{file + wparams, drv}, dsnConnector{file + rparams, drv}, readConns)
}

// sqlitePools completes an SQLite store: the write pool (one connection)
// and the read pool (readConns connections) over the two connectors.
func (s *Store) sqlitePools(ctx context.Context, wc, rc driver.Connector, readConns int) error {
	w := sql.OpenDB(timedConnector{wc, s.stats})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := pingBusy(ctx, w); err != nil {
		w.Close()
		return fmt.Errorf("store: open %s: %w", s.describe(), err)
	}
	r := sql.OpenDB(timedConnector{rc, s.stats})
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.w, s.r = w, r
	return nil
}

// createFile creates a missing database file with mode perm before SQLite
// opens it (SQLite would create it 0644), so that the file and the -wal
// and -shm files SQLite derives from it are not readable by other users.
// An existing file keeps its mode; a warning says when other users can
// read it.
func (s *Store) createFile(perm os.FileMode) error {
	f, err := os.OpenFile(s.src.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: create %s: %w", s.describe(), err)
	}
	if fi, err := os.Stat(s.src.Path); err == nil && fi.Mode().Perm()&0o004 != 0 {
		s.log.Warn("the database file is readable by every user of this machine; restrict it",
			"file", s.src.Path, "mode", fmt.Sprintf("%#o", uint32(fi.Mode().Perm())),
			"fix", fmt.Sprintf("chmod 600 %s %s-wal %s-shm", s.src.Path, s.src.Path, s.src.Path))
	}
	return nil
}

// pingBusy opens the first connection of db, retrying for up to five
// seconds while SQLite reports the database busy: switching a new
// database to WAL mode needs an exclusive lock, and two processes creating
// the same database at once can get SQLITE_BUSY there without the busy
// handler being called.
func pingBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// uriEscaper escapes the characters that are special in an SQLite URI
// filename.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// describe names the database for error messages (never a password).
func (s *Store) describe() string {
	if s.src.Engine == "mysql" {
		network, addr := mysqlAddress(s.src)
		if network == "unix" {
			addr = "unix(" + addr + ")"
		}
		return "mysql " + s.src.User + "@" + addr + "/" + s.src.Database
	}
	if s.src.Memory {
		return "sqlite :memory:"
	}
	if s.src.Engine == "dbtext" {
		return "dbtext " + s.src.Path
	}
	return "sqlite " + s.src.Path
}

// Dialect returns the SQL dialect of the open database.
func (s *Store) Dialect() *Dialect { return s.d }

// Source returns the parsed URL the store was opened with.
func (s *Store) Source() Source { return s.src }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the cached statements and both pools.
func (s *Store) Close() error {
	s.closeDBText()
	s.mu.Lock()
	for k, st := range s.stmts {
		st.Close()
		delete(s.stmts, k)
	}
	s.mu.Unlock()
	var errs []error
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// prepared returns a cached prepared statement for q on db. Hot paths
// (auth, group checks, usrloc writes) use it so that SQL is parsed once.
func (s *Store) prepared(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	k := stmtKey{db, q}
	s.mu.Lock()
	st := s.stmts[k]
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.stmts[k]; old != nil {
		st.Close()
		return old, nil
	}
	s.stmts[k] = st
	return st, nil
}

// inTx runs fn in a write transaction: committed when fn returns nil,
// rolled back otherwise (and on panic), so a multi-statement operation is
// never half done.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// serialize makes tx wait for (and then exclude) every other transaction
// that serializes on the same name, so that a check followed by a write
// ("is there an administrator yet?") is not raced by another process.
// SQLite transactions are serial already (BEGIN IMMEDIATE takes the write
// lock). With MySQL it locks the name's row of the version table
// (SELECT … FOR UPDATE) until tx ends; InnoDB's plain reads after it see
// what the transaction that held the lock committed.
func (s *Store) serialize(ctx context.Context, tx *sql.Tx, name string) error {
	if s.d != MySQL {
		return nil
	}
	var v int
	err := tx.QueryRowContext(ctx, "SELECT table_version FROM version WHERE table_name = ? FOR UPDATE", name).Scan(&v)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// affected returns ErrNotFound (wrapped with what) when res changed no row.
func affected(res sql.Result, what string) error {
	if err := found(res, nil); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// found is the outcome of a statement that must change a row, for use
// inside a transaction: err, RowsAffected's error, or ErrNotFound when no
// row changed.
func found(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// Page selects a window of a listing. Limit 0 means no limit.
type Page struct {
	Limit, Offset int
}

// clause returns " LIMIT ? OFFSET ?" and its arguments (both engines).
func (p Page) clause() (string, []any) {
	if p.Limit <= 0 && p.Offset <= 0 {
		return "", nil
	}
	limit := int64(p.Limit)
	if limit <= 0 {
		limit = math.MaxInt64 // an offset alone: both engines need a LIMIT
	}
	return " LIMIT ? OFFSET ?", []any{limit, max(p.Offset, 0)}
}

// likePattern makes a LIKE pattern matching s anywhere, with LIKE's
// wildcards in s escaped by '!' (used with ESCAPE '!' in both engines).
func likePattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + strings.ToLower(r.Replace(s)) + "%"
}

// exists turns a "SELECT 1 … LIMIT 1" row into a bool.
func exists(row *sql.Row, what string) (bool, error) {
	var one int
	switch err := row.Scan(&one); err {
	case nil:
		return true, nil
	case sql.ErrNoRows:
		return false, nil
	default:
		return false, fmt.Errorf("store: %s: %w", what, err)
	}
}

// queryStrings runs a query returning one text column.
func (s *Store) queryStrings(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// execer is *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
