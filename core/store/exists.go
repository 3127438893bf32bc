package store

import (
	"context"
	"fmt"
	"strings"
)

// Match is one "column = value" condition of RowExists.
type Match struct {
	Column, Value string
}

// RowExists reports whether table has a row matching every condition
// (the uri_db module's checks against the uri and subscriber tables, whose
// table and column names are modparams). Names are checked with
// ValidIdent; the statement is prepared once per shape and reused.
func (s *Store) RowExists(ctx context.Context, table string, match ...Match) (bool, error) {
	if len(match) == 0 {
		return false, fmt.Errorf("store: row of %s: no condition: %w", table, ErrInvalid)
	}
	t, err := s.ident(table)
	if err != nil {
		return false, err
	}
	conds := make([]string, len(match))
	args := make([]any, len(match))
	for i, m := range match {
		c, err := s.ident(m.Column)
		if err != nil {
			return false, err
		}
		conds[i] = c + " = ?"
		args[i] = m.Value
	}
	st, err := s.prepared(ctx, s.r, "SELECT 1 FROM "+t+" WHERE "+strings.Join(conds, " AND ")+" LIMIT 1")
	if err != nil {
		return false, fmt.Errorf("store: row of %s: %w", table, err)
	}
	return exists(st.QueryRowContext(ctx, args...), "row of "+table)
}
