package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// liveIndex is an index of a table as the database reports it.
type liveIndex struct {
	name   string
	unique bool // a UNIQUE index or the primary key
	cols   []string
}

// liveColumns returns the columns of table in the database q reads, in
// order, or nil when there is no such table.
func (s *Store) liveColumns(ctx context.Context, q queryer, table string) ([]string, error) {
	query := "SELECT name FROM pragma_table_info(?) ORDER BY cid"
	if s.d == MySQL {
		query = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() " +
			"AND CAST(table_name AS BINARY) = CAST(? AS BINARY) ORDER BY ordinal_position"
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	return cols, nil
}

// liveIndexes returns the indexes of table (its primary key included,
// except SQLite's INTEGER PRIMARY KEY, which is the rowid).
func (s *Store) liveIndexes(ctx context.Context, q queryer, table string) ([]liveIndex, error) {
	query := "SELECT il.name, il.\"unique\", ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii " +
		"ORDER BY il.name, ii.seqno"
	if s.d == MySQL {
		query = "SELECT index_name, non_unique = 0, column_name FROM information_schema.statistics " +
			"WHERE table_schema = DATABASE() AND CAST(table_name AS BINARY) = CAST(? AS BINARY) " +
			"ORDER BY index_name, seq_in_index"
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	defer rows.Close()
	var out []liveIndex
	for rows.Next() {
		var (
			name, col string
			unique    bool
		)
		if err := rows.Scan(&name, &unique, &col); err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", table, err)
		}
		if n := len(out); n > 0 && out[n-1].name == name {
			out[n-1].cols = append(out[n-1].cols, col)
			continue
		}
		out = append(out, liveIndex{name: name, unique: unique, cols: []string{col}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", table, err)
	}
	return out, nil
}

// hasColumn reports whether cols holds col (column names are
// case-insensitive in both engines).
func hasColumn(cols []string, col string) bool {
	return slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, col) })
}

// sameColumns reports whether a and b name the same columns in order.
func sameColumns(a, b []string) bool {
	return slices.EqualFunc(a, b, strings.EqualFold)
}

// indexPresent decides a CREATE INDEX step against the table's live
// indexes: skip it when an index of that name exists with the same
// columns, or, under any name, an index that serves it (for a UNIQUE
// step a unique index or primary key on exactly those columns; otherwise
// any index whose leading columns are those). SER's schema names its
// indexes differently (acc's "sip_callid" is the store's
// "acc_sip_callid"): the index is not made twice. An index with the
// step's name but other columns is an error naming both.
func indexPresent(st step, live []liveIndex) (bool, error) {
	for _, ix := range live {
		if strings.EqualFold(ix.name, st.index) {
			if !sameColumns(ix.cols, st.cols) {
				return false, fmt.Errorf("table %s has an index %s on (%s), the migration wants it on (%s)",
					st.table, ix.name, strings.Join(ix.cols, ", "), strings.Join(st.cols, ", "))
			}
			if st.unique && !ix.unique {
				return false, fmt.Errorf("table %s has an index %s on (%s) that is not UNIQUE, the migration wants it UNIQUE",
					st.table, ix.name, strings.Join(ix.cols, ", "))
			}
			return true, nil
		}
	}
	for _, ix := range live {
		switch {
		case st.unique && ix.unique && sameColumns(ix.cols, st.cols):
			return true, nil
		case !st.unique && len(ix.cols) >= len(st.cols) && sameColumns(ix.cols[:len(st.cols)], st.cols):
			return true, nil
		}
	}
	return false, nil
}

// sqliteIndexTable returns the table of the SQLite index named name
// ("" when there is none): SQLite's index names are global.
func sqliteIndexTable(ctx context.Context, q queryer, name string) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE", name)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var t string
	if rows.Next() {
		if err := rows.Scan(&t); err != nil {
			return "", err
		}
	}
	return t, rows.Err()
}

// sqliteAddAutoID gives an SQLite table that has no primary key an
// auto-increment integer primary key column: SER's acc and missed_calls
// have none, the store pages and deletes their records by id. SQLite's
// ALTER TABLE cannot add one, so the table is rebuilt the way SQLite
// documents (create the new table, copy the rows in rowid order, drop the
// old one, rename, recreate its indexes and triggers), inside the
// migration's transaction. The rows keep their order; ids count from 1.
func (s *Store) sqliteAddAutoID(ctx context.Context, ex execQueryer, table, col string, cols []string) error {
	var create string
	if err := ex.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
		table).Scan(&create); err != nil {
		return fmt.Errorf("definition of %s: %w", table, err)
	}
	var pk int
	if err := ex.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE pk > 0", table).Scan(&pk); err != nil {
		return fmt.Errorf("primary key of %s: %w", table, err)
	}
	if pk > 0 {
		return fmt.Errorf("table %s has a primary key already: cannot add %s as one", table, col)
	}
	open := strings.IndexByte(create, '(')
	end := strings.LastIndexByte(create, ')')
	if open < 0 || end < open {
		return fmt.Errorf("definition of %s not understood: %.60q", table, create)
	}
	tmp := "ser_rebuild_" + table
	var others []string // index and trigger definitions to recreate
	rows, err := ex.QueryContext(ctx, "SELECT sql FROM sqlite_master WHERE tbl_name = ? COLLATE NOCASE "+
		"AND type IN ('index', 'trigger') AND sql IS NOT NULL", table)
	if err != nil {
		return fmt.Errorf("indexes of %s: %w", table, err)
	}
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return err
		}
		others = append(others, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = s.d.Quote(c)
	}
	list := strings.Join(quoted, ", ")
	stmts := []string{
		"CREATE TABLE " + s.d.Quote(tmp) + " " + strings.TrimRight(create[open:end], " \t\r\n") + ",\n  " + s.d.Quote(col) + " " +
			s.d.Expand("{{AUTO_ID}}") + "\n" + create[end:],
		"INSERT INTO " + s.d.Quote(tmp) + " (" + list + ") SELECT " + list + " FROM " + s.d.Quote(table) + " ORDER BY rowid",
		"DROP TABLE " + s.d.Quote(table),
		"ALTER TABLE " + s.d.Quote(tmp) + " RENAME TO " + s.d.Quote(table),
	}
	for _, q := range append(stmts, others...) {
		if _, err := ex.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild %s with %s: %w", table, col, err)
		}
	}
	return nil
}
