package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// locationDDL creates a location-like table; %[1]s is the quoted table
// name, %[2]s extra columns after user_agent, %[3]s extra clauses after
// the primary key. It must stay identical to location in migrations/0001,
// plus the expires index of 0003 and the path column of 0010 (locationPath);
// TestEnsureLocationTable checks.
const locationDDL = `CREATE TABLE %[1]s (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  contact VARCHAR(255) NOT NULL DEFAULT '',
  received VARCHAR(255) DEFAULT NULL,
  expires DATETIME NOT NULL DEFAULT '9999-12-31 23:59:59',
  q FLOAT(10,2) NOT NULL DEFAULT 1.0,
  callid VARCHAR(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq INT NOT NULL DEFAULT 42,
  last_modified {{TIMESTAMP}},
  replicate INT UNSIGNED NOT NULL DEFAULT 0,
  state TINYINT UNSIGNED NOT NULL DEFAULT 0,
  flags INT NOT NULL DEFAULT 0,
  user_agent VARCHAR(50) NOT NULL DEFAULT '',%[2]s
  PRIMARY KEY (username, domain, contact)%[3]s
){{TABLE_OPTIONS}}`

// locationPath is the column migrations/0010 adds to location and aliases.
const locationPath = "path VARCHAR(512) DEFAULT NULL"

// TableExists reports whether a table named name exists.
func (s *Store) TableExists(ctx context.Context, name string) (bool, error) {
	if !ValidIdent(name) {
		return false, fmt.Errorf("store: bad identifier %q: %w", name, ErrInvalid)
	}
	return exists(s.r.QueryRowContext(ctx, s.d.TableExistsQuery(), name), "check table "+name)
}

// EnsureLocationTable creates table with the layout of location (and an
// index on expires) unless a table of that name exists, and adds the path
// column to an existing one that lacks it (a table made by SER, or by an
// earlier version). SER wanted the
// admin to create each table named in save()/lookup(); usrloc calls this
// for its tables at start-up so that a fresh database just works. The
// name must pass ValidIdent and be at most 56 characters (the index is
// named <table>_expires). Table names are case-insensitive with SQLite,
// case-sensitive with MySQL on Linux.
func (s *Store) EnsureLocationTable(ctx context.Context, table string) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	if len(table) > 56 {
		return fmt.Errorf("store: location table name %q longer than 56 characters: %w", table, ErrInvalid)
	}
	idx := s.d.Quote(strings.ToLower(table) + "_expires")
	if s.d == MySQL {
		// DDL commits at once in MySQL: one statement creates the table
		// with its index, and IF NOT EXISTS lets two nodes starting
		// together both succeed. Looking first keeps a read-only replica
		// working when the table is there.
		cols, err := s.liveColumns(ctx, s.r, table)
		switch {
		case err != nil:
		case cols == nil:
			ddl := strings.Replace(fmt.Sprintf(locationDDL, qt, "\n  "+locationPath+",", ",\n  KEY "+idx+" (expires)"),
				"CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)
			_, err = s.w.ExecContext(ctx, s.d.Expand(ddl))
		case !hasColumn(cols, "path"):
			_, err = s.w.ExecContext(ctx, "ALTER TABLE "+qt+" ADD COLUMN "+locationPath)
		}
		if err != nil {
			return fmt.Errorf("store: create location table %s: %w", table, err)
		}
		return nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cols, err := s.liveColumns(ctx, tx, table)
		if err != nil {
			return err
		}
		if cols == nil {
			// Created as the migrations create location, so that the
			// stored DDL is the same text.
			if _, err := tx.ExecContext(ctx, s.d.Expand(fmt.Sprintf(locationDDL, qt, "", ""))); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "CREATE INDEX "+idx+" ON "+qt+" (expires)"); err != nil {
				return err
			}
		} else if hasColumn(cols, "path") {
			return nil
		}
		_, err = tx.ExecContext(ctx, "ALTER TABLE "+qt+" ADD COLUMN "+locationPath)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create location table %s: %w", table, err)
	}
	return nil
}
