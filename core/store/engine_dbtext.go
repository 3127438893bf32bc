package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// The dbtext engine keeps SER's dbtext directory (dbtext_format.go) in a
// private in-memory SQLite database, so every statement of the store runs
// unchanged:
//
//   - Open creates the schema in memory (the migrations), then loads every
//     table file of the directory into it: a file's rows replace the
//     table's, columns the schema lacks are added, tables the schema does
//     not know are created from the header.
//   - Every write goes through one connection whose SQLite update hook
//     notes the tables it changes. Before the transaction commits, each
//     changed table is written in full to a temporary file in the
//     directory and synced; only then does SQLite commit, and the
//     temporary files are renamed over the tables' files. A file that
//     cannot be written rolls the transaction back: the write fails and
//     memory and files stay as they were. A write outside a transaction
//     is made one.
//   - Writers lock the directory (flock on it) for the length of their
//     transaction, so ser and serctl may share one directory. Under that
//     lock, and once a second in the background, files changed by another
//     process are read again.
//
// A table loaded from a file is written with that file's header (its
// columns, types and flags); a table without a file gets one when it is
// first written, with every column of its schema.

// dbtextFailWrite, when set (tests), makes writing a table's file fail.
var dbtextFailWrite func(table string) error

// dbtextInternal are tables that never get a file.
var dbtextInternal = map[string]bool{migrationsTable: true}

// dbtext is the state of a dbtext directory shared by a store's write
// connection and its refresher.
type dbtext struct {
	dir  string
	perm os.FileMode
	log  *slog.Logger

	// ready is set once the migrations ran and the files were loaded:
	// from then on commits write files.
	ready atomic.Bool

	mu     sync.Mutex
	tables map[string]*dbtTable // lower-case table name
	loaded bool                 // the first load ran

	stop chan struct{}
	done chan struct{}
}

// dbtTable is what the engine knows of one table file.
type dbtTable struct {
	name  string   // as the file is named
	cols  []dbtCol // the file's header; nil: from the schema
	stamp fileStamp
	bad   fileStamp // the stamp of a malformed version, logged once
}

// fileStamp identifies a version of a file.
type fileStamp struct {
	size, mtime int64
	ino         uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// openDBText sets up the two pools over a new in-memory database for the
// directory s.src.Path (created when missing).
func (s *Store) openDBText(ctx context.Context, readConns int, perm os.FileMode) error {
	fi, err := os.Stat(s.src.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(s.src.Path, 0o750); err != nil {
			return fmt.Errorf("store: create dbtext directory: %w", err)
		}
	case err != nil:
		return fmt.Errorf("store: open %s: %w", s.describe(), err)
	case !fi.IsDir():
		return fmt.Errorf("store: open %s: not a directory: %w", s.describe(), ErrInvalid)
	}
	dt := &dbtext{dir: s.src.Path, perm: perm, log: s.log, tables: map[string]*dbtTable{}}
	file := fmt.Sprintf("file:/ser-dbtext-%d-%d-%d?vfs=memdb&", os.Getpid(), memSeq.Add(1), rand.Int64())
	wc := &dbtConnector{dsn: file + "_busy_timeout=5000&_foreign_keys=on&_txlock=immediate", dt: dt}
	rc := dsnConnector{file + "_busy_timeout=5000&_foreign_keys=on&_query_only=on", &sqlite3.SQLiteDriver{}}
	if err := s.sqlitePools(ctx, wc, rc, readConns); err != nil {
		return err
	}
	s.dbt = dt
	return nil
}

// startDBText loads the directory's files (after the migrations) and
// starts the refresher. A malformed file fails the open, naming file and
// line.
func (s *Store) startDBText(ctx context.Context) error {
	s.dbt.ready.Store(true)
	// A transaction that writes nothing: its start loads the files.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.dbt.stop, s.dbt.done = make(chan struct{}), make(chan struct{})
	go s.dbtextRefresher()
	return nil
}

// dbtextRefresher re-reads files changed by other processes once a
// second until the store closes.
func (s *Store) dbtextRefresher() {
	defer close(s.dbt.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.dbt.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		tx, err := s.w.BeginTx(ctx, nil)
		if err == nil {
			err = tx.Commit()
		}
		cancel()
		if err != nil {
			s.log.Warn("dbtext: re-reading changed table files failed", "dir", s.dbt.dir, "err", err)
		}
	}
}

// closeDBText stops the refresher.
func (s *Store) closeDBText() {
	if s.dbt != nil && s.dbt.stop != nil {
		close(s.dbt.stop)
		<-s.dbt.done
		s.dbt.stop = nil
	}
}

// lock takes the directory's writer lock, waiting up to the context's
// deadline or five seconds.
func (dt *dbtext) lock(ctx context.Context) (*os.File, error) {
	f, err := os.Open(dt.dir)
	if err != nil {
		return nil, fmt.Errorf("store: dbtext %s: %w", dt.dir, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("store: dbtext %s: locked by another writer for 5 s", dt.dir)
			}
			return nil, fmt.Errorf("store: dbtext %s: lock: %w", dt.dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// tableFiles lists the directory's table files: regular files whose
// names are identifiers (a README.txt, a dot file or a temporary file is
// not a table).
func (dt *dbtext) tableFiles() (map[string]os.FileInfo, error) {
	ents, err := os.ReadDir(dt.dir)
	if err != nil {
		return nil, fmt.Errorf("store: dbtext %s: %w", dt.dir, err)
	}
	out := map[string]os.FileInfo{}
	for _, e := range ents {
		if !e.Type().IsRegular() || !ValidIdent(e.Name()) || dbtextInternal[strings.ToLower(e.Name())] {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out[e.Name()] = fi
	}
	return out, nil
}

// refresh loads the files that are new or changed since they were last
// read or written, inside the write transaction of c. The first load
// fails on a malformed file; later a malformed file is logged (once per
// version) and the table keeps its rows.
func (dt *dbtext) refresh(ctx context.Context, c *dbtConn, first bool) error {
	files, err := dt.tableFiles()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		st := stampOf(files[name])
		dt.mu.Lock()
		t := dt.tables[strings.ToLower(name)]
		dt.mu.Unlock()
		if t != nil && (t.stamp == st || t.bad == st) {
			continue
		}
		path := filepath.Join(dt.dir, name)
		data, err := os.ReadFile(path)
		if err == nil {
			var f *dbtFile
			if f, err = parseDBText(path, data); err == nil {
				err = c.loadTable(ctx, name, f)
			}
		}
		if err != nil {
			if first {
				return err
			}
			dt.log.Error("dbtext: table file not loaded; the table keeps its rows", "file", path, "err", err)
			if t == nil {
				t = &dbtTable{name: name}
				dt.mu.Lock()
				dt.tables[strings.ToLower(name)] = t
				dt.mu.Unlock()
			}
			t.bad = st
			continue
		}
		if !first {
			dt.log.Info("dbtext: table file changed on disk, reloaded", "file", path)
		}
	}
	return nil
}

// tableColumns returns the columns of a table in memory: name, declared
// type, NOT NULL, primary key position; nil when there is no such table.
type memColumn struct {
	name, typ string
	notNull   bool
	pk        int
}

func (c *dbtConn) tableColumns(ctx context.Context, table string) ([]memColumn, error) {
	rows, err := c.inner.QueryContext(ctx, "PRAGMA table_info("+SQLite.Quote(table)+")", nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []memColumn
	v := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(v); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		// cid, name, type, notnull, dflt_value, pk
		out = append(out, memColumn{name: asString(v[1]), typ: strings.ToUpper(asString(v[2])), notNull: asInt(v[3]) != 0, pk: int(asInt(v[5]))})
	}
	return out, nil
}

func asString(v driver.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func asInt(v driver.Value) int64 {
	if x, ok := v.(int64); ok {
		return x
	}
	return 0
}

func isTimeType(typ string) bool {
	return strings.Contains(typ, "DATE") || strings.Contains(typ, "TIME")
}

// sqliteType is the column type a dbtext type creates.
func sqliteType(c dbtCol) string {
	switch c.kind {
	case 'i':
		return "INTEGER"
	case 'd':
		return "REAL"
	case 'b':
		return "BLOB"
	case 't':
		return "DATETIME"
	}
	return "TEXT"
}

// loadTable replaces the rows of table name with the file's (creating the
// table or adding columns as needed) and records the file's header.
func (c *dbtConn) loadTable(ctx context.Context, name string, f *dbtFile) error {
	c.quiet = true
	defer func() { c.quiet = false }()
	exec := func(q string, args ...driver.NamedValue) error {
		_, err := c.inner.ExecContext(ctx, q, args)
		if err != nil {
			return fmt.Errorf("store: dbtext table %s: %w", name, err)
		}
		return nil
	}
	mem, err := c.tableColumns(ctx, name)
	if err != nil {
		return err
	}
	types := map[string]string{}
	for _, mc := range mem {
		types[strings.ToLower(mc.name)] = mc.typ
	}
	if mem == nil {
		var defs []string
		for _, col := range f.cols {
			d := SQLite.Quote(col.name) + " " + sqliteType(col)
			switch {
			case col.auto:
				d += " PRIMARY KEY AUTOINCREMENT"
			case !col.null:
				d += " NOT NULL"
			}
			defs = append(defs, d)
			types[strings.ToLower(col.name)] = sqliteType(col)
		}
		if err := exec("CREATE TABLE " + SQLite.Quote(name) + " (" + strings.Join(defs, ", ") + ")"); err != nil {
			return err
		}
	} else {
		for _, col := range f.cols {
			if _, ok := types[strings.ToLower(col.name)]; ok {
				continue
			}
			if err := exec("ALTER TABLE " + SQLite.Quote(name) + " ADD COLUMN " + SQLite.Quote(col.name) + " " + sqliteType(col)); err != nil {
				return err
			}
			types[strings.ToLower(col.name)] = sqliteType(col)
		}
	}
	if err := exec("DELETE FROM " + SQLite.Quote(name)); err != nil {
		return err
	}
	// Columns of the schema's unique keys that the file does not have
	// (SER's subscriber files have no phplib_id): each row gets a value of
	// its own there, in memory only.
	fill, err := c.uniqueMissing(ctx, name, f.cols)
	if err != nil {
		return err
	}
	for i, row := range f.rows {
		var cols, marks []string
		var args []driver.NamedValue
		for _, col := range fill {
			cols = append(cols, SQLite.Quote(col))
			marks = append(marks, "?")
			args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: fmt.Sprintf("dbtext:%d", i+1)})
		}
		for j, col := range f.cols {
			v := row[j]
			if v == nil {
				continue // the column's default
			}
			if n, ok := v.(int64); ok && isTimeType(types[strings.ToLower(col.name)]) {
				v = time.Unix(n, 0).UTC().Format(dbtTimeLayout)
			}
			cols = append(cols, SQLite.Quote(col.name))
			marks = append(marks, "?")
			args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
		}
		q := "INSERT INTO " + SQLite.Quote(name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
		if len(cols) == 0 {
			q = "INSERT INTO " + SQLite.Quote(name) + " DEFAULT VALUES"
		}
		if _, err := c.inner.ExecContext(ctx, q, args); err != nil {
			return dbtError(filepath.Join(c.dt.dir, name), f.lines[i], "%v", err)
		}
	}
	fi, err := os.Stat(filepath.Join(c.dt.dir, name))
	if err != nil {
		return fmt.Errorf("store: dbtext: %w", err)
	}
	c.dt.mu.Lock()
	c.dt.tables[strings.ToLower(name)] = &dbtTable{name: name, cols: f.cols, stamp: stampOf(fi)}
	c.dt.mu.Unlock()
	return nil
}

// uniqueMissing returns the columns of table's unique indexes (not its
// primary key) that cols lacks.
func (c *dbtConn) uniqueMissing(ctx context.Context, table string, cols []dbtCol) ([]string, error) {
	have := map[string]bool{}
	for _, col := range cols {
		have[strings.ToLower(col.name)] = true
	}
	query := func(q string) ([][]driver.Value, error) {
		rows, err := c.inner.QueryContext(ctx, q, nil)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][]driver.Value
		for {
			v := make([]driver.Value, len(rows.Columns()))
			if err := rows.Next(v); err == io.EOF {
				return out, nil
			} else if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	idx, err := query("PRAGMA index_list(" + SQLite.Quote(table) + ")")
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, ix := range idx { // seq, name, unique, origin, partial
		if asInt(ix[2]) == 0 || asString(ix[3]) == "pk" {
			continue
		}
		info, err := query("PRAGMA index_info(" + SQLite.Quote(asString(ix[1])) + ")")
		if err != nil {
			return nil, err
		}
		for _, in := range info { // seqno, cid, name
			n := asString(in[2])
			if !have[strings.ToLower(n)] && !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// pendingFile is a table written to a temporary file, to be renamed over
// the table's file once SQLite committed.
type pendingFile struct {
	table, tmp, path string
	cols             []dbtCol
}

// writeTemps writes every dirty table to a synced temporary file. On an
// error nothing is left behind.
func (c *dbtConn) writeTemps(ctx context.Context) ([]pendingFile, error) {
	var out []pendingFile
	fail := func(err error) ([]pendingFile, error) {
		for _, p := range out {
			os.Remove(p.tmp)
		}
		return nil, err
	}
	names := make([]string, 0, len(c.dirty))
	for n := range c.dirty {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, table := range names {
		if dbtextInternal[strings.ToLower(table)] || strings.HasPrefix(strings.ToLower(table), "sqlite_") {
			continue
		}
		c.dt.mu.Lock()
		t := c.dt.tables[strings.ToLower(table)]
		c.dt.mu.Unlock()
		name, cols := table, []dbtCol(nil)
		if t != nil {
			name, cols = t.name, t.cols
		}
		mem, err := c.tableColumns(ctx, table)
		if err != nil {
			return fail(err)
		}
		if mem == nil {
			continue // dropped
		}
		if cols == nil {
			cols = schemaCols(mem)
		}
		data, err := c.dumpTable(ctx, table, cols)
		if err != nil {
			return fail(err)
		}
		path := filepath.Join(c.dt.dir, name)
		tmp, err := c.dt.writeTemp(name, path, data)
		if err != nil {
			return fail(err)
		}
		out = append(out, pendingFile{table: table, tmp: tmp, path: path, cols: cols})
	}
	return out, nil
}

// schemaCols is the header of a table that has no file: every column,
// typed by its declared type; NOT NULL columns without the null flag;
// an INTEGER primary key alone is auto.
func schemaCols(mem []memColumn) []dbtCol {
	pks := 0
	for _, m := range mem {
		if m.pk > 0 {
			pks++
		}
	}
	var cols []dbtCol
	for _, m := range mem {
		c := dbtCol{name: m.name, null: !m.notNull}
		switch {
		case strings.Contains(m.typ, "INT"):
			c.kind, c.word = 'i', "int"
		case isTimeType(m.typ):
			// SER's dbtext has no datetime: seconds, as its location
			// files keep expires.
			c.kind, c.word = 'i', "int"
		case strings.Contains(m.typ, "REAL") || strings.Contains(m.typ, "FLOA") || strings.Contains(m.typ, "DOUB") || strings.Contains(m.typ, "DEC"):
			c.kind, c.word = 'd', "double"
		case strings.Contains(m.typ, "BLOB"):
			c.kind, c.word = 'b', "blob"
		default:
			c.kind, c.word = 's', "str"
		}
		if m.pk > 0 && pks == 1 && c.kind == 'i' && strings.Contains(m.typ, "INT") {
			c.auto, c.null = true, false
		}
		cols = append(cols, c)
	}
	return cols
}

// dumpTable formats the rows of table (in rowid order) under cols.
func (c *dbtConn) dumpTable(ctx context.Context, table string, cols []dbtCol) ([]byte, error) {
	sel := make([]string, len(cols))
	for i, col := range cols {
		sel[i] = SQLite.Quote(col.name)
	}
	rows, err := c.inner.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+SQLite.Quote(table)+" ORDER BY rowid", nil)
	if err != nil {
		return nil, fmt.Errorf("store: dbtext: dump %s: %w", table, err)
	}
	defer rows.Close()
	var all [][]any
	for {
		v := make([]driver.Value, len(cols))
		if err := rows.Next(v); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("store: dbtext: dump %s: %w", table, err)
		}
		row := make([]any, len(v))
		for i := range v {
			row[i] = v[i]
		}
		all = append(all, row)
	}
	data, err := formatDBText(cols, all)
	if err != nil {
		return nil, fmt.Errorf("store: dbtext: table %s: %w", table, err)
	}
	return data, nil
}

// writeTemp writes data to a synced temporary file beside path, with
// path's mode (or the store's file mode for a new table).
func (dt *dbtext) writeTemp(name, path string, data []byte) (string, error) {
	if dbtextFailWrite != nil {
		if err := dbtextFailWrite(name); err != nil {
			return "", fmt.Errorf("store: dbtext: write %s: %w", name, err)
		}
	}
	mode := dt.perm
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(dt.dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("store: dbtext: write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("store: dbtext: write %s: %w", name, err)
	}
	return tmp, nil
}

// install renames the temporary files over the tables' files and records
// their new versions.
func (dt *dbtext) install(files []pendingFile) error {
	var errs []error
	for _, p := range files {
		if err := os.Rename(p.tmp, p.path); err != nil {
			os.Remove(p.tmp)
			errs = append(errs, fmt.Errorf("store: dbtext: replace %s: %w", p.path, err))
			continue
		}
		fi, err := os.Stat(p.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dt.mu.Lock()
		dt.tables[strings.ToLower(p.table)] = &dbtTable{name: filepath.Base(p.path), cols: p.cols, stamp: stampOf(fi)}
		dt.mu.Unlock()
	}
	if d, err := os.Open(dt.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return errors.Join(errs...)
}

// dbtConnector opens the write connection of a dbtext store.
type dbtConnector struct {
	dsn string
	dt  *dbtext
}

func (k *dbtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	drv := &sqlite3.SQLiteDriver{}
	conn, err := drv.Open(k.dsn)
	if err != nil {
		return nil, err
	}
	inner := conn.(*sqlite3.SQLiteConn)
	c := &dbtConn{inner: inner, dt: k.dt, dirty: map[string]bool{}}
	inner.RegisterUpdateHook(func(_ int, _ string, table string, _ int64) {
		if !c.quiet {
			c.dirty[table] = true
		}
	})
	// SQLite's truncate optimisation (DELETE without WHERE) skips the
	// update hook; answering IGNORE to the delete authorisation turns it
	// off, the rows are then deleted one by one and reported.
	inner.RegisterAuthorizer(func(op int, _, _, _ string) int {
		if op == sqlite3.SQLITE_DELETE {
			return sqlite3.SQLITE_IGNORE
		}
		return sqlite3.SQLITE_OK
	})
	return c, nil
}

func (k *dbtConnector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// dbtConn is the write connection: SQLite's, with transactions that
// write the changed tables' files.
type dbtConn struct {
	inner *sqlite3.SQLiteConn
	dt    *dbtext
	tx    *dbtTx
	dirty map[string]bool
	// quiet is set while files are loaded: those rows are not changes.
	quiet bool
}

func (c *dbtConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *dbtConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.inner.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &dbtStmt{inner: st.(*sqlite3.SQLiteStmt), c: c}, nil
}

func (c *dbtConn) Close() error { return c.inner.Close() }

func (c *dbtConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx takes the directory lock, begins SQLite's transaction and reads
// the files other processes changed.
func (c *dbtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t := &dbtTx{c: c}
	if c.dt.ready.Load() {
		lk, err := c.dt.lock(ctx)
		if err != nil {
			return nil, err
		}
		t.lock = lk
	}
	inner, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		t.unlock()
		return nil, err
	}
	t.inner = inner
	c.tx = t
	if t.lock != nil {
		c.dt.mu.Lock()
		first := !c.dt.loaded
		c.dt.loaded = true
		c.dt.mu.Unlock()
		if err := c.dt.refresh(ctx, c, first); err != nil {
			t.Rollback()
			return nil, err
		}
	}
	clear(c.dirty)
	return t, nil
}

func (c *dbtConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *dbtConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.inner.QueryContext(ctx, q, args)
}

// ExecContext runs a statement; outside a transaction it is made one, so
// that its change reaches the file before it counts.
func (c *dbtConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.exec(ctx, func() (driver.Result, error) { return c.inner.ExecContext(ctx, q, args) }, q)
}

func (c *dbtConn) exec(ctx context.Context, run func() (driver.Result, error), q string) (driver.Result, error) {
	if c.tx != nil || !c.dt.ready.Load() || noTx(q) {
		return run()
	}
	tx, err := c.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	res, err := run()
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// noTx reports statements that manage transactions or connection
// settings themselves.
func noTx(q string) bool {
	w := strings.ToUpper(strings.TrimSpace(q))
	for _, p := range []string{"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "VACUUM"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// dbtTx is a write transaction.
type dbtTx struct {
	c     *dbtConn
	inner driver.Tx
	lock  *os.File
}

func (t *dbtTx) unlock() {
	if t.lock != nil {
		syscall.Flock(int(t.lock.Fd()), syscall.LOCK_UN)
		t.lock.Close()
		t.lock = nil
	}
}

// Commit writes the changed tables to temporary files, commits, and
// renames the files into place; a file that cannot be written rolls back.
func (t *dbtTx) Commit() error {
	c := t.c
	defer func() {
		c.tx = nil
		clear(c.dirty)
		t.unlock()
	}()
	var files []pendingFile
	if c.dt.ready.Load() && len(c.dirty) > 0 {
		var err error
		if files, err = c.writeTemps(context.Background()); err != nil {
			t.inner.Rollback()
			return err
		}
	}
	if err := t.inner.Commit(); err != nil {
		for _, p := range files {
			os.Remove(p.tmp)
		}
		return err
	}
	return c.dt.install(files)
}

func (t *dbtTx) Rollback() error {
	defer func() {
		t.c.tx = nil
		clear(t.c.dirty)
		t.unlock()
	}()
	return t.inner.Rollback()
}

// dbtStmt is a prepared statement of the write connection.
type dbtStmt struct {
	inner *sqlite3.SQLiteStmt
	c     *dbtConn
}

func (s *dbtStmt) Close() error  { return s.inner.Close() }
func (s *dbtStmt) NumInput() int { return s.inner.NumInput() }

func (s *dbtStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("store: dbtext: Exec without context")
}

func (s *dbtStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("store: dbtext: Query without context")
}

func (s *dbtStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.exec(ctx, func() (driver.Result, error) { return s.inner.ExecContext(ctx, args) }, "")
}

func (s *dbtStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.inner.QueryContext(ctx, args)
}
