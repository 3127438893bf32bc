package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow is the clock of the test databases.
var testNow = time.Date(2005, 2, 10, 11, 9, 21, 0, time.UTC)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeFIFO is a FIFO server stand-in: it records the requests and answers
// from a table of replies, looked up by "cmd param1" first, then "cmd".
// A command without a reply gets SER's "not available".
type fakeFIFO struct {
	replies map[string]string
	err     error // every request fails with it (no server)
	log     strings.Builder
}

func (f *fakeFIFO) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	fmt.Fprintf(&f.log, ":%s:\n", cmd)
	for _, p := range params {
		fmt.Fprintf(&f.log, "%s\n", p)
	}
	if f.err != nil {
		return nil, f.err
	}
	keys := []string{cmd}
	if len(params) > 0 {
		keys = []string{cmd + " " + params[0], cmd}
	}
	for _, k := range keys {
		if r, ok := f.replies[k]; ok {
			return rpc.Raw(r), nil
		}
	}
	return rpc.NotFound(cmd, rpc.FIFO), nil
}

// testEnv is a serctl run's surroundings: a temporary database, a fake
// FIFO and an environment.
type testEnv struct {
	t     *testing.T
	dir   string
	db    string // database URL
	fifo  *fakeFIFO
	env   map[string]string
	stdin string
}

func newTestEnv(t *testing.T) *testEnv {
	dir := t.TempDir()
	return &testEnv{
		t:    t,
		dir:  dir,
		db:   "sqlite://" + filepath.Join(dir, "ser.db"),
		fifo: &fakeFIFO{replies: map[string]string{}},
		env:  map[string]string{"SIP_DOMAIN": "foo.bar", "PATH": dir},
	}
}

// open opens the test database (set-up and checks; serctl opens its own).
func (e *testEnv) open() *store.Store {
	e.t.Helper()
	st, err := store.Open(context.Background(), e.db, store.WithClock(func() time.Time { return testNow }),
		store.WithLogger(quietLog))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	return st
}

// result is one serctl run.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	fifo           string
}

// run runs serctl with args in process.
func (e *testEnv) run(args ...string) result {
	var out, errb bytes.Buffer
	a := &app{
		argv0:  "serctl",
		stdin:  strings.NewReader(e.stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return e.env[k] },
		exec:   e.fifo,
		openStore: func(ctx context.Context, url string, opts ...store.Option) (*store.Store, error) {
			return store.Open(ctx, url, append(opts, store.WithClock(func() time.Time { return testNow }), store.WithLogger(quietLog))...)
		},
		sleep:    func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		now:      func() time.Time { return testNow },
		hostname: func() (string, error) { return "host.test", nil },
	}
	if _, ok := e.env["SER_DB_URL"]; !ok {
		e.env["SER_DB_URL"] = e.db
	}
	e.fifo.log.Reset()
	code := a.run(context.Background(), args)
	return result{args: args, stdout: out.String(), stderr: errb.String(), code: code, fifo: e.fifo.log.String()}
}

// transcript renders a result for a golden file; the temporary directory
// is replaced by $TMP.
func (r result) transcript(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ serctl %s\n", strings.Join(quoteArgs(r.args), " "))
	if r.fifo != "" {
		b.WriteString("--- fifo\n" + r.fifo)
	}
	if r.stdout != "" {
		b.WriteString("--- stdout\n" + r.stdout)
		if !strings.HasSuffix(r.stdout, "\n") {
			b.WriteString("<NOEOL>\n")
		}
	}
	if r.stderr != "" {
		b.WriteString("--- stderr\n" + r.stderr)
		if !strings.HasSuffix(r.stderr, "\n") {
			b.WriteString("<NOEOL>\n")
		}
	}
	fmt.Fprintf(&b, "--- exit %d\n", r.code)
	return strings.ReplaceAll(b.String(), dir, "$TMP")
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// golden compares text with testdata/<name>.golden (rewritten with
// -update).
func golden(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./serctl -update to create it)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs from the golden file\n--- got\n%s\n--- want\n%s", path, text, want)
	}
}
