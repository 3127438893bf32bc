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

// migrationsPartial is the progress table of the runner before
// migrations became re-runnable (it resumed a failed file at the failed
// statement). A row left there belongs to a file that stopped midway; the
// runner now simply runs that file again and deletes the row.
const migrationsPartial = "schema_migrations_partial"

// migrateLockWait is how long Open waits for another process that is
// migrating the same MySQL database.
const migrateLockWait = 60 * time.Second

// migrateMySQL applies the pending migrations ms on MySQL/MariaDB.
//
// MySQL commits every DDL statement (CREATE TABLE, CREATE INDEX, ALTER
// TABLE) on its own, so a file cannot be one transaction as with SQLite.
// The runner therefore:
//
//   - reads schema_migrations first. When nothing is pending it changes
//     nothing, so a read-only replica or a SELECT-only user (SER's serro)
//     opens the store;
//   - otherwise takes the server-wide advisory lock
//     GET_LOCK('ser_migrate:<db>') on one connection (ser nodes and serctl
//     starting together migrate once) and reads again;
//   - checks the tables that exist already for the columns the
//     migrations declare, before running anything (checkExistingTables);
//   - per file, runs its schema statements one by one, each only when its
//     effect is missing (applySchemaStep), remembering how to undo each
//     one it ran; then its data statements, its schema_migrations row
//     (and the deletion of an old progress row) in one transaction;
//   - when a statement fails, rolls the transaction back and undoes the
//     file's schema statements in reverse order (DROP TABLE, DROP INDEX,
//     ALTER TABLE … DROP COLUMN of what it created), so the database is
//     as it was, and Open fails with "store: migration F: line N: <error>".
//     The next Open runs the file again from its first statement and, if
//     the cause is still there, fails with the same message: nothing is
//     skipped. Should the undo itself fail (the connection lost), what it
//     left is found present by the next run and kept.
//
// Data statements into MyISAM tables (SER's ser_mysql.sh made all its
// tables MyISAM) are not transactional; the migrations' data statements
// are written to be idempotent (INSERT … SELECT … WHERE NOT EXISTS), so
// running one again changes nothing.
func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
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
	if cols, err := s.liveColumns(ctx, conn, migrationsTable); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	} else if cols != nil {
		if applied, err = s.appliedMigrations(ctx, conn); err != nil {
			return err
		}
	}
	if !pending(ms, applied) {
		return nil // another process migrated meanwhile
	}
	if err := s.checkExistingTables(ctx, conn, ms, applied); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+migrationsTable+` (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME NOT NULL
)`+s.d.Expand("{{TABLE_OPTIONS}}")); err != nil {
		return fmt.Errorf("store: create %s: %w", migrationsTable, err)
	}
	partial, err := s.liveColumns(ctx, conn, migrationsPartial)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := s.applyMySQL(ctx, conn, m, partial != nil); err != nil {
			return err
		}
	}
	s.warnNonTransactional(ctx, conn)
	return nil
}

// warnNonTransactional logs, after migrating, the tables whose engine
// has no transactions (SER's ser_mysql.sh made MyISAM tables): the
// store's multi-statement writes (deleting a subscriber with its rows in
// other tables, usrloc's batched flush) cannot be rolled back on them.
// ser does not change a table's engine by itself.
func (s *Store) warnNonTransactional(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, "SELECT table_name, engine FROM information_schema.tables "+
		"WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND engine <> 'InnoDB' ORDER BY table_name")
	if err != nil {
		return
	}
	defer rows.Close()
	var names []string
	engine := ""
	for rows.Next() {
		var n string
		if rows.Scan(&n, &engine) == nil {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		s.log.Warn("tables without transactions: a write spanning several rows or tables cannot be rolled back "+
			"there if it fails midway; ALTER TABLE <name> ENGINE=InnoDB makes one transactional (SER's tools do not mind)",
			"engine", engine, "tables", strings.Join(names, " "), "db", s.describe())
	}
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

// applyMySQL runs one migration file on conn (see migrateMySQL);
// partial says whether the old runner's progress table exists.
func (s *Store) applyMySQL(ctx context.Context, conn *sql.Conn, m migration, partial bool) error {
	var (
		undo [][]string
		kept int
	)
	fail := func(st step, err error) error {
		err = fmt.Errorf("store: migration %s: line %d: %w", m.name, st.line, err)
		for i := len(undo) - 1; i >= 0; i-- {
			for _, q := range undo[i] {
				if _, uerr := conn.ExecContext(ctx, q); uerr != nil {
					return fmt.Errorf("%w; undoing the file's earlier statements failed too (%s: %v): "+
						"the next start finds what is left and keeps it", err, q, uerr)
				}
			}
		}
		return fmt.Errorf("%w (nothing of it was kept)", err)
	}
	var data []step
	for _, st := range m.steps {
		if st.kind == stepData {
			data = append(data, st)
			continue
		}
		ran, u, err := s.applySchemaStep(ctx, conn, st)
		if err != nil {
			return fail(st, err)
		}
		if !ran {
			kept++
		}
		undo = append(undo, u)
	}
	failed := step{statement: statement{line: 0}}
	if len(m.steps) > 0 {
		failed = m.steps[len(m.steps)-1]
	}
	err := inConnTx(ctx, conn, func(tx *sql.Tx) error {
		for _, st := range data {
			failed = st
			if _, err := tx.ExecContext(ctx, s.d.Expand(st.text)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+migrationsTable+" (version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, dbTime(s.now())); err != nil {
			return fmt.Errorf("record it in %s: %w", migrationsTable, err)
		}
		if partial {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+migrationsPartial+" WHERE version = ?", m.version); err != nil {
				return fmt.Errorf("delete its row of %s: %w", migrationsPartial, err)
			}
		}
		return nil
	})
	if err != nil {
		return fail(failed, err)
	}
	s.logApplied(m, kept)
	return nil
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
