package registrar

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// dbFixture is a registrar over a usrloc with a database (db_mode 1–3)
// on the SQLite file path: one ser process. The store is closed when the
// test ends, or earlier by closeDB to make the database fail.
type dbFixture struct {
	*fixture
	st *store.Store
}

func newDBFixture(t *testing.T, path string, mode int) *dbFixture {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+path, store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	core := modtest.NewCore()
	clk := &fakeClock{now: t0}
	ulEnv := modtest.DiscardEnv(core)
	ulEnv.DB = func(string) (*store.Store, error) { return st, nil }
	ulInst, err := modtest.LoadEnv(usrloc.Exports, ulEnv, map[string]any{"db_mode": mode})
	if err != nil {
		t.Fatal(err)
	}
	ul := ulInst.(*usrloc.Module)
	ul.SetClock(clk.Now)
	env := modtest.DiscardEnv(core)
	env.Instance = func(name string) any {
		if name == "usrloc" {
			return ul
		}
		return nil
	}
	inst, err := modtest.LoadEnv(Exports, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, reg: inst.(*Module), ul: ul, core: core, clk: clk, env: env}
	return &dbFixture{fixture: f, st: st}
}

// start binds the script functions (which registers their tables) and
// starts usrloc, which loads the tables from the database.
func (f *dbFixture) start(fnames ...string) map[string]module.Handler {
	f.t.Helper()
	hs := make(map[string]module.Handler)
	for _, fn := range fnames {
		name, table, _ := strings.Cut(fn, ":")
		hs[fn] = f.bind(name, table)
	}
	if err := f.ul.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.ul.Stop)
	return hs
}

// TestSaveRestartLookup registers in each db_mode, restarts, and routes a
// request to the registered contacts.
func TestSaveRestartLookup(t *testing.T) {
	for _, mode := range []int{1, 2, 3} {
		t.Run("db_mode="+strconv.Itoa(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ser.db")
			a := newDBFixture(t, path, mode)
			hs := a.start("save:location")
			ret, err := hs["save:location"](register{contacts: []string{
				"<sip:john@10.0.0.1>;q=0.5", "<sip:john@10.0.0.2>;q=1", "<sip:john@10.0.0.3>",
			}}.msg(t))
			if ret != 1 || err != nil {
				t.Fatalf("save = %d, %v", ret, err)
			}
			if rep := a.core.LastReply(t); rep.Resp.StatusCode != 200 {
				t.Fatalf("reply %d", rep.Resp.StatusCode)
			}
			a.ul.Stop()

			b := newDBFixture(t, path, mode)
			b.clk.now = a.clk.now
			hs = b.start("lookup:location", "save:location")
			m := invite(t, "sip:john@example.com")
			if ret, err := hs["lookup:location"](m); ret != 1 || err != nil {
				t.Fatalf("lookup after restart = %d, %v", ret, err)
			}
			if m.URIString() != "sip:john@10.0.0.2" || branches(m.Branches) != "sip:john@10.0.0.1(0.5) sip:john@10.0.0.3(-1)" {
				t.Fatalf("after restart: R-URI %s, branches %s", m.URIString(), branches(m.Branches))
			}
			// A query REGISTER lists the same bindings, q unset kept unset.
			if ret, _ := hs["save:location"](register{callID: "q", cseq: 1}.msg(t)); ret != 1 {
				t.Fatalf("query = %d", ret)
			}
			contacts, _ := replyContacts(b.core.LastReply(t))
			want := "<sip:john@10.0.0.2>;q=1;expires=3600 <sip:john@10.0.0.1>;q=0.5;expires=3600 <sip:john@10.0.0.3>;expires=3600"
			if strings.Join(contacts, " ") != want {
				t.Fatalf("bindings after restart: %q\nwant %q", contacts, want)
			}
		})
	}
}

// TestDBOnlyFailure checks db_mode 3 with a broken database: save answers
// 500 (SER's texts), lookup returns -2, registered -1.
func TestDBOnlyFailure(t *testing.T) {
	f := newDBFixture(t, filepath.Join(t.TempDir(), "ser.db"), 3)
	hs := f.start("save:location", "lookup:location", "registered:location")
	if ret, _ := hs["save:location"](register{contacts: []string{"<sip:john@10.0.0.1>"}}.msg(t)); ret != 1 {
		t.Fatalf("save = %d", ret)
	}
	f.st.Close()
	for _, tc := range []struct {
		name    string
		req     register
		wantErr string
	}{
		{"save", register{cseq: 2, contacts: []string{"<sip:john@10.0.0.2>"}}, "usrloc_contact_update failed"},
		{"query", register{cseq: 3}, "usrloc_record_get failed"},
		{"star", register{cseq: 4, contacts: []string{"*"}, expires: "0"}, "usrloc_record_delete failed"},
	} {
		ret, err := hs["save:location"](tc.req.msg(t))
		if ret != 0 || err != nil {
			t.Errorf("%s: save = %d, %v; want 0", tc.name, ret, err)
		}
		rep := f.core.LastReply(t)
		_, regErr := replyContacts(rep)
		if rep.Resp.StatusCode != 500 || rep.Resp.Reason != "Server Internal Error" || regErr != tc.wantErr {
			t.Errorf("%s: reply %d %s (%s), want 500 (%s)", tc.name, rep.Resp.StatusCode, rep.Resp.Reason, regErr, tc.wantErr)
		}
	}
	if ret, err := hs["lookup:location"](invite(t, "sip:john@example.com")); ret != -2 || err != nil {
		t.Errorf("lookup = %d, %v; want -2", ret, err)
	}
	if ret, _ := hs["registered:location"](invite(t, "sip:john@example.com")); ret != -1 {
		t.Errorf("registered = %d, want -1", ret)
	}
}

// TestWriteThroughDBDown checks db_mode 1 with a broken database: the
// REGISTER succeeds in memory (SER's behaviour) and lookups find it.
func TestWriteThroughDBDown(t *testing.T) {
	f := newDBFixture(t, filepath.Join(t.TempDir(), "ser.db"), 1)
	hs := f.start("save:location", "lookup:location")
	f.st.Close()
	if ret, _ := hs["save:location"](register{contacts: []string{"<sip:john@10.0.0.1>"}}.msg(t)); ret != 1 {
		t.Fatalf("save = %d", ret)
	}
	if rep := f.core.LastReply(t); rep.Resp.StatusCode != 200 {
		t.Fatalf("reply %d", rep.Resp.StatusCode)
	}
	if f.ul.WriteFailures() != 1 {
		t.Fatalf("WriteFailures = %d", f.ul.WriteFailures())
	}
	m := invite(t, "sip:john@example.com")
	if ret, _ := hs["lookup:location"](m); ret != 1 || m.URIString() != "sip:john@10.0.0.1" {
		t.Fatalf("lookup = %d, %s", ret, m.URIString())
	}
}
