package dbfifo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "ser.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// db runs the DB command with the request's parameter lines.
func db(t *testing.T, st *store.Store, lines ...string) *rpc.Reply {
	t.Helper()
	c := Command(st)
	return c.Handler(context.Background(), &rpc.Request{Name: "DB", Params: rpc.Lines(lines)})
}

func TestInsertSelectUpdateDelete(t *testing.T) {
	st := openStore(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		rep := db(t, st, "insert", "grp", `username="`+u+`"`, `domain = "example.com"`, `grp="local"`, ".")
		if rep.Code != 200 || rep.Text != "" || !rep.Bare {
			t.Fatalf("insert %s: %+v", u, rep)
		}
	}
	rep := db(t, st, "select", "username", "grp", ".", "grp", `domain="example.com"`, `username > "alice"`, ".")
	want := "username grp \nbob local \ncarol local \n"
	if rep.Code != 200 || rep.Text != want {
		t.Fatalf("select: %d %q, want %q", rep.Code, rep.Text, want)
	}
	if got := rep.Lines(); len(got) != 3 || got[0] != "username grp " {
		t.Fatalf("bare reply lines: %q", got)
	}
	rep = db(t, st, "update", `grp="ld"`, ".", "grp", `username="bob"`, ".")
	if rep.Code != 200 || rep.Text != "" {
		t.Fatalf("update: %+v", rep)
	}
	rep = db(t, st, "delete", "grp", "username like \"c%\"", ".")
	if rep.Code != 200 {
		t.Fatalf("delete: %+v", rep)
	}
	rep = db(t, st, "raw_query_response", "SELECT username, grp FROM grp ORDER BY username")
	if want := "username grp \nalice local \nbob ld \n"; rep.Text != want {
		t.Fatalf("after update and delete: %q, want %q", rep.Text, want)
	}
	// A duplicate key is a database error, and nothing changes.
	rep = db(t, st, "insert", "grp", `username="alice"`, `domain="example.com"`, `grp="local"`, ".")
	if rep.Code != 500 || rep.Text != "ERROR: Internal Server error - DB query failed\n" {
		t.Fatalf("duplicate insert: %+v", rep)
	}
	rep = db(t, st, "raw_query", "DELETE FROM grp WHERE username = 'bob'")
	if rep.Code != 200 || rep.Text != "" {
		t.Fatalf("raw_query: %+v", rep)
	}
	// Every column; the date is printed with ctime's newline, as SER did.
	rep = db(t, st, "select", ".", "grp", ".")
	epoch := time.Unix(1, 0).Format("Mon Jan _2 15:04:05 2006")
	if want := "username domain grp last_modified \nalice example.com local " + epoch + "\n \n"; rep.Text != want {
		t.Fatalf("select *: %q, want %q", rep.Text, want)
	}
}

// TestTypes covers dates, numbers, NULL and the output formats.
func TestTypes(t *testing.T) {
	st := openStore(t)
	when := time.Date(2026, 11, 22, 10, 30, 0, 0, time.Local)
	rep := db(t, st, "insert", "grp", `username="dave"`, `grp="x"`, "last_modified=<2026-11-22 10:30:00>", ".")
	if rep.Code != 200 {
		t.Fatalf("insert with date: %+v", rep)
	}
	rep = db(t, st, "select", "last_modified", ".", "grp", "last_modified >= <2026-11-22 10:30:00>", ".")
	want := "last_modified \n" + when.Format("Mon Jan _2 15:04:05 2006") + "\n \n"
	if rep.Text != want {
		t.Fatalf("date round trip: %q, want %q", rep.Text, want)
	}
	rep = db(t, st, "raw_query_response", "SELECT 42 AS n, 2.5 AS d, NULL AS z, 'txt' AS s")
	if want := "n d z s \n42 2.500000 NULL txt \n"; rep.Text != want {
		t.Fatalf("formats: %q, want %q", rep.Text, want)
	}
	rep = db(t, st, "raw_query_response", "SELECT username FROM grp WHERE username = 'nobody'")
	if rep.Text != "username \n" {
		t.Fatalf("empty result: %q", rep.Text)
	}
}

func TestErrors(t *testing.T) {
	st := openStore(t)
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{nil, "DB command name expected"},
		{[]string{"drop"}, "Unknown DB command name"},
		{[]string{"select", "username"}, "Bad key list in SELECT DB command (missing '.' at the end?)"},
		{[]string{"select", "user;name", "."}, "Bad key list in SELECT DB command (bad column name)"},
		{[]string{"select", ".", "grp"}, "Command end when reading AVPs - missing . at after AVP list?"},
		{[]string{"select", "."}, "Table name expected"},
		{[]string{"select", ".", "grp; DROP TABLE grp", "."}, "Bad table name"},
		{[]string{"delete", "grp", "username", "."}, "Broken AVP(attr|op|val) in DB command"},
		{[]string{"delete", "grp", "username=", "."}, "Broken AVP(attr|op|val) in DB command"},
		{[]string{"delete", "grp", "username;1=1", "."}, "Broken AVP(attr|op|val) in DB command"},
		{[]string{"delete", "grp", `username or "a"`, "."}, `Unsupported operator "or"`},
		{[]string{"delete", "grp", "username=bob", "."}, "Unable to recognize value type"},
		{[]string{"delete", "grp", "username=null", "."}, "NULL values requires type casting"},
		{[]string{"delete", "grp", "username=[foo]1", "."}, "Unknown cast type"},
		{[]string{"delete", "grp", "username=[int]1.5", "."}, "Invalid cast to INT for a DOUBLE value"},
		{[]string{"delete", "grp", `username=[int]"1"`, "."}, "Invalid cast for quoted value"},
		{[]string{"delete", "grp", "last_modified=<2026-13-01 00:00:00>", "."}, "Bad <date time> format (expected <YYYY-MM-DD hh:mm:ss>)"},
		{[]string{"delete", "grp", "n=1x", "."}, "Bad int/float value format (expected [+/-]nr[.nr])"},
		{[]string{"insert", "grp", "."}, "Nothing to insert (empty AVP list)"},
		{[]string{"insert", "grp", `username > "a"`, "."}, "Invalid operator in inserted fields (expected = )"},
		{[]string{"update", "."}, "UPDATE command must have at least one field to update"},
		{[]string{"update", `grp < "a"`, "."}, "Invalid operator in updated fields (expected = )"},
		{[]string{"raw_query"}, "Raw db command expected"},
		{[]string{"raw_query", "NOT SQL"}, "Internal Server error - DB query failed"},
		{[]string{"select", ".", "no_such_table", "."}, "Internal Server error - DB query failed"},
	} {
		rep := db(t, st, tc.lines...)
		if rep.Code < 400 || rep.Text != "ERROR: "+tc.want+"\n" {
			t.Errorf("%q: got %d %q, want ERROR: %s", tc.lines, rep.Code, rep.Text, tc.want)
		}
	}
	// The table survived the injection attempts.
	if rep := db(t, st, "select", ".", "grp", "."); rep.Code != 200 {
		t.Fatalf("grp gone: %+v", rep)
	}
}

func TestNullConditions(t *testing.T) {
	st := openStore(t)
	db(t, st, "raw_query", "CREATE TABLE t (a INTEGER, b VARCHAR(10))")
	db(t, st, "insert", "t", "a=1", "b=[string]null", ".")
	db(t, st, "insert", "t", "a=2", `b="x"`, ".")
	if rep := db(t, st, "select", "a", ".", "t", "b=[string]null", "."); rep.Text != "a \n1 \n" {
		t.Fatalf("b = null: %q", rep.Text)
	}
	if rep := db(t, st, "select", "a", ".", "t", "b != [string]null", "."); rep.Text != "a \n2 \n" {
		t.Fatalf("b != null: %q", rep.Text)
	}
	if rep := db(t, st, "select", "b", ".", "t", "a<>1", "."); rep.Text != "b \nx \n" {
		t.Fatalf("a <> 1: %q", rep.Text)
	}
}
