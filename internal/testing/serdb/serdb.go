// Package serdb makes, for tests, a database as SER 0.9 left it (its
// schema from scripts/ser_mysql.sh and the rows of a small installation)
// on SQLite or on a private MariaDB server, and snapshots a database's
// schema and rows as text so that tests can tell whether ser changed
// anything. See README.md.
package serdb

import (
	"database/sql"
	"embed"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver

	"ser/internal/testing/mariadb"
)

//go:embed testdata/*.sql
var files embed.FS

// DB is a connection pool on a test database outside ser's store.
type DB struct {
	*sql.DB
	MySQL bool
}

// SQLite creates SER 0.9's tables and rows in a new SQLite file in
// t.TempDir() and returns its db_url and a pool on it, closed when t ends.
func SQLite(t testing.TB) (string, *DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ser.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	d := &DB{DB: db}
	d.load(t, "ser09_sqlite.sql")
	return "sqlite://" + path, d
}

// MariaDB creates SER 0.9's tables and rows in a new database on srv and
// returns its db_url (user ser) and a pool on it (user ser), closed when
// t ends.
func MariaDB(t testing.TB, srv *mariadb.Server) (string, *DB) {
	t.Helper()
	name := srv.NewDatabase(t)
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = mariadb.User, mariadb.Password, "tcp", srv.Addr(), name
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	d := &DB{DB: db, MySQL: true}
	d.load(t, "ser09_mysql.sql")
	return srv.URL(name), d
}

// statementEnd is a semicolon ending a line: the files keep their
// statements' semicolons there and nowhere else at a line's end.
var statementEnd = regexp.MustCompile(`;[ \t]*\n`)

// load runs the schema file and then the rows.
func (d *DB) load(t testing.TB, schema string) {
	t.Helper()
	for _, f := range []string{schema, "ser09_rows.sql"} {
		b, err := files.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		for _, q := range statementEnd.Split(strings.Join(lines, "\n")+"\n", -1) {
			if q = strings.TrimSpace(q); q == "" {
				continue
			}
			if _, err := d.Exec(q); err != nil {
				t.Fatalf("serdb: %s: %s: %v", f, q, err)
			}
		}
	}
}

// Tables returns the names of the database's tables, sorted.
func (d *DB) Tables(t testing.TB) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if d.MySQL {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
	}
	return d.strings(t, q)
}

// strings returns the first column of a query's rows.
func (d *DB) strings(t testing.TB, q string, args ...any) []string {
	t.Helper()
	rows, err := d.Query(q, args...)
	if err != nil {
		t.Fatalf("serdb: %s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Definition returns a table's definition (MySQL's SHOW CREATE TABLE,
// SQLite's CREATE statements of the table and its indexes).
func (d *DB) Definition(t testing.TB, table string) string {
	t.Helper()
	if d.MySQL {
		var name, def string
		if err := d.QueryRow("SHOW CREATE TABLE `"+table+"`").Scan(&name, &def); err != nil {
			t.Fatalf("serdb: SHOW CREATE TABLE %s: %v", table, err)
		}
		return def
	}
	return strings.Join(d.strings(t, "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "+
		"ORDER BY type DESC, name", table), ";\n")
}

// Rows returns a table's rows as text, one line per row (columns
// separated by " | ", NULL as NULL), sorted; only the named columns when
// cols is not empty.
func (d *DB) Rows(t testing.TB, table string, cols ...string) []string {
	t.Helper()
	sel := "*"
	if len(cols) > 0 {
		sel = strings.Join(cols, ", ")
	}
	q := "SELECT " + sel + " FROM " + table
	rows, err := d.Query(q)
	if err != nil {
		t.Fatalf("serdb: %s: %v", q, err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	var out []string
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fields := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				fields[i] = "NULL"
			case []byte:
				fields[i] = string(v)
			default:
				fields[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(fields, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// Snapshot returns every table's definition and rows as one text.
func (d *DB) Snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range d.Tables(t) {
		fmt.Fprintf(&b, "== %s\n%s\n", table, d.Definition(t, table))
		for _, r := range d.Rows(t, table) {
			b.WriteString(r + "\n")
		}
	}
	return b.String()
}
