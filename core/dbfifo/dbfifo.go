// Package dbfifo is SER's FIFO "DB" command (db/db_fifo.c), registered
// when the fifo_db_url option names a database: select, insert, update and
// delete on any table, and raw SQL, over the FIFO or the unix socket.
//
// Request layout (one item per line, "." ends a list):
//
//	select                 delete | insert       update
//	<column>               <table>               <column> = <value>
//	...                    <column> <op> <value> ...
//	.                      ...                   .
//	<table>                .                     <table>
//	<column> <op> <value>                        <column> <op> <value>
//	...                                          ...
//	.                                            .
//
//	raw_query | raw_query_response
//	<SQL statement>
//
// Values are "quoted strings", numbers (a dot makes a double), <YYYY-MM-DD
// hh:mm:ss> dates (local time) and null; a cast prefix [int], [double],
// [string], [date], [blob] or [bitmap] types a value, and null needs one.
// Operators are =, <, >, <=, >= and, after a space, !=, <> and like.
// select and raw_query_response print the column names, each followed by
// a space, then one line per row in the same layout (NULL for null, %f
// doubles, dates as ctime(3) — with its newline, as SER printed them);
// the other sub-commands print nothing on success. Errors are one
// "ERROR: <text>" line. SER wrote no status line for this command, and
// neither does ser.
package dbfifo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

// maxArray is SER's MAX_ARRAY: more keys or conditions are ignored.
const maxArray = 32

// Command returns the DB command working on st.
func Command(st *store.Store) rpc.Command {
	return rpc.Command{
		Name:   "DB",
		Params: []string{"select|insert|update|delete|raw_query|raw_query_response", "..."},
		Help:   "SQL access to the fifo_db_url database (SER's db_fifo)",
		Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			return run(ctx, st, req.Params)
		},
	}
}

// fail is a request error: its text goes to the reply as "ERROR: text".
type fail struct {
	code int
	text string
}

func (f *fail) Error() string { return f.text }

func badRequest(text string) *fail { return &fail{400, text} }

// dbFailed is SER's answer to any database error.
var dbFailed = &fail{500, "Internal Server error - DB query failed"}

func run(ctx context.Context, st *store.Store, p rpc.Params) *rpc.Reply {
	out, err := execute(ctx, st, p)
	if err != nil {
		var f *fail
		if !errors.As(err, &f) {
			f = &fail{500, "Internal Server Error"}
		}
		return &rpc.Reply{Code: f.code, Text: "ERROR: " + f.text + "\n", Bare: true}
	}
	return &rpc.Reply{Code: 200, Text: out, Bare: true}
}

func execute(ctx context.Context, st *store.Store, p rpc.Params) (string, error) {
	line, ok := p.Line()
	line = strings.TrimSpace(line)
	if !ok || line == "" {
		return "", badRequest("DB command name expected")
	}
	cmd := strings.ToLower(line)
	switch cmd {
	case "raw_query", "raw_query_response":
		q, ok := p.Line()
		q = strings.TrimSpace(q)
		if !ok || q == "" {
			return "", badRequest("Raw db command expected")
		}
		if cmd == "raw_query" {
			if err := st.RawExec(ctx, q); err != nil {
				return "", dbFailed
			}
			return "", nil
		}
		res, err := st.RawQuery(ctx, q)
		if err != nil {
			return "", dbFailed
		}
		return format(res), nil
	case "select", "insert", "update", "delete":
	default:
		return "", badRequest("Unknown DB command name")
	}

	var keys []string
	var set []store.Cond
	var err error
	switch cmd {
	case "select":
		if keys, err = readKeys(p); err != nil {
			return "", err
		}
	case "update":
		if set, err = readAVPs(p); err != nil {
			return "", err
		}
		if len(set) == 0 {
			return "", badRequest("UPDATE command must have at least one field to update")
		}
		for _, c := range set {
			if c.Op != "=" {
				return "", badRequest("Invalid operator in updated fields (expected = )")
			}
		}
	}
	table, ok := p.Line()
	table = strings.TrimSpace(table)
	if !ok || table == "" {
		return "", badRequest("Table name expected")
	}
	if !store.ValidIdent(table) {
		return "", badRequest("Bad table name")
	}
	conds, err := readAVPs(p)
	if err != nil {
		return "", err
	}
	switch cmd {
	case "select":
		res, err := st.GenericSelect(ctx, table, keys, conds)
		if err != nil {
			return "", dbError(err)
		}
		return format(res), nil
	case "update":
		_, err = st.GenericUpdate(ctx, table, set, conds)
	case "delete":
		_, err = st.GenericDelete(ctx, table, conds)
	case "insert":
		if len(conds) == 0 {
			return "", badRequest("Nothing to insert (empty AVP list)")
		}
		for _, c := range conds {
			if c.Op != "=" {
				return "", badRequest("Invalid operator in inserted fields (expected = )")
			}
		}
		err = st.GenericInsert(ctx, table, conds)
	}
	if err != nil {
		return "", dbError(err)
	}
	return "", nil
}

// dbError maps a store error: a bad identifier is the request's fault,
// anything else is SER's "DB query failed".
func dbError(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return badRequest("Bad column name or operator")
	}
	return dbFailed
}

// readKeys reads the column list of a select, up to ".".
func readKeys(p rpc.Params) ([]string, error) {
	var keys []string
	for {
		line, ok := p.Line()
		line = strings.TrimSpace(line)
		if !ok || line == "" {
			return nil, badRequest("Bad key list in SELECT DB command (missing '.' at the end?)")
		}
		if line == "." {
			return keys, nil
		}
		if !store.ValidIdent(line) {
			return nil, badRequest("Bad key list in SELECT DB command (bad column name)")
		}
		if len(keys) < maxArray {
			keys = append(keys, line)
		}
	}
}

// readAVPs reads "column op value" lines up to ".".
func readAVPs(p rpc.Params) ([]store.Cond, error) {
	var conds []store.Cond
	for {
		line, ok := p.Line()
		if !ok {
			return nil, badRequest("Command end when reading AVPs - missing . at after AVP list?")
		}
		line = strings.TrimSpace(line)
		if line == "." {
			return conds, nil
		}
		c, err := parseAVP(line)
		if err != nil {
			return nil, err
		}
		if len(conds) < maxArray {
			conds = append(conds, c)
		}
	}
}

var brokenAVP = badRequest("Broken AVP(attr|op|val) in DB command")

// parseAVP parses "key op value" as db_fifo.c's get_avps does: the key is
// [A-Za-z0-9_]+; the operator is =, <, >, <= or >= (spaces optional) or a
// word between spaces.
func parseAVP(line string) (store.Cond, error) {
	i := 0
	for i < len(line) && (isAlnum(line[i]) || line[i] == '_') {
		i++
	}
	if i == 0 || i == len(line) {
		return store.Cond{}, brokenAVP
	}
	key := line[:i]
	sp := false
	for i < len(line) && isSpace(line[i]) {
		i++
		sp = true
	}
	if i == len(line) {
		return store.Cond{}, brokenAVP
	}
	start := i
	switch line[i] {
	case '<', '>':
		if i+1 < len(line) && line[i+1] == '=' {
			i++
		}
		i++
	case '=':
		i++
	default:
		if !sp {
			return store.Cond{}, brokenAVP
		}
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return store.Cond{}, brokenAVP
		}
	}
	op := line[start:i]
	if op == "<" && i < len(line) && line[i] == '>' { // "<>" written without spaces
		op, i = "<>", i+1
	}
	if !store.ValidOp(op) {
		return store.Cond{}, badRequest(fmt.Sprintf("Unsupported operator %q", op))
	}
	val := strings.TrimSpace(line[i:])
	if val == "" {
		return store.Cond{}, brokenAVP
	}
	v, err := parseValue(val)
	if err != nil {
		return store.Cond{}, err
	}
	return store.Cond{Col: key, Op: op, Val: v}, nil
}

// parseValue parses a value with its optional cast (parse_db_value).
func parseValue(s string) (store.Value, error) {
	var v store.Value
	cast := false
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 || end == len(s)-1 {
			return v, badRequest("Bad cast operator format (expected attr=[type]val)")
		}
		switch strings.ToLower(s[1:end]) {
		case "int":
			v.Kind = store.KindInt
		case "double":
			v.Kind = store.KindDouble
		case "string":
			v.Kind = store.KindString
		case "blob":
			v.Kind = store.KindBlob
		case "date":
			v.Kind = store.KindDate
		case "bitmap":
			v.Kind = store.KindBitmap
		default:
			return v, badRequest("Unknown cast type")
		}
		cast = true
		s = s[end+1:]
	}
	switch {
	case len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"':
		if cast && v.Kind != store.KindString && v.Kind != store.KindBlob {
			return v, badRequest("Invalid cast for quoted value")
		}
		v.Str = s[1 : len(s)-1]
	case len(s) > 1 && s[0] == '<' && s[len(s)-1] == '>':
		if cast && v.Kind != store.KindDate {
			return v, badRequest("Invalid cast for quoted value")
		}
		t, err := time.ParseInLocation("2006-1-2 15:4:5", s[1:len(s)-1], time.Local)
		if err != nil {
			return v, badRequest("Bad <date time> format (expected <YYYY-MM-DD hh:mm:ss>)")
		}
		v.Kind, v.Time = store.KindDate, t
	case s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9'):
		isDouble := strings.Contains(s, ".")
		if cast {
			switch v.Kind {
			case store.KindBitmap:
				if isDouble || s[0] == '-' {
					return v, badRequest("Invalid value for BITMAP type")
				}
			case store.KindInt:
				if isDouble {
					return v, badRequest("Invalid cast to INT for a DOUBLE value")
				}
			case store.KindDouble:
			default:
				return v, badRequest("Invalid cast for numerical value")
			}
		} else if isDouble {
			v.Kind = store.KindDouble
		} else {
			v.Kind = store.KindInt
		}
		var err error
		if v.Kind == store.KindDouble {
			v.Double, err = strconv.ParseFloat(s, 64)
		} else {
			v.Int, err = strconv.ParseInt(s, 10, 64)
		}
		if err != nil {
			return v, badRequest("Bad int/float value format (expected [+/-]nr[.nr])")
		}
	case strings.EqualFold(s, "null"):
		if !cast {
			return v, badRequest("NULL values requires type casting")
		}
		v.Null = true
	default:
		return v, badRequest("Unable to recognize value type")
	}
	return v, nil
}

// format prints a result as print_res did.
func format(res *store.Result) string {
	var b strings.Builder
	for _, c := range res.Cols {
		b.WriteString(c + " ")
	}
	b.WriteByte('\n')
	for _, row := range res.Rows {
		for _, v := range row {
			switch x := v.(type) {
			case nil:
				b.WriteString("NULL")
			case int64:
				b.WriteString(strconv.FormatInt(x, 10))
			case float64:
				b.WriteString(strconv.FormatFloat(x, 'f', 6, 64))
			case time.Time:
				b.WriteString(x.Local().Format("Mon Jan _2 15:04:05 2006") + "\n") // ctime(3)
			case string:
				b.WriteString(x)
			default:
				fmt.Fprint(&b, x)
			}
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
