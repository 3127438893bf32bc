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

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string // file name
	text    string
}

// migrationName is NNNN_description.sql.
var migrationName = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_]+\.sql$`)

// loadMigrations reads the *.sql files at the root of fsys, sorted by
// version. Any other .sql name and duplicate versions are errors.
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
		ms = append(ms, migration{version: v, name: name, text: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations of fsys that schema_migrations does not
// list yet, in version order. With SQLite each runs in its own
// transaction together with its schema_migrations row; the transaction
// re-checks that row after taking the write lock, so two processes
// starting on one new database apply each migration once. MySQL commits
// DDL implicitly: see migrateMySQL.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	if s.d == MySQL {
		return s.migrateMySQL(ctx, ms)
	}
	create := "CREATE TABLE IF NOT EXISTS " + migrationsTable + ` (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME NOT NULL
)` + s.d.Expand("{{TABLE_OPTIONS}}")
	if _, err := s.w.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("store: create %s: %w", migrationsTable, err)
	}
	applied, err := s.appliedMigrations(ctx, s.w)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		stmts, err := splitStatements(m.text)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		ran := false
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+migrationsTable+" WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // another process applied it meanwhile
			}
			for _, st := range stmts {
				q := s.d.Expand(st.text)
				if i := strings.Index(q, "{{"); i >= 0 {
					return fmt.Errorf("line %d: unknown token %.20q", st.line, q[i:])
				}
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("line %d: %w", st.line, err)
				}
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO "+migrationsTable+" (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, dbTime(s.now()))
			ran = err == nil
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if ran {
			s.log.Info("applied migration", "file", m.name, "db", s.describe())
		}
	}
	return nil
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
