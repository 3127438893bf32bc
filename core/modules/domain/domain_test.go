package domain

import (
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// fixture loads domain over a store whose domain table has a.example,
// b.example, d10.example and d54.example (the last two share SER's hash
// bucket 127).
type fixture struct {
	t   *testing.T
	m   *Module
	env *module.Env
	st  *store.Store
}

func newFixture(t *testing.T, params map[string]any) *fixture {
	t.Helper()
	return newFixtureURL(t, "sqlite://"+filepath.Join(t.TempDir(), "ser.db"), params)
}

func newFixtureURL(t *testing.T, url string, params map[string]any) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, d := range []string{"a.example", "b.example", "d10.example", "d54.example"} {
		if err := st.AddDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	env := modtest.Env(t, modtest.NewCore(), nil)
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, m: inst.(*Module), env: env, st: st}
}

func (f *fixture) exec(cmd string) string {
	return f.env.RPC.Execute(context.Background(), cmd, rpc.Lines(nil), rpc.FIFO).Text
}

// call binds fn and runs it on a request from from to uri.
func (f *fixture) call(fn, from, uri string) int {
	f.t.Helper()
	h := modtest.Bind(f.t, Exports, f.m, f.env, fn)
	m := modtest.Request{URI: uri, From: "<" + from + ">;tag=1"}.Msg(f.t)
	r, err := h(m)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func TestHash(t *testing.T) {
	// SER's values (h = h*31 + c mod 2^32, mod 128).
	for name, want := range map[string]int{"a.example": 93, "b.example": 94, "iptel.org": 10, "d10.example": 127, "d54.example": 127, "IPTEL.ORG": 10} {
		if got := hash(name); got != want {
			t.Errorf("hash(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, c := range []struct {
		mode int
		url  string
	}{{0, ""}, {1, ""}, {0, "dbtext"}, {1, "dbtext"}} {
		mode := c.mode
		url := "sqlite://" + filepath.Join(t.TempDir(), "ser.db")
		if c.url == "dbtext" {
			// SER's text-file database: the domain file is written by
			// AddDomain and read by both modes.
			url = "dbtext://" + t.TempDir()
		}
		f := newFixtureURL(t, url, map[string]any{"db_mode": mode})
		for _, c := range []struct {
			fn, from, uri string
			want          int
		}{
			{"is_from_local", "sip:alice@a.example", "sip:bob@elsewhere.org", 1},
			{"is_from_local", "sip:alice@A.Example", "sip:bob@elsewhere.org", 1},
			{"is_from_local", "sip:alice@elsewhere.org", "sip:bob@a.example", -1},
			{"is_uri_host_local", "sip:alice@elsewhere.org", "sip:bob@b.example", 1},
			{"is_uri_host_local", "sip:alice@a.example", "sip:bob@c.example", -1},
			{"is_uri_host_local", "sip:alice@a.example", "sip:bob@d54.example:5060", 1},
		} {
			if got := f.call(c.fn, c.from, c.uri); got != c.want {
				t.Errorf("%s db_mode %d: %s (From %s, R-URI %s) = %d, want %d", url, mode, c.fn, c.from, c.uri, got, c.want)
			}
		}
	}
}

// TestCacheAndFIFO: with db_mode 1 a domain added to the table is local
// only after domain_reload; domain_dump prints SER's "%4d %s" lines by
// bucket, the domain loaded last first within a bucket.
func TestCacheAndFIFO(t *testing.T) {
	f := newFixture(t, map[string]any{"db_mode": 1})
	want := "200 OK\n  93 a.example\n  94 b.example\n 127 d54.example\n 127 d10.example\n"
	if got := f.exec("domain_dump"); got != want {
		t.Errorf("domain_dump = %q, want %q", got, want)
	}
	// In process, the reply carries the entries as a value; its text
	// parses back to the same.
	rep := f.env.RPC.Execute(context.Background(), "domain_dump", rpc.Lines(nil), rpc.FIFO)
	if v, ok := rep.Value.(sercmd.Domains); !ok || len(v) != 4 || v[3] != (sercmd.DomainEntry{Index: 127, Name: "d10.example"}) {
		t.Errorf("domain_dump value = %#v", rep.Value)
	} else if parsed := sercmd.AsDomains(&rpc.Reply{Code: rep.Code, Text: rep.Text}); !reflect.DeepEqual(parsed, v) {
		t.Errorf("domain_dump text parses to %#v, value %#v", parsed, v)
	}
	if err := f.st.AddDomain(context.Background(), "iptel.org"); err != nil {
		t.Fatal(err)
	}
	if got := f.call("is_uri_host_local", "sip:a@x.org", "sip:bob@iptel.org"); got != -1 {
		t.Errorf("iptel.org local before domain_reload: %d", got)
	}
	if got := f.exec("domain_reload"); got != "200 OK\n" {
		t.Errorf("domain_reload = %q", got)
	}
	if got := f.call("is_uri_host_local", "sip:a@x.org", "sip:bob@iptel.org"); got != 1 {
		t.Errorf("iptel.org not local after domain_reload: %d", got)
	}
	if got := f.exec("domain_dump"); got != "200 OK\n  10 iptel.org\n"+want[len("200 OK\n"):] {
		t.Errorf("domain_dump after reload = %q", got)
	}
	// A failed reload keeps the cache and says so.
	f.st.Close()
	if got := f.exec("domain_reload"); got != "400 Domain table reload failed\n" {
		t.Errorf("domain_reload on a closed database = %q", got)
	}
	if got := f.call("is_uri_host_local", "sip:a@x.org", "sip:bob@a.example"); got != 1 {
		t.Errorf("cache lost after a failed reload: %d", got)
	}
}

// TestNoCacheFIFO: with db_mode 0 the commands read the table.
func TestNoCacheFIFO(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.st.DeleteDomain(context.Background(), "b.example"); err != nil {
		t.Fatal(err)
	}
	if got := f.exec("domain_dump"); got != "200 OK\n  93 a.example\n 127 d54.example\n 127 d10.example\n" {
		t.Errorf("domain_dump = %q", got)
	}
	if got := f.exec("domain_reload"); got != "200 OK\n" {
		t.Errorf("domain_reload = %q", got)
	}
	if got := f.call("is_uri_host_local", "sip:a@x.org", "sip:bob@b.example"); got != -1 {
		t.Errorf("deleted domain still local: %d", got)
	}
	f.st.Close()
	if got := f.call("is_uri_host_local", "sip:a@x.org", "sip:bob@a.example"); got != -1 {
		t.Errorf("closed database: %d", got)
	}
}

func TestParams(t *testing.T) {
	env := modtest.Env(t, modtest.NewCore(), nil)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ser.db"), store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	env.DB = func(string) (*store.Store, error) { return st, nil }
	for _, c := range []struct {
		params map[string]any
		ok     bool
	}{
		{map[string]any{"db_mode": 2}, false},
		{map[string]any{"domain_col": "nope"}, false},
		{map[string]any{"domain_table": "no_such_table"}, false},
		{map[string]any{"domain_column": "bad name"}, false},
		{map[string]any{"domain_col": "domain", "domain_column": "domain", "db_mode": 1}, true},
	} {
		env.RPC = rpc.NewRegistry()
		_, err := modtest.LoadEnv(Exports, env, c.params)
		if (err == nil) != c.ok {
			t.Errorf("%v: err = %v", c.params, err)
		}
	}
	// Another table and column.
	if err := st.RawExec(ctx, "CREATE TABLE served (name VARCHAR(128))"); err != nil {
		t.Fatal(err)
	}
	if err := st.RawExec(ctx, "INSERT INTO served VALUES ('x.example')"); err != nil {
		t.Fatal(err)
	}
	env.RPC = rpc.NewRegistry()
	inst, err := modtest.LoadEnv(Exports, env, map[string]any{"domain_table": "served", "domain_col": "name", "db_mode": 1})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := inst.(*Module).IsLocal(ctx, "X.example"); !ok {
		t.Error("x.example not local in table served")
	}
}
