package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"ser/migrations"
)

// locationTable is how the migrations build the location table: its
// CREATE TABLE, then its indexes and added columns in migration order.
// EnsureLocationTable replays these statements for the other tables
// usrloc is told to use, so the SQL files are the one source of the
// layout; nothing in Go repeats a column.
type locationTable struct {
	create  string   // CREATE TABLE location (…){{TABLE_OPTIONS}}
	columns []string // column definitions added later ("path VARCHAR(512) DEFAULT NULL")
	names   []string // the added columns' names
	indexes []step   // CREATE INDEX location_… ON location (…)
	maxName int      // longest table name whose index names fit in 64 characters
	err     error    // the migrations lack a location table
}

// reCreateName finds the table name of a CREATE TABLE statement.
var reCreateName = regexp.MustCompile(`(?i)^CREATE\s+TABLE\s+location\b`)

// locationLayout reads the location statements from the embedded
// migrations once.
var locationLayout = sync.OnceValue(func() *locationTable {
	lt := &locationTable{maxName: 64}
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		lt.err = err
		return lt
	}
	for _, m := range ms {
		for _, st := range m.steps {
			if st.table != "location" {
				continue
			}
			switch st.kind {
			case stepCreateTable:
				lt.create = st.text
			case stepAddColumn:
				def := reAddColumn.FindStringSubmatch(st.text)
				lt.columns = append(lt.columns, def[2]+" "+def[3])
				lt.names = append(lt.names, st.column)
			case stepCreateIndex:
				if !strings.HasPrefix(st.index, "location_") {
					lt.err = fmt.Errorf("store: index %s of location is not named location_…", st.index)
					return lt
				}
				lt.indexes = append(lt.indexes, st)
				lt.maxName = min(lt.maxName, 64-len(st.index)+len("location"))
			}
		}
	}
	if lt.create == "" || !reCreateName.MatchString(lt.create) {
		lt.err = fmt.Errorf("store: the migrations create no location table")
	}
	return lt
})

// indexName is the name of location's index ix for table.
func (lt *locationTable) indexName(d *Dialect, table string, ix step) string {
	return d.Quote(strings.ToLower(table) + strings.TrimPrefix(ix.index, "location"))
}

// EnsureLocationTable creates table with the layout of location (and its
// indexes) unless a table of that name exists, and adds the columns the
// migrations added to location to an existing one that lacks them (a
// table made by SER, or by an earlier version: path). SER wanted the
// admin to create each table named in save()/lookup(); usrloc calls this
// for its tables at start-up so that a fresh database just works. The
// statements are those of the migrations for location (locationLayout)
// with the table's name. The name must pass ValidIdent and be at most 56
// characters (the index is named <table>_expires). Table names are
// case-insensitive with SQLite, case-sensitive with MySQL on Linux.
func (s *Store) EnsureLocationTable(ctx context.Context, table string) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	lt := locationLayout()
	if lt.err != nil {
		return lt.err
	}
	if len(table) > lt.maxName {
		return fmt.Errorf("store: location table name %q longer than %d characters: %w", table, lt.maxName, ErrInvalid)
	}
	// addMissing adds the columns cols lacks.
	addMissing := func(ex execer, cols []string) error {
		for i, c := range lt.names {
			if !hasColumn(cols, c) {
				if _, err := ex.ExecContext(ctx, s.d.Expand("ALTER TABLE "+qt+" ADD COLUMN "+lt.columns[i])); err != nil {
					return err
				}
			}
		}
		return nil
	}
	create := reCreateName.ReplaceAllLiteralString(lt.create, "CREATE TABLE "+qt)
	if s.d == MySQL {
		// DDL commits at once in MySQL: one statement creates the table
		// with its added columns and indexes, and IF NOT EXISTS lets two
		// nodes starting together both succeed. Looking first keeps a
		// read-only replica working when the table is there.
		cols, err := s.liveColumns(ctx, s.r, table)
		switch {
		case err != nil:
		case cols == nil:
			_, err = s.w.ExecContext(ctx, s.d.Expand(lt.mysqlCreate(s.d, table, create)))
		default:
			err = addMissing(s.w, cols)
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
			// The migrations' order, so that the stored DDL is the same
			// text as location's.
			if _, err := tx.ExecContext(ctx, s.d.Expand(create)); err != nil {
				return err
			}
			for _, ix := range lt.indexes {
				if _, err := tx.ExecContext(ctx, lt.createIndex(s.d, table, qt, ix)); err != nil {
					return err
				}
			}
		}
		return addMissing(tx, cols)
	})
	if err != nil {
		return fmt.Errorf("store: create location table %s: %w", table, err)
	}
	return nil
}

// createIndex is location's index ix on table (quoted qt).
func (lt *locationTable) createIndex(d *Dialect, table, qt string, ix step) string {
	unique := ""
	if ix.unique {
		unique = "UNIQUE "
	}
	return "CREATE " + unique + "INDEX " + lt.indexName(d, table, ix) + " ON " + qt + " (" + strings.Join(ix.cols, ", ") + ")"
}

// mysqlCreate is create (location's CREATE TABLE with table's name) made
// one MySQL statement: IF NOT EXISTS, the added columns after the others
// (where ALTER TABLE … ADD COLUMN put them in location) and the indexes as
// KEY clauses.
func (lt *locationTable) mysqlCreate(d *Dialect, table, create string) string {
	end := strings.LastIndexByte(create, ')')
	var extra strings.Builder
	for _, c := range lt.columns {
		extra.WriteString(",\n  " + c)
	}
	for _, ix := range lt.indexes {
		kind := "KEY "
		if ix.unique {
			kind = "UNIQUE KEY "
		}
		extra.WriteString(",\n  " + kind + lt.indexName(d, table, ix) + " (" + strings.Join(ix.cols, ", ") + ")")
	}
	create = strings.TrimRight(create[:end], " \t\r\n") + extra.String() + "\n" + create[end:]
	return strings.Replace(create, "CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)
}
