package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// table prints query results the way SER's serctl showed them: the mysql
// client's boxed table (the admin guide's acl transcript). Numeric
// columns are right-aligned, as mysql aligns them; an empty result prints
// nothing, as `mysql -e` does.
type table struct {
	cols  []string
	right []bool
	rows  [][]string
}

// newTable starts a table; a column name ending in ">" is right-aligned
// (the marker is not printed).
func newTable(cols ...string) *table {
	t := &table{}
	for _, c := range cols {
		name, right := strings.CutSuffix(c, ">")
		t.cols = append(t.cols, name)
		t.right = append(t.right, right)
	}
	return t
}

// add appends a row of as many cells as columns.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the table.
func (t *table) write(w io.Writer) {
	if len(t.rows) == 0 {
		return
	}
	width := make([]int, len(t.cols))
	for i, c := range t.cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var rule strings.Builder
	rule.WriteByte('+')
	for _, n := range width {
		rule.WriteString(strings.Repeat("-", n+2) + "+")
	}
	line := func(cells []string, header bool) {
		var b strings.Builder
		b.WriteByte('|')
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.right[i] && !header {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, rule.String())
	line(t.cols, true)
	fmt.Fprintln(w, rule.String())
	for _, r := range t.rows {
		line(r, false)
	}
	fmt.Fprintln(w, rule.String())
}

// nullable shows an empty nullable column as mysql shows NULL.
func nullable(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}

// sqlTime formats a DATETIME as stored (UTC, "YYYY-MM-DD hh:mm:ss").
func sqlTime(t time.Time) string {
	if t.IsZero() {
		return "0000-00-00 00:00:00"
	}
	return t.UTC().Format(time.DateTime)
}
