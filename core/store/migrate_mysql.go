package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// migrationsPartial records, on MySQL, how far a migration file that
// stopped midway got: one row per unfinished file.
const migrationsPartial = "schema_migrations_partial"

// migrateLockWait is how long Open waits for another process that is
// migrating the same MySQL database.
const migrateLockWait = 60 * time.Second

// migrateMySQL applies the pending migrations ms on MySQL/MariaDB.
//
// MySQL commits every DDL statement (CREATE TABLE, CREATE INDEX …) on its
// own, so a migration file cannot be one transaction as with SQLite, and a
// file that fails midway cannot be rolled back. The runner therefore
// records its progress:
//
//   - It reads schema_migrations first. When nothing is pending it changes
//     nothing, so a read-only replica or a SELECT-only user (SER's serro)
//     opens the store.
//   - Otherwise it takes the server-wide advisory lock
//     GET_LOCK('ser_migrate:<db>') on one connection (so that ser nodes and
//     serctl starting together migrate once) and reads again.
//   - Before a file's first statement it writes a schema_migrations_partial
//     row (version, statements done = 0, SHA-256 of the statements done);
//     after each DDL statement it updates that row. Statements that are
//     not DDL run in one transaction per run of them, together with the
//     update, so they are recorded exactly when they are committed.
//   - When all statements are done, the schema_migrations row is inserted
//     and the partial row deleted in one transaction.
//   - A failing statement stops Open with "store: migration F: line N:
//     <error> (K of M statements applied …)". The next Open resumes at the
//     failed statement, provided the statements already applied are still
//     the same in the file (the hash): the failed statement and those after
//     it may be corrected. If applied statements were changed, Open refuses
//     and asks for the database to be repaired by hand and the partial row
//     deleted.
//   - A DDL statement commits before its progress is written. If the
//     connection is lost in between, the resumed run executes it again;
//     errors saying that its effect exists already (table exists, duplicate
//     column or key name, cannot drop a missing key or table) then count as
//     done, for that one statement only.
func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
	// Check every file before touching the database: nothing of a file
	// with an unknown token or a syntax error of the splitter runs.
	stmts := make([][]statement, len(ms))
	for i, m := range ms {
		st, err := splitStatements(m.text)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		for _, x := range st {
			if j := strings.Index(s.d.Expand(x.text), "{{"); j >= 0 {
				return fmt.Errorf("store: migration %s: line %d: unknown token %.20q", m.name, x.line, s.d.Expand(x.text)[j:])
			}
		}
		stmts[i] = st
	}
	applied, err := s.appliedMigrations(ctx, s.w)
	if err != nil && !mysqlErrorIn(err, erNoSuchTable) {
		return err
	}
	if !pending(ms, applied) {
		return nil
	}

	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	unlock, err := s.migrateLock(ctx, conn)
	if err != nil {
		return err
	}
	defer unlock()
	opts := s.d.Expand("{{TABLE_OPTIONS}}")
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS " + migrationsTable + ` (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME NOT NULL
)` + opts,
		"CREATE TABLE IF NOT EXISTS " + migrationsPartial + ` (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  statements INTEGER NOT NULL,
  applied_sha256 CHAR(64) NOT NULL,
  updated_at DATETIME NOT NULL
)` + opts,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: create migration tables: %w", err)
		}
	}
	if applied, err = s.appliedMigrations(ctx, conn); err != nil {
		return err
	}
	for i, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := s.applyMySQL(ctx, conn, m, stmts[i]); err != nil {
			return err
		}
		s.log.Info("applied migration", "file", m.name, "db", s.describe())
	}
	return nil
}

// pending reports whether some of ms is not applied.
func pending(ms []migration, applied map[int]bool) bool {
	for _, m := range ms {
		if !applied[m.version] {
			return true
		}
	}
	return false
}

// migrateLock takes the advisory lock of this database's migrations on
// conn and returns the function releasing it. A connection whose lock
// cannot be released is discarded, so the lock cannot stay with an idle
// pooled connection.
func (s *Store) migrateLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	name := "ser_migrate:" + s.src.Database
	if len(name) > 64 { // MySQL's limit for lock names
		sum := sha256.Sum256([]byte(s.src.Database))
		name = "ser_migrate:" + hex.EncodeToString(sum[:20])
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int(migrateLockWait/time.Second)).Scan(&got); err != nil {
		return nil, fmt.Errorf("store: migrate: lock: %w", err)
	}
	if got.Int64 != 1 {
		return nil, fmt.Errorf("store: migrate: another process held the lock %q for %v", name, migrateLockWait)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var released sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT RELEASE_LOCK(?)", name).Scan(&released); err != nil || released.Int64 != 1 {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// isDDL reports whether a statement is one MySQL commits implicitly.
func isDDL(q string) bool {
	word, _, _ := strings.Cut(strings.TrimSpace(q), " ")
	switch strings.ToUpper(strings.TrimSpace(word)) {
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
		return true
	}
	return false
}

// prefixHash is the SHA-256 of the first n statements of a file.
func prefixHash(stmts []statement, n int) string {
	h := sha256.New()
	for _, st := range stmts[:n] {
		h.Write([]byte(st.text))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// applyMySQL runs one migration file on conn, resuming after the
// statements a failed earlier run recorded (see migrateMySQL).
func (s *Store) applyMySQL(ctx context.Context, conn *sql.Conn, m migration, stmts []statement) error {
	var (
		done     int
		sum      string
		resuming bool
	)
	err := conn.QueryRowContext(ctx, "SELECT statements, applied_sha256 FROM "+migrationsPartial+" WHERE version = ?",
		m.version).Scan(&done, &sum)
	switch {
	case err == sql.ErrNoRows:
		done = 0
	case err != nil:
		return fmt.Errorf("store: migration %s: read progress: %w", m.name, err)
	default:
		resuming = true
		if done > len(stmts) || prefixHash(stmts, done) != sum {
			return fmt.Errorf("store: migration %s: %d statements of an earlier version of the file were applied "+
				"before it failed, and the file has changed since: repair the database by hand, then delete its row "+
				"from %s (version %d)", m.name, done, migrationsPartial, m.version)
		}
		s.log.Warn("resuming migration", "file", m.name, "statement", done+1, "of", len(stmts), "db", s.describe())
	}
	progress := s.d.Upsert(migrationsPartial, []string{"version", "name", "statements", "applied_sha256", "updated_at"},
		[]string{"version"}, []string{"name", "statements", "applied_sha256", "updated_at"})
	record := func(ex interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, n int) error {
		_, err := ex.ExecContext(ctx, progress, m.version, m.name, n, prefixHash(stmts, n), dbTime(s.now()))
		return err
	}
	if !resuming {
		if err := record(conn, 0); err != nil {
			return fmt.Errorf("store: migration %s: record progress: %w", m.name, err)
		}
	}
	for i := done; i < len(stmts); {
		q := s.d.Expand(stmts[i].text)
		if isDDL(q) {
			_, err = conn.ExecContext(ctx, q)
			if err != nil && resuming && i == done &&
				mysqlErrorIn(err, erTableExists, erDupFieldName, erDupKeyName, erCantDropFieldOrKey, erBadTable) {
				s.log.Warn("migration statement was applied before its progress was recorded", "file", m.name,
					"line", stmts[i].line, "err", err)
				err = nil
			}
			if err == nil {
				err = record(conn, i+1)
			}
			if err != nil {
				return migrationFailed(m, stmts, i, i, err)
			}
			i++
			continue
		}
		// A run of statements that are not DDL: one transaction with
		// the progress update, all or nothing.
		end := i + 1
		for end < len(stmts) && !isDDL(stmts[end].text) {
			end++
		}
		failed := i
		err = inConnTx(ctx, conn, func(tx *sql.Tx) error {
			for j := i; j < end; j++ {
				failed = j
				if _, err := tx.ExecContext(ctx, s.d.Expand(stmts[j].text)); err != nil {
					return err
				}
			}
			failed = end - 1
			return record(tx, end)
		})
		if err != nil {
			return migrationFailed(m, stmts, failed, i, err)
		}
		i = end
	}
	err = inConnTx(ctx, conn, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+migrationsTable+" (version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, dbTime(s.now())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM "+migrationsPartial+" WHERE version = ?", m.version)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migration %s: record: %w", m.name, err)
	}
	return nil
}

// migrationFailed is the error of statement failed of m, with applied
// statements done.
func migrationFailed(m migration, stmts []statement, failed, applied int, err error) error {
	return fmt.Errorf("store: migration %s: line %d: %w (%d of %d statements applied; fix the cause and open "+
		"the database again to resume)", m.name, stmts[failed].line, err, applied, len(stmts))
}

// inConnTx runs fn in a transaction on conn, committed when fn returns
// nil and rolled back otherwise.
func inConnTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
