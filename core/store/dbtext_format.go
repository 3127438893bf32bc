package store

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SER's dbtext table files (the dbtext module of SER 0.9; Kamailio's
// db_text reads the same files): one file per table, named as the table.
// The first line declares the columns, separated by blanks:
//
//	name(type[,flag]) …
//
// type is int, double (float reads as double), str or string, blob, or
// datetime (Kamailio's; stored as seconds since the epoch); only its first
// letter counts, as in SER. flag is null (the column may be empty) or, on
// one int column, auto (the next value is the largest plus one). Every
// further line is a row: the values in column order separated by ':', an
// empty value meaning NULL; in strings \n, \r, \t, \\, \: and \0 stand for
// newline, carriage return, tab, backslash, colon and NUL.

// dbtCol is one column of a dbtext header.
type dbtCol struct {
	name string
	// kind is the type's first letter, lower case: i, d (double and
	// float), s (str, string), b (blob) or t (datetime).
	kind byte
	// word is the type as the file spells it, written back unchanged.
	word       string
	null, auto bool
}

// dbtFile is a parsed table file.
type dbtFile struct {
	cols  []dbtCol
	rows  [][]any // nil, int64, float64 or string per column
	lines []int   // the line number of each row
}

// dbtError is a malformed table file: "path:line: what".
func dbtError(path string, line int, format string, args ...any) error {
	return fmt.Errorf("store: dbtext %s:%d: %s: %w", path, line, fmt.Sprintf(format, args...), ErrInvalid)
}

// parseDBText parses a table file; path names it in errors.
func parseDBText(path string, data []byte) (*dbtFile, error) {
	lines := bytes.Split(data, []byte{'\n'})
	f := &dbtFile{}
	first := true
	for i, raw := range lines {
		n := i + 1
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if len(raw) == 0 {
			continue // SER skips empty lines
		}
		if first {
			cols, err := parseDBTHeader(path, n, string(raw))
			if err != nil {
				return nil, err
			}
			f.cols, first = cols, false
			continue
		}
		row, err := parseDBTRow(path, n, f.cols, raw)
		if err != nil {
			return nil, err
		}
		f.rows = append(f.rows, row)
		f.lines = append(f.lines, n)
	}
	if first {
		return nil, dbtError(path, 1, "no header line (name(type) …)")
	}
	return f, nil
}

func parseDBTHeader(path string, n int, line string) ([]dbtCol, error) {
	var cols []dbtCol
	seen := map[string]bool{}
	auto := false
	for _, def := range strings.Fields(line) {
		name, rest, ok := strings.Cut(def, "(")
		if !ok || !strings.HasSuffix(rest, ")") || name == "" {
			return nil, dbtError(path, n, "column %q: name(type[,flag]) expected", def)
		}
		if !ValidIdent(name) {
			return nil, dbtError(path, n, "column name %q is not an identifier", name)
		}
		if seen[strings.ToLower(name)] {
			return nil, dbtError(path, n, "column %s declared twice", name)
		}
		seen[strings.ToLower(name)] = true
		typ, flag, _ := strings.Cut(strings.TrimSuffix(rest, ")"), ",")
		typ, flag = strings.TrimSpace(typ), strings.ToLower(strings.TrimSpace(flag))
		c := dbtCol{name: name, word: typ}
		if typ == "" {
			return nil, dbtError(path, n, "column %s has no type", name)
		}
		switch k := typ[0] | 0x20; k {
		case 'i', 'd', 's', 'b', 't':
			c.kind = k
		case 'f':
			c.kind = 'd'
		default:
			return nil, dbtError(path, n, "column %s: unknown type %q (int, double, str, blob, datetime)", name, typ)
		}
		switch {
		case flag == "":
		case flag[0] == 'n':
			c.null = true
		case flag[0] == 'a' && c.kind == 'i' && !auto:
			c.auto, auto = true, true
		default:
			return nil, dbtError(path, n, "column %s: unknown flag %q (null, or auto on one int column)", name, flag)
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, dbtError(path, n, "no columns in the header")
	}
	return cols, nil
}

func parseDBTRow(path string, n int, cols []dbtCol, line []byte) ([]any, error) {
	var fields [][]byte
	var cur []byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ':':
			fields = append(fields, cur)
			cur = nil
		case '\\':
			if i+1 >= len(line) {
				return nil, dbtError(path, n, "a backslash ends the line")
			}
			i++
			switch e := line[i]; e {
			case 'n':
				cur = append(cur, '\n')
			case 'r':
				cur = append(cur, '\r')
			case 't':
				cur = append(cur, '\t')
			case '\\', ':':
				cur = append(cur, e)
			case '0':
				cur = append(cur, 0)
			default:
				return nil, dbtError(path, n, "unknown escape \\%c", e)
			}
			if cur == nil {
				cur = []byte{}
			}
		default:
			cur = append(cur, c)
		}
	}
	fields = append(fields, cur)
	if len(fields) != len(cols) {
		return nil, dbtError(path, n, "%d values, the header declares %d columns", len(fields), len(cols))
	}
	row := make([]any, len(cols))
	for i, c := range cols {
		v := fields[i]
		if len(v) == 0 {
			switch {
			case c.null || c.auto:
				row[i] = nil
			case c.kind == 's' || c.kind == 'b':
				// A column without the null flag cannot hold NULL: an
				// empty string is what the file can only write as
				// nothing.
				row[i] = ""
			default:
				return nil, dbtError(path, n, "column %s is empty but not declared null", c.name)
			}
			continue
		}
		switch c.kind {
		case 'i', 't':
			x, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, dbtError(path, n, "column %s: %q is not an integer", c.name, v)
			}
			row[i] = x
		case 'd':
			x, err := strconv.ParseFloat(string(v), 64)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, dbtError(path, n, "column %s: %q is not a number", c.name, v)
			}
			row[i] = x
		default:
			row[i] = string(v)
		}
	}
	return row, nil
}

// dbtEscaper writes SER's escapes.
var dbtEscaper = strings.NewReplacer("\\", "\\\\", ":", "\\:", "\n", "\\n", "\r", "\\r", "\t", "\\t", "\x00", "\\0")

// dbtTimeLayout is how the store writes datetimes (UTC).
const dbtTimeLayout = "2006-01-02 15:04:05"

// formatDBText writes a table file.
func formatDBText(cols []dbtCol, rows [][]any) ([]byte, error) {
	var b bytes.Buffer
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.name + "(" + c.word)
		switch {
		case c.null:
			b.WriteString(",null")
		case c.auto:
			b.WriteString(",auto")
		}
		b.WriteByte(')')
	}
	b.WriteByte('\n')
	for _, row := range rows {
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(':')
			}
			s, err := dbtValue(c, row[i])
			if err != nil {
				return nil, fmt.Errorf("store: dbtext column %s: %w", c.name, err)
			}
			b.WriteString(s)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// dbtValue is one value as the column's type writes it.
func dbtValue(c dbtCol, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch c.kind {
	case 'i', 't':
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatInt(int64(x), 10), nil
		case bool:
			if x {
				return "1", nil
			}
			return "0", nil
		case time.Time:
			return strconv.FormatInt(x.Unix(), 10), nil
		case string:
			if t, err := time.ParseInLocation(dbtTimeLayout, x, time.UTC); err == nil {
				return strconv.FormatInt(t.Unix(), 10), nil
			}
			if _, err := strconv.ParseInt(x, 10, 64); err == nil {
				return x, nil
			}
			return "", fmt.Errorf("%q is not an integer", x)
		}
	case 'd':
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10) + ".00", nil
		case float64:
			// SER printed "%.2f"; more digits only where two would
			// change the value (a q of 0.125).
			if s := strconv.FormatFloat(x, 'f', 2, 64); mustFloat(s) == x {
				return s, nil
			}
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case string:
			if _, err := strconv.ParseFloat(x, 64); err == nil {
				return x, nil
			}
			return "", fmt.Errorf("%q is not a number", x)
		}
	default:
		switch x := v.(type) {
		case string:
			return dbtEscaper.Replace(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case bool:
			if x {
				return "1", nil
			}
			return "0", nil
		case time.Time:
			return dbtEscaper.Replace(x.UTC().Format(dbtTimeLayout)), nil
		}
	}
	return "", fmt.Errorf("value of type %T", v)
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
