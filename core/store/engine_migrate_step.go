package store

import (
	"fmt"
	"regexp"
	"strings"
)

// stepKind is what a migration statement does, as far as the runner must
// know to tell whether its effect is there already.
type stepKind int

const (
	stepCreateTable stepKind = iota // CREATE TABLE t (…)
	stepCreateIndex                 // CREATE [UNIQUE] INDEX i ON t (cols)
	stepAddColumn                   // ALTER TABLE t ADD [COLUMN] c …
	stepData                        // INSERT, UPDATE, DELETE
)

// step is one statement of a migration file, classified.
type step struct {
	statement
	kind   stepKind
	table  string   // the table the statement works on
	index  string   // stepCreateIndex: the index name
	column string   // stepAddColumn: the column added
	cols   []string // stepCreateTable: the columns; stepCreateIndex: the indexed columns
	unique bool     // stepCreateIndex: UNIQUE
	autoID bool     // stepAddColumn: the column is {{AUTO_ID}}
}

var (
	reCreateTable = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?` + "`?" + `([A-Za-z_][A-Za-z0-9_]*)` + "`?" + `\s*\((.*)\)[^)]*$`)
	reCreateIndex = regexp.MustCompile(`(?is)^CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+ON\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(([^()]*)\)\s*$`)
	reAddColumn   = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$`)
	reData        = regexp.MustCompile(`(?is)^(INSERT|UPDATE|DELETE)\s`)
)

// tableConstraint reports whether the first word of an item of a CREATE
// TABLE body starts a constraint rather than a column.
func tableConstraint(word string) bool {
	switch strings.ToUpper(word) {
	case "PRIMARY", "UNIQUE", "KEY", "INDEX", "FOREIGN", "CONSTRAINT", "CHECK", "FULLTEXT":
		return true
	}
	return false
}

// parseStep classifies a migration statement. Only statements whose
// effect the runner can look up in the live schema are allowed as
// schema changes, so that every migration can run again over a database
// that has some or all of it already (an adopted SER database, or a
// MySQL migration whose undo was cut short): CREATE TABLE (skipped when
// the table exists), CREATE [UNIQUE] INDEX (skipped when an index with
// that name or those columns exists), ALTER TABLE … ADD [COLUMN] (skipped
// when the column exists). Data statements run as written and must be
// idempotent themselves (INSERT … SELECT … WHERE NOT EXISTS).
func parseStep(st statement) (step, error) {
	q := st.text
	if m := reCreateTable.FindStringSubmatch(q); m != nil {
		cols, err := tableColumnsOf(m[2])
		if err != nil {
			return step{}, fmt.Errorf("line %d: %w", st.line, err)
		}
		return step{statement: st, kind: stepCreateTable, table: m[1], cols: cols}, nil
	}
	if m := reCreateIndex.FindStringSubmatch(q); m != nil {
		var cols []string
		for _, c := range strings.Split(m[4], ",") {
			c = strings.Trim(strings.TrimSpace(c), "`\"")
			if !ValidIdent(c) {
				return step{}, fmt.Errorf("line %d: index column %q is not a plain column name", st.line, c)
			}
			cols = append(cols, c)
		}
		return step{statement: st, kind: stepCreateIndex, unique: m[1] != "", index: m[2], table: m[3], cols: cols}, nil
	}
	if m := reAddColumn.FindStringSubmatch(q); m != nil && !tableConstraint(m[2]) {
		return step{statement: st, kind: stepAddColumn, table: m[1], column: m[2],
			autoID: strings.Contains(m[3], "{{AUTO_ID}}")}, nil
	}
	if reData.MatchString(q) {
		return step{statement: st, kind: stepData}, nil
	}
	word, _, _ := strings.Cut(q, " ")
	return step{}, fmt.Errorf("line %d: %s statements are not allowed in a migration: use CREATE TABLE, "+
		"CREATE [UNIQUE] INDEX, ALTER TABLE … ADD COLUMN (the runner checks whether each is applied already) "+
		"and idempotent INSERT/UPDATE/DELETE", st.line, strings.ToUpper(word))
}

// tableColumnsOf returns the column names declared in the body of a
// CREATE TABLE (the text between its outer parentheses).
func tableColumnsOf(body string) ([]string, error) {
	var (
		cols  []string
		depth int
		start int
		quote byte
	)
	item := func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		word := strings.Fields(s)[0]
		if i := strings.IndexByte(word, '('); i >= 0 {
			word = word[:i]
		}
		if tableConstraint(word) {
			return nil
		}
		word = strings.Trim(word, "`\"")
		if !ValidIdent(word) {
			return fmt.Errorf("column name %q is not a plain identifier", word)
		}
		cols = append(cols, word)
		return nil
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			if err := item(body[start:i]); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := item(body[start:]); err != nil {
		return nil, err
	}
	return cols, nil
}
