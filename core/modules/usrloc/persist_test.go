package usrloc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/store"
)

// errBoom is the failure flakyBackend injects.
var errBoom = errors.New("injected database failure")

// flakyBackend wraps a Backend and fails every call while fail is set.
type flakyBackend struct {
	Backend
	fail    atomic.Bool
	applies atomic.Int64 // Apply calls
	ops     atomic.Int64 // operations passed to Apply
	loads   atomic.Int64 // Load calls
	reads   atomic.Int64 // Contacts calls
}

func (f *flakyBackend) EnsureTable(ctx context.Context, table string) error {
	if f.fail.Load() {
		return errBoom
	}
	return f.Backend.EnsureTable(ctx, table)
}

func (f *flakyBackend) Load(ctx context.Context, table string, fn func(string, Contact) error) error {
	f.loads.Add(1)
	if f.fail.Load() {
		return errBoom
	}
	return f.Backend.Load(ctx, table, fn)
}

func (f *flakyBackend) Contacts(ctx context.Context, table, aor string) ([]Contact, error) {
	f.reads.Add(1)
	if f.fail.Load() {
		return nil, errBoom
	}
	return f.Backend.Contacts(ctx, table, aor)
}

func (f *flakyBackend) Apply(ctx context.Context, table string, ops []Op) error {
	f.applies.Add(1)
	f.ops.Add(int64(len(ops)))
	if f.fail.Load() {
		return errBoom
	}
	return f.Backend.Apply(ctx, table, ops)
}

func (f *flakyBackend) DeleteExpired(ctx context.Context, table string, now int64) (int64, error) {
	if f.fail.Load() {
		return 0, errBoom
	}
	return f.Backend.DeleteExpired(ctx, table, now)
}

func (f *flakyBackend) Count(ctx context.Context, table string) (int64, int64, error) {
	if f.fail.Load() {
		return 0, 0, errBoom
	}
	return f.Backend.Count(ctx, table)
}

// quietLog discards the store's log lines.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens (creating) the SQLite database at path; it is closed
// when the test ends.
func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+path, store.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// dbModule is a usrloc instance on a database: what one ser process is.
type dbModule struct {
	m     *Module
	reg   *rpc.Registry
	clk   *fakeClock
	st    *store.Store
	flaky *flakyBackend
}

// startDB loads usrloc with db_mode mode on the SQLite file path (a new
// store, as a new process would open), registers tables, starts it (load
// from the database) and stops it when the test ends. params are more
// modparam name/value pairs.
func startDB(t testing.TB, path string, mode int, tables []string, params ...string) *dbModule {
	t.Helper()
	st := openStore(t, path)
	m := New()
	all := append([]string{"db_mode", strconv.Itoa(mode), "db_url", "sqlite://" + path}, params...)
	for i := 0; i+1 < len(all); i += 2 {
		p, ok := Exports.FindParam(all[i])
		if !ok {
			t.Fatalf("unknown modparam %q", all[i])
		}
		v := module.Value{S: all[i+1]}
		if n, err := strconv.Atoi(all[i+1]); err == nil && p.Kind == module.Int {
			v = module.Value{N: n, IsInt: true}
		}
		if err := p.Set(m, v); err != nil {
			t.Fatal(err)
		}
	}
	flaky := &flakyBackend{Backend: NewStoreBackend(st, m.cfg.UseDomain)}
	m.SetBackend(flaky)
	clk := &fakeClock{now: t0}
	m.SetClock(clk.Now)
	m.tick = time.Hour // the tests run the timer themselves
	reg := rpc.NewRegistry()
	env := &module.Env{RPC: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := Exports.Initialize(m, env); err != nil {
		t.Fatalf("init: %v", err)
	}
	for _, tb := range tables {
		m.Register(tb)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(m.Stop)
	return &dbModule{m: m, reg: reg, clk: clk, st: st, flaky: flaky}
}

// cmd runs a FIFO command and returns its reply text.
func (dm *dbModule) cmd(name string, params ...string) string {
	return dm.reg.Execute(context.Background(), name, rpc.Lines(params), rpc.FIFO).Text
}

// rows returns the stored contacts of user@domain as "contact q expires" lines.
func rows(t testing.TB, st *store.Store, table, user, domain string) []string {
	t.Helper()
	cs, err := st.Contacts(context.Background(), table, user, domain)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		exp := "forever"
		if !c.Expires.Equal(store.Forever) {
			exp = strconv.FormatInt(c.Expires.Unix()-t0.Unix(), 10)
		}
		out = append(out, fmt.Sprintf("%s %g %s", c.Contact, c.Q, exp))
	}
	return out
}

// sample is a set of contacts exercising every stored field.
func sample() []struct {
	aor string
	c   Contact
} {
	return []struct {
		aor string
		c   Contact
	}{
		{"john", Contact{URI: "sip:john@10.0.0.1:5060", Expires: t0.Unix() + 3600, Q: 500, CallID: "c1@h", CSeq: 7, UserAgent: "phone/1"}},
		{"john", Contact{URI: "sip:john@10.0.0.2", Expires: t0.Unix() + 60, Q: QUnset, CallID: "c2@h", CSeq: 1, UserAgent: "phone/2",
			Received: "sip:203.0.113.5:40312", Flags: FlagNAT}},
		{"john", Contact{URI: "sip:john@10.0.0.3", Expires: t0.Unix() + 120, Q: 500, CallID: "c3@h", CSeq: 2, Replicate: 1,
			Path: "<sip:lb.example.com;lr;received=sip:198.51.100.7:40123>,<sip:edge.example.com;lr>"}},
		{"mary", Contact{URI: "sip:mary@10.0.0.9;transport=tcp", Expires: t0.Unix() + 1800, Q: QMax, CallID: "m@h", CSeq: 99}},
	}
}

// shown is ul_show_contact's reply for aor in table.
func (dm *dbModule) shown(table, aor string) string {
	return dm.cmd("ul_show_contact", table, aor)
}

// TestRestartKeepsContacts saves contacts in each db_mode, stops the
// module and starts a new one on the same file: lookups give the same
// contacts, in the same order, with the same fields.
func TestRestartKeepsContacts(t *testing.T) {
	for _, mode := range []int{1, 2, 3} {
		t.Run("db_mode="+strconv.Itoa(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ser.db")
			a := startDB(t, path, mode, []string{"location", "aliases"})
			loc, _ := a.m.Domain("location")
			for i, s := range sample() {
				if err := loc.Put(s.aor, s.c); err != nil {
					t.Fatal(err)
				}
				a.clk.Advance(time.Duration(i+1) * time.Second) // distinct last_modified
			}
			// A permanent contact (serctl ul add) and an alias (serctl alias add).
			if r := a.cmd("ul_add", "location", "gw", "sip:666@gateway.foo.bar", "0", "1.00", "0", "128"); !strings.HasPrefix(r, "200 ") {
				t.Fatal(r)
			}
			if r := a.cmd("ul_add", "aliases", "1234", "sip:john.doe@foo.bar", "0", "1.00", "0", "128"); !strings.HasPrefix(r, "200 ") {
				t.Fatal(r)
			}
			before, _ := loc.Get("john")
			beforeShown := a.shown("location", "john") + a.shown("location", "gw") + a.shown("aliases", "1234")
			a.m.Stop()

			b := startDB(t, path, mode, []string{"location", "aliases"})
			b.clk.now = a.clk.now
			loc2, _ := b.m.Domain("location")
			after, found := loc2.Get("john")
			if !found || len(after) != len(before) {
				t.Fatalf("after restart: %v (found %v), want %v", after, found, before)
			}
			for i := range before {
				x, y := before[i], after[i]
				x.id, y.id, x.seq, y.seq, x.State, y.State = 0, 0, 0, 0, 0, 0
				if x != y {
					t.Errorf("contact %d:\n got %+v\nwant %+v", i, y, x)
				}
			}
			if got := b.shown("location", "john") + b.shown("location", "gw") + b.shown("aliases", "1234"); got != beforeShown {
				t.Errorf("ul_show_contact after restart:\n%s\nwant:\n%s", got, beforeShown)
			}
			// The permanent contact survives the timer, long after.
			b.clk.Advance(365 * 24 * time.Hour)
			if err := b.m.Sync(); err != nil {
				t.Fatal(err)
			}
			if r := b.shown("location", "gw"); !strings.Contains(r, "<sip:666@gateway.foo.bar>;q=1;expires=-") {
				t.Errorf("permanent contact lost by the timer: %q", r)
			}
			if cs, _ := loc2.Get("john"); len(cs) != 0 {
				t.Errorf("john's contacts did not expire: %v", cs)
			}
			if got := rows(t, b.st, "location", "john", ""); len(got) != 0 {
				t.Errorf("expired rows left in the database: %v", got)
			}
			if got := rows(t, b.st, "location", "gw", ""); strings.Join(got, ",") != "sip:666@gateway.foo.bar 1 forever" {
				t.Errorf("permanent row: %v", got)
			}
		})
	}
}

// TestWriteThrough checks that db_mode 1 writes each change before the
// call returns: save, refresh, delete, ul_rm, expiry.
func TestWriteThrough(t *testing.T) {
	a := startDB(t, filepath.Join(t.TempDir(), "ser.db"), 1, []string{"location"})
	loc, _ := a.m.Domain("location")
	check := func(step string, want ...string) {
		t.Helper()
		if got := rows(t, a.st, "location", "john", ""); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: rows %q, want %q", step, got, want)
		}
	}
	_ = loc.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 60, Q: 1000})
	check("insert", "sip:a 1 60")
	_ = loc.Put("john", Contact{URI: "sip:b", Expires: t0.Unix() + 30, Q: 100})
	_ = loc.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 90, Q: 1000})
	check("refresh", "sip:a 1 90", "sip:b 0.1 30")
	if cs, _ := loc.Get("john"); cs[0].State != StateSync {
		t.Fatalf("state %v, want CS_SYNC", cs[0].State)
	}
	n := a.flaky.applies.Load()
	_ = loc.Update("john", func(r *Record) error { return nil })
	_ = loc.Update("john", func(r *Record) error { x, _ := r.Find("sip:b"); r.Put(x); return nil }) // same second, same values
	if a.flaky.applies.Load() != n {
		t.Fatalf("unchanged records were written (%d writes)", a.flaky.applies.Load()-n)
	}
	a.clk.Advance(40 * time.Second)
	a.m.ExpireNow()
	check("expiry", "sip:a 1 90")
	_ = loc.DeleteContact("john", "sip:a")
	check("delete")
	_ = loc.Put("john", Contact{URI: "sip:c", Expires: a.clk.now.Unix() + 60})
	_ = loc.Put("john", Contact{URI: "sip:d", Expires: a.clk.now.Unix() + 60})
	if r := a.cmd("ul_rm", "location", "john"); r != "200 user (location, john) deleted\n" {
		t.Fatal(r)
	}
	check("ul_rm")
	if r := a.cmd("ul_rm_contact", "location", "john", "sip:x"); !strings.HasPrefix(r, "404") {
		t.Fatal(r)
	}
}

// TestWriteThroughFailure checks db_mode 1's answer to a database error:
// the change is kept in memory, logged, counted and written by the timer
// once the database is back.
func TestWriteThroughFailure(t *testing.T) {
	a := startDB(t, filepath.Join(t.TempDir(), "ser.db"), 1, []string{"location"})
	loc, _ := a.m.Domain("location")
	_ = loc.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 60})
	a.flaky.fail.Store(true)
	if err := loc.Put("john", Contact{URI: "sip:b", Expires: t0.Unix() + 60}); err != nil {
		t.Fatalf("Put failed with the database down: %v (memory must keep the change)", err)
	}
	if err := loc.DeleteContact("john", "sip:a"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := loc.Get("john"); uris(cs) != "sip:b" || cs[0].State != StateDirty {
		t.Fatalf("memory after failed writes: %v", cs)
	}
	if a.m.WriteFailures() != 2 {
		t.Fatalf("WriteFailures = %d, want 2", a.m.WriteFailures())
	}
	if err := a.m.Sync(); err == nil {
		t.Fatal("Sync succeeded with the database down")
	}
	if got := rows(t, a.st, "location", "john", ""); strings.Join(got, "|") != "sip:a 0 60" {
		t.Fatalf("rows while down: %v", got)
	}
	a.flaky.fail.Store(false)
	if r := a.cmd("ul_flush"); r != "200 ul_flush completed" {
		t.Fatal(r)
	}
	if got := rows(t, a.st, "location", "john", ""); strings.Join(got, "|") != "sip:b 0 60" {
		t.Fatalf("rows after the retry: %v", got)
	}
	if cs, _ := loc.Get("john"); cs[0].State != StateSync {
		t.Fatalf("state after the retry: %v", cs[0].State)
	}
	n := a.flaky.applies.Load()
	_ = a.m.Sync()
	if a.flaky.applies.Load() != n {
		t.Fatal("a second flush wrote again")
	}
}

// TestWriteBack checks db_mode 2: changes are only marked, then written
// by Flush (timer, ul_flush, Stop) in batches; states follow SER's.
func TestWriteBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ser.db")
	a := startDB(t, path, 2, []string{"location"})
	loc, _ := a.m.Domain("location")
	_ = loc.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 60})
	_ = loc.Put("john", Contact{URI: "sip:b", Expires: t0.Unix() + 60})
	if got := rows(t, a.st, "location", "john", ""); len(got) != 0 || a.flaky.applies.Load() != 0 {
		t.Fatalf("db_mode 2 wrote at once: %v", got)
	}
	state := func(uri string) State {
		cs, _ := loc.Get("john")
		return cs[findContact(cs, uri)].State
	}
	if state("sip:a") != StateNew {
		t.Fatalf("new contact state %v", state("sip:a"))
	}
	if r := a.cmd("ul_flush"); r != "200 ul_flush completed" {
		t.Fatal(r)
	}
	if got := rows(t, a.st, "location", "john", ""); len(got) != 2 || a.flaky.applies.Load() != 1 {
		t.Fatalf("after ul_flush: %v in %d writes", got, a.flaky.applies.Load())
	}
	if state("sip:a") != StateSync {
		t.Fatalf("flushed contact state %v", state("sip:a"))
	}
	a.clk.Advance(time.Second)
	_ = loc.Put("john", Contact{URI: "sip:a", Expires: a.clk.now.Unix() + 600})
	if state("sip:a") != StateDirty {
		t.Fatalf("changed contact state %v", state("sip:a"))
	}
	_ = loc.DeleteContact("john", "sip:b")
	// A change made while the database is down stays queued.
	a.flaky.fail.Store(true)
	if err := a.m.Flush(); err == nil {
		t.Fatal("Flush succeeded with the database down")
	}
	a.flaky.fail.Store(false)
	if got := rows(t, a.st, "location", "john", ""); len(got) != 2 {
		t.Fatalf("rows changed by a failed flush: %v", got)
	}
	// Many changes: several transactions of flushBatch.
	for i := 0; i < flushBatch+500; i++ {
		_ = loc.Put("u"+strconv.Itoa(i), Contact{URI: "sip:u@h", Expires: a.clk.now.Unix() + 60})
	}
	a.m.Stop() // flushes
	if got := rows(t, a.st, "location", "john", ""); strings.Join(got, "|") != "sip:a 0 601" {
		t.Fatalf("rows after Stop: %v", got)
	}
	c, aors, err := a.st.CountContacts(context.Background(), "location")
	if err != nil || c != flushBatch+501 || aors != flushBatch+501 {
		t.Fatalf("stored %d contacts of %d AORs (%v), want %d", c, aors, err, flushBatch+501)
	}
	if n := a.flaky.applies.Load(); n != 4 { // ul_flush, failed flush, two batches at Stop
		t.Fatalf("%d writes, want 4", n)
	}
	// A new instance sees everything.
	b := startDB(t, path, 2, []string{"location"})
	if st := b.m.Register("location").Stats(); st.Contacts != flushBatch+501 {
		t.Fatalf("loaded %d contacts", st.Contacts)
	}
}

// TestDBOnly checks db_mode 3: two instances (a registrar and a proxy,
// Inode's split) on one database see each other's changes at once, and a
// database error fails the call.
func TestDBOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ser.db")
	reg := startDB(t, path, 3, []string{"location"})
	proxy := startDB(t, path, 3, []string{"location"})
	rl, _ := reg.m.Domain("location")
	pl, _ := proxy.m.Domain("location")
	if err := rl.Put("john", Contact{URI: "sip:john@10.0.0.1", Expires: t0.Unix() + 60, Q: 500}); err != nil {
		t.Fatal(err)
	}
	reg.clk.Advance(time.Second)
	if err := rl.Put("john", Contact{URI: "sip:john@10.0.0.2", Expires: t0.Unix() + 60, Q: 500}); err != nil {
		t.Fatal(err)
	}
	cs, found, err := pl.Lookup("john")
	if err != nil || !found || uris(cs) != "sip:john@10.0.0.2 sip:john@10.0.0.1" {
		t.Fatalf("proxy lookup: %v %v %v", uris(cs), found, err)
	}
	if r := proxy.cmd("ul_stats"); r != "200 ok\nDomain Registered Expired\n'location' 1 0\n" {
		t.Fatalf("ul_stats: %q", r)
	}
	if r := proxy.cmd("ul_dump"); !strings.Contains(r, "aor       : 'john'\nContact   : 'sip:john@10.0.0.2'") || !strings.Contains(r, "State     : CS_SYNC") {
		t.Fatalf("ul_dump:\n%s", r)
	}
	// Nothing is cached: a change by the proxy's FIFO shows at the registrar.
	if r := proxy.cmd("ul_rm_contact", "location", "john", "sip:john@10.0.0.2"); !strings.HasPrefix(r, "200") {
		t.Fatal(r)
	}
	if cs, _ := rl.Get("john"); uris(cs) != "sip:john@10.0.0.1" {
		t.Fatalf("registrar sees %q", uris(cs))
	}
	// Expiry deletes in the database.
	proxy.clk.Advance(2 * time.Minute)
	if n := proxy.m.ExpireNow(); n != 1 {
		t.Fatalf("ExpireNow = %d", n)
	}
	if r := proxy.cmd("ul_stats"); r != "200 ok\nDomain Registered Expired\n'location' 0 1\n" {
		t.Fatalf("ul_stats after expiry: %q", r)
	}
	// Database errors fail the calls.
	reg.flaky.fail.Store(true)
	if err := rl.Put("mary", Contact{URI: "sip:m", Expires: t0.Unix() + 60}); !errors.Is(err, errBoom) {
		t.Fatalf("Put with the database down: %v", err)
	}
	if _, _, err := rl.Lookup("mary"); !errors.Is(err, errBoom) {
		t.Fatalf("Lookup with the database down: %v", err)
	}
	if _, err := rl.RemoveAOR("mary"); !errors.Is(err, errBoom) {
		t.Fatalf("RemoveAOR with the database down: %v", err)
	}
	for _, tc := range []struct {
		cmd    string
		params []string
		want   string
	}{
		{"ul_show_contact", []string{"location", "john"}, "500 ul_show_contact: database error\n"},
		{"ul_stats", nil, "500 ul_stats: database error\n"},
		{"ul_dump", nil, "500 ul_dump: database error\n"},
		{"ul_rm", []string{"location", "john"}, "500 Error while deleting user john\n"},
		{"ul_add", []string{"location", "john", "sip:x", "60", "1", "0"}, "500 Error while adding contact\n ('john','sip:x') in table 'location'\n"},
	} {
		if r := reg.cmd(tc.cmd, tc.params...); r != tc.want {
			t.Errorf("%s with the database down: %q, want %q", tc.cmd, r, tc.want)
		}
	}
	if n := reg.flaky.loads.Load(); n != 1 { // ul_dump only: db_mode 3 never preloads
		t.Fatalf("%d loads", n)
	}
}

// TestUseDomainColumns checks the AOR split with use_domain.
func TestUseDomainColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ser.db")
	a := startDB(t, path, 1, []string{"location"}, "use_domain", "1")
	if r := a.cmd("ul_add", "location", "John@Example.COM", "sip:j@h", "60", "0.5", "0"); !strings.HasPrefix(r, "200") {
		t.Fatal(r)
	}
	if got := rows(t, a.st, "location", "john", "example.com"); strings.Join(got, "") != "sip:j@h 0.5 60" {
		t.Fatalf("row of john/example.com: %v", got)
	}
	a.m.Stop()
	b := startDB(t, path, 1, []string{"location"}, "use_domain", "1")
	if r := b.shown("location", "john@example.com"); r != "200 OK\n<sip:j@h>;q=0.5;expires=60\n" {
		t.Fatalf("after restart: %q", r)
	}
}

// TestDBModeTranscripts replays the FIFO transcripts in db_mode 1, 2 and
// 3: every reply but ul_dump's (pointers and states differ) is the same
// as in memory.
func TestDBModeTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, mode := range []int{1, 2, 3} {
		for _, file := range files {
			t.Run(fmt.Sprintf("db_mode=%d/%s", mode, filepath.Base(file)), func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				steps, params := parseTranscript(t, string(raw))
				dm := startDB(t, filepath.Join(t.TempDir(), "ser.db"), mode, nil, params...)
				for _, s := range steps {
					if s.directive != nil {
						switch s.directive[0] {
						case "register":
							dm.m.Register(s.directive[1])
						case "advance":
							n, _ := strconv.Atoi(s.directive[1])
							dm.clk.Advance(time.Duration(n) * time.Second)
						}
						continue
					}
					if s.cmd == "ul_dump" {
						continue
					}
					p := rpc.Lines(s.params)
					if s.flavor == rpc.UnixSock {
						p = rpc.DotLines(s.params)
					}
					rep := dm.reg.Execute(context.Background(), s.cmd, p, s.flavor)
					if rep.Text != s.reply {
						t.Errorf("%s:%d: %s\n got: %q\nwant: %q", file, s.lineNo, s.cmd, rep.Text, s.reply)
					}
				}
				if err := dm.m.Flush(); err != nil || dm.m.WriteFailures() != 0 {
					t.Errorf("database writes failed: flush %v, %d write-through failures", err, dm.m.WriteFailures())
				}
			})
		}
	}
}

// TestConcurrentWriteThrough saves from many goroutines in db_mode 1 and
// 3: memory and the database agree afterwards.
func TestConcurrentWriteThrough(t *testing.T) {
	for _, mode := range []int{1, 3} {
		t.Run("db_mode="+strconv.Itoa(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ser.db")
			a := startDB(t, path, mode, []string{"location"})
			loc, _ := a.m.Domain("location")
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						aor := "u" + strconv.Itoa(i%10)
						uri := fmt.Sprintf("sip:%d@h", (g+i)%3)
						if i%7 == 6 {
							_ = loc.DeleteContact(aor, uri)
							continue
						}
						_ = loc.Put(aor, Contact{URI: uri, Expires: t0.Unix() + int64(g*100+i), CSeq: int32(i)})
					}
				}()
			}
			wg.Wait()
			a.m.Stop()
			b := startDB(t, path, 1, []string{"location"})
			lb, _ := b.m.Domain("location")
			for i := 0; i < 10; i++ {
				aor := "u" + strconv.Itoa(i)
				want, _ := loc.Get(aor)
				got, _ := lb.Get(aor)
				if len(want) != len(got) {
					t.Fatalf("%s: memory %v, database %v", aor, want, got)
				}
				for _, w := range want {
					j := findContact(got, w.URI)
					if j < 0 || got[j].Expires != w.Expires || got[j].CSeq != w.CSeq {
						t.Fatalf("%s: memory %+v, database %+v", aor, want, got)
					}
				}
			}
		})
	}
}

// TestFarExpires stores a contact expiring after year 9999 (the largest
// DATETIME): it is kept as store.Forever and stays valid.
func TestFarExpires(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ser.db")
	a := startDB(t, path, 1, []string{"location"})
	loc, _ := a.m.Domain("location")
	_ = loc.Put("far", Contact{URI: "sip:far@h", Expires: 1 << 40})
	if a.m.WriteFailures() != 0 {
		t.Fatal("write failed")
	}
	a.m.Stop()
	b := startDB(t, path, 3, []string{"location"})
	cs, _, err := b.m.Register("location").Lookup("far")
	if err != nil || len(cs) != 1 || cs[0].Expires != store.Forever.Unix() {
		t.Fatalf("far contact after restart: %+v %v", cs, err)
	}
}

// TestTimerOff: timer_interval 0 runs no timer (db_mode 0 and 3) and is
// refused in db_mode 2, which writes on its timer.
func TestTimerOff(t *testing.T) {
	m := New()
	m.cfg.TimerInterval = 0
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	m2 := New()
	m2.cfg.TimerInterval, m2.cfg.DBMode = 0, 2
	if err := initModule(m2, &module.Env{}); err == nil || !strings.Contains(err.Error(), "timer_interval must be positive") {
		t.Fatalf("db_mode 2 without a timer: %v", err)
	}
}
