package store

import (
	"context"
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
