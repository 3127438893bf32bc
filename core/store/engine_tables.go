package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// CheckColumns verifies that table exists and has every column in cols
// (compared case-insensitively, as both engines do), so that a module can
// refuse a misconfigured table at start-up: SQLite reads an unknown
// double-quoted column name as a string literal, so a query with a typo
// in a column name would otherwise run and return the name itself. The
// auth and group modules call it for their modparam-named columns. The
// error names the missing columns and wraps ErrNotFound.
func (s *Store) CheckColumns(ctx context.Context, table string, cols ...string) error {
	q, err := s.ident(table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !ValidIdent(c) {
			return fmt.Errorf("store: bad identifier %q: %w", c, ErrInvalid)
		}
	}
	rows, err := s.r.QueryContext(ctx, "SELECT * FROM "+q+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("store: columns of %s: %w", table, err)
	}
	defer rows.Close()
	have, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("store: columns of %s: %w", table, err)
	}
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[strings.ToLower(h)] = true
	}
	var missing []string
	for _, c := range cols {
		if !set[strings.ToLower(c)] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("store: table %s has no column %s: %w", table, strings.Join(missing, ", "), ErrNotFound)
	}
	return nil
}

// TableVersion returns the version of table recorded in the version table
// (SER modules check it at start-up), or ErrNotFound.
func (s *Store) TableVersion(ctx context.Context, table string) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, "SELECT table_version FROM version WHERE table_name = ?", table).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("store: version of table %s: %w", table, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: version of table %s: %w", table, err)
	}
	return v, nil
}

// TableVersions returns the whole version table.
func (s *Store) TableVersions(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT table_name, table_version FROM version")
	if err != nil {
		return nil, fmt.Errorf("store: table versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			name string
			v    int
		)
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("store: table versions: %w", err)
		}
		out[name] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: table versions: %w", err)
	}
	return out, nil
}

// TableExists reports whether a table named name exists.
func (s *Store) TableExists(ctx context.Context, name string) (bool, error) {
	if !ValidIdent(name) {
		return false, fmt.Errorf("store: bad identifier %q: %w", name, ErrInvalid)
	}
	return exists(s.r.QueryRowContext(ctx, s.d.TableExistsQuery(), name), "check table "+name)
}
