package store

import (
	"errors"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Dialect is everything that differs between the SQL engines the store
// speaks. It is the one place where engine-specific SQL lives: the rest of
// the package writes portable SQL (placeholders are "?" in both engines) and
// asks the dialect for the few constructs that differ.
type Dialect struct {
	// Name is "sqlite" or "mysql".
	Name string

	// tokens maps the migration tokens ({{AUTO_ID}} …) to engine SQL.
	tokens map[string]string
	// quote opens and closes a quoted identifier.
	quoteOpen, quoteClose string
	// insertIgnore starts an INSERT that skips rows violating a key.
	insertIgnore string
	// concatPipes: "a || b" (SQLite) instead of CONCAT(a, b) (MySQL).
	concatPipes bool
	// length is the character-length function.
	length string
	// duplicate reports whether err is a primary/unique key violation.
	duplicate func(error) bool
	// tableExists selects 1 when the table named by its parameter exists.
	tableExists string
}

// SQLite is the dialect of the embedded default engine (mattn/go-sqlite3).
var SQLite = &Dialect{
	Name: "sqlite",
	tokens: map[string]string{
		"{{AUTO_ID}}":       "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{TIMESTAMP}}":     "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP",
		"{{TABLE_OPTIONS}}": "",
	},
	quoteOpen:    `"`,
	quoteClose:   `"`,
	insertIgnore: "INSERT OR IGNORE INTO",
	concatPipes:  true,
	length:       "LENGTH",
	tableExists:  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
	duplicate: func(err error) bool {
		var se sqlite3.Error
		if !errors.As(err, &se) {
			return false
		}
		return se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey ||
			se.ExtendedCode == sqlite3.ErrConstraintUnique
	},
}

// MySQL is the dialect of MySQL/MariaDB (go-sql-driver/mysql). Tables are
// InnoDB (transactions, foreign keys) with a binary collation so that
// comparisons are case-sensitive as in SQLite (SIP user names are
// case-sensitive, RFC 3261 §19.1.4).
var MySQL = &Dialect{
	Name: "mysql",
	tokens: map[string]string{
		"{{AUTO_ID}}":       "INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
		"{{TIMESTAMP}}":     "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
		"{{TABLE_OPTIONS}}": " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	},
	quoteOpen:    "`",
	quoteClose:   "`",
	insertIgnore: "INSERT IGNORE INTO",
	length:       "CHAR_LENGTH",
	// information_schema compares names case-insensitively; MySQL's
	// table names are case-sensitive on Linux.
	tableExists: "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() " +
		"AND CAST(table_name AS BINARY) = CAST(? AS BINARY)",
	duplicate: func(err error) bool {
		return mysqlErrorIn(err, erDupEntry, erDupEntryWithKeyName, erDupKey)
	},
}

// MySQL server error numbers the store looks at.
const (
	erDupKey              = 1022 // ER_DUP_KEY
	erDupFieldName        = 1060 // ER_DUP_FIELDNAME
	erDupKeyName          = 1061 // ER_DUP_KEYNAME
	erDupEntry            = 1062 // ER_DUP_ENTRY
	erTableExists         = 1050 // ER_TABLE_EXISTS_ERROR
	erCantDropFieldOrKey  = 1091 // ER_CANT_DROP_FIELD_OR_KEY
	erNoSuchTable         = 1146 // ER_NO_SUCH_TABLE
	erBadTable            = 1051 // ER_BAD_TABLE_ERROR (DROP TABLE of a missing table)
	erDupEntryWithKeyName = 1586 // ER_DUP_ENTRY_WITH_KEY_NAME
)

// mysqlErrorIn reports whether err is a MySQL server error with one of
// the numbers.
func mysqlErrorIn(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	return slices.Contains(numbers, me.Number)
}

// Expand replaces the migration tokens in a migration statement with this
// engine's SQL.
func (d *Dialect) Expand(stmt string) string {
	for tok, repl := range d.tokens {
		stmt = strings.ReplaceAll(stmt, tok, repl)
	}
	return stmt
}

// Quote quotes an identifier that has passed ValidIdent.
func (d *Dialect) Quote(ident string) string {
	return d.quoteOpen + ident + d.quoteClose
}

// InsertIgnore returns "INSERT OR IGNORE INTO t (cols) VALUES (?, …)" (or
// MySQL's INSERT IGNORE): a row that violates a key is skipped silently.
func (d *Dialect) InsertIgnore(table string, cols []string) string {
	return d.insertIgnore + " " + table + " (" + strings.Join(cols, ", ") +
		") VALUES (" + placeholders(len(cols)) + ")"
}

// Upsert returns an INSERT of cols that, when a row with the same keys
// exists, updates the update columns to the inserted values instead.
// SQLite: ON CONFLICT (keys) DO UPDATE SET c = excluded.c;
// MySQL: ON DUPLICATE KEY UPDATE c = VALUES(c).
func (d *Dialect) Upsert(table string, cols, keys, update []string) string {
	return d.UpsertRows(table, cols, keys, update, 1)
}

// UpsertRows is Upsert of rows rows in one statement (VALUES (…), (…)),
// taking len(cols)*rows parameters, row after row. A key repeated among
// the rows ends with the values of its last row in both engines.
func (d *Dialect) UpsertRows(table string, cols, keys, update []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	row := "(" + placeholders(len(cols)) + ")"
	for i := range max(rows, 1) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if d.Name == "mysql" {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = VALUES(" + c + ")")
		}
		return b.String()
	}
	b.WriteString(" ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET ")
	for i, c := range update {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

// Concat returns the SQL expression concatenating the given expressions.
func (d *Dialect) Concat(exprs ...string) string {
	if d.concatPipes {
		return "(" + strings.Join(exprs, " || ") + ")"
	}
	return "CONCAT(" + strings.Join(exprs, ", ") + ")"
}

// Length returns the SQL expression for the character length of expr.
func (d *Dialect) Length(expr string) string {
	return d.length + "(" + expr + ")"
}

// IsDuplicate reports whether err is a primary or unique key violation.
func (d *Dialect) IsDuplicate(err error) bool {
	return d.duplicate(err)
}

// TableExistsQuery returns a query with one parameter, the table name,
// that yields a row when the table exists.
func (d *Dialect) TableExistsQuery() string {
	return d.tableExists
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
