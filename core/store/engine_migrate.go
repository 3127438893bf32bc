package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// migrationsTable records the applied migrations: one row per file.
const migrationsTable = "schema_migrations"

// migration is one numbered SQL file, split into classified statements.
type migration struct {
	version int
	name    string // file name
	text    string
	steps   []step
}

// migrationName is NNNN_description.sql.
var migrationName = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_]+\.sql$`)

// loadMigrations reads the *.sql files at the root of fsys, sorted by
// version, and classifies their statements (parseStep). Any other .sql
// name, duplicate versions, a statement the runner cannot check, and a
// schema statement after a data statement are errors: a file's data
// statements come last, because on MySQL they run in one transaction
// after its schema statements.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("store: migration %s: name is not NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: bad version number", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", other, name, v)
		}
		seen[v] = name
		text, err := fs.ReadFile(fsys, path.Clean(name))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", name, err)
		}
		steps, err := parseMigration(string(text))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, text: string(text), steps: steps})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// parseMigration splits and classifies the statements of a file.
func parseMigration(text string) ([]step, error) {
	stmts, err := splitStatements(text)
	if err != nil {
		return nil, err
	}
	var (
		steps []step
		data  int // line of the first data statement
	)
	for _, st := range stmts {
		x, err := parseStep(st)
		if err != nil {
			return nil, err
		}
		if x.kind == stepData && data == 0 {
			data = x.line
		}
		if x.kind != stepData && data != 0 {
			return nil, fmt.Errorf("line %d: schema statement after the data statement of line %d: "+
				"a file's data statements come after all its schema statements", x.line, data)
		}
		steps = append(steps, x)
	}
	return steps, nil
}

// migrate applies the migrations of fsys that schema_migrations does not
// list yet, in version order.
//
// Every statement is checked against the live schema before it runs
// (applySchemaStep): a table, index or column that exists already is
// kept, so the migrations adopt a database made by SER 0.9's
// ser_mysql.sh (or any earlier, partial run) by adding only what is
// missing, and a migration can always run again from its first
// statement. Before anything runs, tables that exist are checked for the
// columns the migrations declare (checkExistingTables): a table the store
// could not use stops Open with the table and columns named.
//
// With SQLite each file runs in one transaction together with its
// schema_migrations row; the transaction re-checks that row after taking
// the write lock, so two processes starting on one new database apply
// each migration once. MySQL commits DDL implicitly: see migrateMySQL.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	for _, m := range ms {
		for _, st := range m.steps {
			if q := s.d.Expand(st.text); strings.Contains(q, "{{") {
				return fmt.Errorf("store: migration %s: line %d: unknown token %.20q", m.name, st.line, q[strings.Index(q, "{{"):])
			}
		}
	}
	if s.d == MySQL {
		return s.migrateMySQL(ctx, ms)
	}
	// Check what exists before creating anything: a refused adoption
	// leaves no trace.
	applied := map[int]bool{}
	if cols, err := s.liveColumns(ctx, s.w, migrationsTable); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	} else if cols != nil {
		if applied, err = s.appliedMigrations(ctx, s.w); err != nil {
			return err
		}
	}
	if !pending(ms, applied) {
		return nil
	}
	if err := s.checkExistingTables(ctx, s.w, ms, applied); err != nil {
		return err
	}
	create := "CREATE TABLE IF NOT EXISTS " + migrationsTable + ` (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME NOT NULL
)` + s.d.Expand("{{TABLE_OPTIONS}}")
	if _, err := s.w.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("store: create %s: %w", migrationsTable, err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		var (
			ran  bool
			kept int
		)
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+migrationsTable+" WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // another process applied it meanwhile
			}
			kept = 0
			for _, st := range m.steps {
				if st.kind == stepData {
					if _, err := tx.ExecContext(ctx, s.d.Expand(st.text)); err != nil {
						return fmt.Errorf("line %d: %w", st.line, err)
					}
					continue
				}
				done, _, err := s.applySchemaStep(ctx, tx, st)
				if err != nil {
					return fmt.Errorf("line %d: %w", st.line, err)
				}
				if !done {
					kept++
				}
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO "+migrationsTable+" (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, dbTime(s.now()))
			ran = err == nil
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w (nothing of it was kept)", m.name, err)
		}
		if ran {
			s.logApplied(m, kept)
		}
	}
	return nil
}

// logApplied logs an applied migration and how many of its schema
// statements found their effect present already.
func (s *Store) logApplied(m migration, kept int) {
	if kept > 0 {
		s.log.Info("applied migration", "file", m.name, "db", s.describe(), "already_present", kept)
		return
	}
	s.log.Info("applied migration", "file", m.name, "db", s.describe())
}

// checkExistingTables looks, before any migration runs, at every table
// a pending migration creates that exists already (SER's own tables in
// an adopted database): each column the migration declares must be
// there, or be added by an ALTER TABLE … ADD COLUMN of a pending
// migration. Otherwise the store could not work on the table, and Open
// fails naming it, for example a ser_mysql.sh run with USERCOL=user
// (whose tables have "user" instead of "username").
func (s *Store) checkExistingTables(ctx context.Context, q queryer, ms []migration, applied map[int]bool) error {
	added := map[string]bool{} // "table.column" added by a pending ALTER
	for _, m := range ms {
		for _, st := range m.steps {
			if !applied[m.version] && st.kind == stepAddColumn {
				added[strings.ToLower(st.table+"."+st.column)] = true
			}
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		for _, st := range m.steps {
			if st.kind != stepCreateTable {
				continue
			}
			live, err := s.liveColumns(ctx, q, st.table)
			if err != nil {
				return fmt.Errorf("store: migration %s: line %d: %w", m.name, st.line, err)
			}
			if live == nil {
				continue
			}
			var missing []string
			for _, c := range st.cols {
				if !hasColumn(live, c) && !added[strings.ToLower(st.table+"."+c)] {
					missing = append(missing, c)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("store: migration %s: line %d: table %s exists but has no column %s, which ser uses "+
					"(its columns: %s); nothing was changed: rename or add the columns, or point db_url at another database",
					m.name, st.line, st.table, strings.Join(missing, ", "), strings.Join(live, ", "))
			}
		}
	}
	return nil
}

// execQueryer is *sql.Tx or *sql.Conn.
type execQueryer interface {
	queryer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// applySchemaStep runs the schema statement st on ex unless its effect
// is present already. It reports whether it ran, and the statements that
// undo it (MySQL's runner uses them when a later statement of the file
// fails).
func (s *Store) applySchemaStep(ctx context.Context, ex execQueryer, st step) (ran bool, undo []string, err error) {
	q := s.d.Expand(st.text)
	switch st.kind {
	case stepCreateTable:
		cols, err := s.liveColumns(ctx, ex, st.table)
		if err != nil || cols != nil {
			return false, nil, err
		}
		undo = []string{"DROP TABLE " + s.d.Quote(st.table)}
	case stepCreateIndex:
		cols, err := s.liveColumns(ctx, ex, st.table)
		if err != nil {
			return false, nil, err
		}
		if cols == nil {
			return false, nil, fmt.Errorf("index %s: there is no table %s", st.index, st.table)
		}
		live, err := s.liveIndexes(ctx, ex, st.table)
		if err != nil {
			return false, nil, err
		}
		present, err := indexPresent(st, live)
		if err != nil || present {
			return false, nil, err
		}
		if s.d == SQLite {
			other, err := sqliteIndexTable(ctx, ex, st.index)
			if err != nil {
				return false, nil, err
			}
			if other != "" {
				return false, nil, fmt.Errorf("index name %s is taken by an index of table %s (SQLite index names are global)", st.index, other)
			}
		}
		undo = []string{"DROP INDEX " + s.d.Quote(st.index) + " ON " + s.d.Quote(st.table)}
	case stepAddColumn:
		cols, err := s.liveColumns(ctx, ex, st.table)
		if err != nil {
			return false, nil, err
		}
		if cols == nil {
			return false, nil, fmt.Errorf("column %s: there is no table %s", st.column, st.table)
		}
		if hasColumn(cols, st.column) {
			return false, nil, nil
		}
		if st.autoID && s.d == SQLite {
			// SQLite's ALTER TABLE cannot add a primary key: the table
			// is rebuilt with it (this runs inside the file's
			// transaction).
			return true, nil, s.sqliteAddAutoID(ctx, ex, st.table, st.column, cols)
		}
		undo = []string{"ALTER TABLE " + s.d.Quote(st.table) + " DROP COLUMN " + s.d.Quote(st.column)}
	default:
		return false, nil, fmt.Errorf("not a schema statement")
	}
	if _, err := ex.ExecContext(ctx, q); err != nil {
		return false, nil, err
	}
	return true, undo, nil
}

// queryer is *sql.DB, *sql.Conn or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// appliedMigrations returns the versions listed in schema_migrations.
func (s *Store) appliedMigrations(ctx context.Context, db queryer) (map[int]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM "+migrationsTable)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", migrationsTable, err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: read %s: %w", migrationsTable, err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", migrationsTable, err)
	}
	return applied, nil
}

// Migration describes an applied migration.
type Migration struct {
	Version int
	Name    string
}

// Migrations lists the applied migrations in version order.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT version, name FROM "+migrationsTable+" ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	defer rows.Close()
	var out []Migration
	for rows.Next() {
		var m Migration
		if err := rows.Scan(&m.Version, &m.Name); err != nil {
			return nil, fmt.Errorf("store: list migrations: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	return out, nil
}

// statement is one SQL statement of a migration file and the line it
// starts on.
type statement struct {
	text string
	line int
}

// splitStatements splits a migration file into statements at the
// semicolons outside quotes ('…', "…", `…`) and comments (-- to end of
// line, /* … */). Comments are dropped; empty statements are skipped.
// Statements containing semicolons of their own (trigger bodies) are not
// supported.
func splitStatements(text string) ([]statement, error) {
	var (
		out   []statement
		cur   strings.Builder
		line  = 1
		start = 0 // line of the current statement's first character
	)
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, statement{text: t, line: start})
		}
		cur.Reset()
		start = 0
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			if i < len(text) {
				line++
				cur.WriteByte('\n')
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(text[i:i+2+end+2], "\n")
			cur.WriteByte(' ')
			i += 2 + end + 1
			continue
		case c == ';':
			flush()
			continue
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(text); j++ {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(text) {
				return nil, fmt.Errorf("line %d: unterminated quote", line)
			}
			if start == 0 {
				start = line
			}
			cur.WriteString(text[i : j+1])
			line += strings.Count(text[i:j+1], "\n")
			i = j
			continue
		}
		if c == '\n' {
			line++
		} else if start == 0 && c != ' ' && c != '\t' && c != '\r' {
			start = line
		}
		cur.WriteByte(c)
	}
	flush()
	return out, nil
}
