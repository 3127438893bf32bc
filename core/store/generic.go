package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// This file is the table-agnostic access SER's db API gave its FIFO DB
// command (db/db_fifo.c): select, insert, update and delete on any table
// by name with key/operator/value conditions, and raw SQL. Table and column
// names pass ValidIdent and are quoted; values are always bound
// parameters; operators come from a fixed list.

// ValueKind is the type of a Value (SER's db_type_t).
type ValueKind uint8

// Value kinds.
const (
	KindString ValueKind = iota
	KindInt
	KindDouble
	KindDate
	KindBlob
	KindBitmap
)

// Value is one typed value of a condition or an assignment.
type Value struct {
	Kind   ValueKind
	Null   bool
	Int    int64
	Double float64
	Str    string
	Time   time.Time
}

// arg returns the value as a bound parameter.
func (v Value) arg() any {
	if v.Null {
		return nil
	}
	switch v.Kind {
	case KindInt, KindBitmap:
		return v.Int
	case KindDouble:
		return v.Double
	case KindDate:
		return dbTime(v.Time)
	case KindBlob:
		return []byte(v.Str)
	}
	return v.Str
}

// Cond is "column op value": a WHERE condition, or with Op "=" a column
// assignment of an insert or update.
type Cond struct {
	Col string
	Op  string
	Val Value
}

// genericOps are the operators a condition may use.
var genericOps = map[string]string{
	"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
	"!=": "<>", "<>": "<>", "like": "LIKE",
}

// ValidOp reports whether op is an operator GenericSelect and the other
// generic calls accept (=, <, >, <=, >=, !=, <>, like).
func ValidOp(op string) bool {
	_, ok := genericOps[strings.ToLower(op)]
	return ok
}

// Result is a generic query's answer. Each value is nil (NULL), int64,
// float64, string or time.Time (UTC), whatever the engine.
type Result struct {
	Cols []string
	Rows [][]any
}

// where builds " WHERE a = ? AND b < ?" and its arguments.
func (s *Store) where(conds []Cond) (string, []any, error) {
	if len(conds) == 0 {
		return "", nil, nil
	}
	var b strings.Builder
	args := make([]any, 0, len(conds))
	for i, c := range conds {
		col, err := s.ident(c.Col)
		if err != nil {
			return "", nil, err
		}
		op, ok := genericOps[strings.ToLower(c.Op)]
		if !ok {
			return "", nil, fmt.Errorf("store: unsupported operator %q: %w", c.Op, ErrInvalid)
		}
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		if c.Val.Null {
			// SER's db_mysql wrote "col=NULL", which never matches; IS
			// NULL is what an operator means.
			switch op {
			case "=":
				b.WriteString(col + " IS NULL")
				continue
			case "<>":
				b.WriteString(col + " IS NOT NULL")
				continue
			}
		}
		b.WriteString(col + " " + op + " ?")
		args = append(args, c.Val.arg())
	}
	return b.String(), args, nil
}

// GenericSelect runs SELECT cols FROM table WHERE conds (all columns when
// cols is empty).
func (s *Store) GenericSelect(ctx context.Context, table string, cols []string, conds []Cond) (*Result, error) {
	t, err := s.ident(table)
	if err != nil {
		return nil, err
	}
	sel := "*"
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, c := range cols {
			if q[i], err = s.ident(c); err != nil {
				return nil, err
			}
		}
		sel = strings.Join(q, ", ")
	}
	w, args, err := s.where(conds)
	if err != nil {
		return nil, err
	}
	return s.queryOn(ctx, s.r, "SELECT "+sel+" FROM "+t+w, args...)
}

// GenericInsert inserts one row: the conditions are column = value pairs.
func (s *Store) GenericInsert(ctx context.Context, table string, set []Cond) error {
	t, err := s.ident(table)
	if err != nil {
		return err
	}
	if len(set) == 0 {
		return fmt.Errorf("store: insert into %s: no columns: %w", table, ErrInvalid)
	}
	cols := make([]string, len(set))
	args := make([]any, len(set))
	for i, c := range set {
		if cols[i], err = s.ident(c.Col); err != nil {
			return err
		}
		args[i] = c.Val.arg()
	}
	q := "INSERT INTO " + t + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
	if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
		if s.d.IsDuplicate(err) {
			return fmt.Errorf("store: insert into %s: %w", table, ErrExists)
		}
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return nil
}

// GenericUpdate sets the columns of set on the rows matching conds and
// returns how many rows it changed.
func (s *Store) GenericUpdate(ctx context.Context, table string, set, conds []Cond) (int64, error) {
	t, err := s.ident(table)
	if err != nil {
		return 0, err
	}
	if len(set) == 0 {
		return 0, fmt.Errorf("store: update %s: no columns: %w", table, ErrInvalid)
	}
	assign := make([]string, len(set))
	args := make([]any, 0, len(set)+len(conds))
	for i, c := range set {
		col, err := s.ident(c.Col)
		if err != nil {
			return 0, err
		}
		assign[i] = col + " = ?"
		args = append(args, c.Val.arg())
	}
	w, wargs, err := s.where(conds)
	if err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "UPDATE "+t+" SET "+strings.Join(assign, ", ")+w, append(args, wargs...)...)
	if err != nil {
		if s.d.IsDuplicate(err) {
			return 0, fmt.Errorf("store: update %s: %w", table, ErrExists)
		}
		return 0, fmt.Errorf("store: update %s: %w", table, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// GenericDelete deletes the rows matching conds (every row when conds is
// empty, as SER's db_delete did) and returns how many it deleted.
func (s *Store) GenericDelete(ctx context.Context, table string, conds []Cond) (int64, error) {
	t, err := s.ident(table)
	if err != nil {
		return 0, err
	}
	w, args, err := s.where(conds)
	if err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+t+w, args...)
	if err != nil {
		return 0, fmt.Errorf("store: delete from %s: %w", table, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RawExec runs one SQL statement that returns no rows (the FIFO DB
// command's raw_query). It runs on the write connection.
func (s *Store) RawExec(ctx context.Context, stmt string) error {
	if _, err := s.w.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("store: raw query: %w", err)
	}
	return nil
}

// RawQuery runs one SQL statement and returns its rows
// (raw_query_response). It runs on the write connection, so a statement
// that changes data works too.
func (s *Store) RawQuery(ctx context.Context, stmt string) (*Result, error) {
	return s.queryOn(ctx, s.w, stmt)
}

// queryOn runs q on db and returns its rows as a Result.
func (s *Store) queryOn(ctx context.Context, db *sql.DB, q string, args ...any) (*Result, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	res := &Result{Cols: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: query: %w", err)
		}
		for i, v := range vals {
			vals[i] = genericValue(v, types[i].DatabaseTypeName())
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	return res, nil
}

// genericValue normalises a scanned value to nil, int64, float64, string
// or time.Time, using the column's declared type where the driver hands
// over bytes (MySQL's text protocol) or text (SQLite's DATETIME text).
func genericValue(v any, dbType string) any {
	var text string
	switch x := v.(type) {
	case nil, int64, float64:
		return x
	case time.Time:
		return x.UTC()
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case []byte:
		text = string(x)
	case string:
		text = x
	default:
		return fmt.Sprint(x)
	}
	t := strings.ToUpper(dbType)
	switch {
	case strings.Contains(t, "INT"):
		var n int64
		if _, err := fmt.Sscan(text, &n); err == nil {
			return n
		}
	case t == "DOUBLE" || t == "FLOAT" || t == "REAL" || t == "DECIMAL":
		var f float64
		if _, err := fmt.Sscan(text, &f); err == nil {
			return f
		}
	case t == "DATETIME" || t == "TIMESTAMP" || t == "DATE":
		if tm := parseDBTime(text); !tm.IsZero() {
			return tm
		}
	}
	return text
}

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
