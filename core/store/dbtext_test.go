package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// serDBTextDir writes a dbtext directory as SER's dbtext README describes
// it: subscriber, location (expires in seconds) and version.
func serDBTextDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"subscriber": "username(str) domain(str) password(str) ha1(str) ha1b(str) email_address(str,null) rpid(str,null)\n" +
			"alice:example.org:alicepw:" + hexHA1("alice", "example.org", "alicepw") + ":x:alice@example.org:\n" +
			"bob:example.org:bob\\:pw:" + hexHA1("bob", "example.org", "bob:pw") + ":x::sip\\:+4930@example.org\n",
		"location": "username(str) domain(str,null) contact(str,null) expires(int,null) q(double,null) callid(str,null) cseq(int,null) last_modified(str) replicate(int,null) state(int,null) flags(int) user_agent(str) received(str,null)\n" +
			"carol:example.org:sip\\:carol@192.0.2.7\\:5060:2145913200:0.50:c1@x:7:2005-03-07 10\\:00\\:00:::0:SER test\\tUA:\n",
		"version":    "table_name(str) table_version(int)\nsubscriber:5\nlocation:6\n",
		"README.txt": "not a table\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hexHA1(u, d, p string) string { return HA1(u, d, p) }

func openDBText(t *testing.T, dir string) *Store {
	t.Helper()
	st, err := Open(context.Background(), "dbtext://"+dir, WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDBTextURL(t *testing.T) {
	dir := t.TempDir()
	for raw, want := range map[string]Source{
		"dbtext:///var/lib/ser": {Engine: "dbtext", Path: "/var/lib/ser"},
		"dbtext://db/ser":       {Engine: "dbtext", Path: "db/ser"},
		dir:                     {Engine: "dbtext", Path: dir},
		dir + "/ser.db":         {Engine: "sqlite", Path: dir + "/ser.db"},
	} {
		got, err := ParseURL(raw)
		if err != nil || got.Engine != want.Engine || got.Path != want.Path {
			t.Errorf("ParseURL(%q) = %+v, %v", raw, got, err)
		}
	}
	if _, err := ParseURL("dbtext://"); !errors.Is(err, ErrInvalid) {
		t.Errorf("dbtext:// without a directory: %v", err)
	}
}

// TestDBTextSERFiles: SER's files load (escapes, NULLs, seconds as
// datetimes), the store works on them, and a write rewrites exactly the
// changed table with its own header.
func TestDBTextSERFiles(t *testing.T) {
	dir := serDBTextDir(t)
	subscriber := readFile(t, filepath.Join(dir, "subscriber"))
	st := openDBText(t, dir)
	ctx := context.Background()
	got, err := st.Credentials(ctx, CredentialsQuery{UseDomain: true, Username: "bob", Domain: "example.org", Columns: []string{"password", "rpid"}})
	if err != nil || strings.Join(got, "|") != "bob:pw|sip:+4930@example.org" {
		t.Errorf("bob's credentials = %q, %v", got, err)
	}
	cs, err := st.Contacts(ctx, "location", "carol", "example.org")
	if err != nil || len(cs) != 1 || cs[0].Contact != "sip:carol@192.0.2.7:5060" || cs[0].Q != 0.5 || cs[0].UserAgent != "SER test\tUA" ||
		!cs[0].Expires.Equal(time.Unix(2145913200, 0)) {
		t.Fatalf("carol's contacts = %+v, %v", cs, err)
	}
	if v, err := st.TableVersion(ctx, "location"); err != nil || v != 6 {
		t.Errorf("location version = %d, %v", v, err)
	}
	// A new contact: location is rewritten, with its own header.
	c := cs[0]
	c.Username, c.Contact, c.Q, c.CallID = "dave", "sip:dave@192.0.2.8", 0.125, "d:1"
	if err := st.UpsertContact(ctx, "location", c); err != nil {
		t.Fatal(err)
	}
	loc := readFile(t, filepath.Join(dir, "location"))
	lines := strings.Split(strings.TrimSuffix(loc, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "username(str) domain(str,null) contact(str,null) expires(int,null)") ||
		lines[1] != "carol:example.org:sip\\:carol@192.0.2.7\\:5060:2145913200:0.50:c1@x:7:2005-03-07 10\\:00\\:00:0:0:0:SER test\\tUA:" ||
		!strings.HasPrefix(lines[2], "dave:example.org:sip\\:dave@192.0.2.8:2145913200:0.125:d\\:1:7:") {
		t.Errorf("location file:\n%s", loc)
	}
	if got := readFile(t, filepath.Join(dir, "subscriber")); got != subscriber {
		t.Errorf("subscriber rewritten without a change:\n%s", got)
	}
	// A new table gets a file with its schema's header.
	if err := st.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "domain")); got != "domain(str) last_modified(int)\nexample.org:"+itoa(t0.Unix())+"\n" {
		t.Errorf("domain file: %q", got)
	}
	// Reopened: everything is back.
	st.Close()
	st2 := openDBText(t, dir)
	if ok, _ := st2.IsLocalDomain(ctx, "example.org"); !ok {
		t.Error("domain lost")
	}
	cs, _ = st2.Contacts(ctx, "location", "dave", "example.org")
	if len(cs) != 1 || cs[0].Q != 0.125 || cs[0].CallID != "d:1" {
		t.Errorf("dave after reopen: %+v", cs)
	}
	if _, err := os.Stat(filepath.Join(dir, "schema_migrations")); err == nil {
		t.Error("schema_migrations written")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDBTextMalformed: bad files are refused with file:line.
func TestDBTextMalformed(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"username(str) domain(str\nx:y\n", "subscriber:1: column \"domain(str\""},
		{"username(str) n(wrong)\n", "subscriber:1: column n: unknown type"},
		{"username(str) n(int)\n\nalice:12\nbob:x\n", "subscriber:4: column n: \"x\" is not an integer"},
		{"username(str) domain(str)\nalice\n", "subscriber:2: 1 values, the header declares 2 columns"},
		{"username(str) domain(str)\nal\\ice:x\n", "subscriber:2: unknown escape \\i"},
		{"username(str) n(int)\nalice:\n", "subscriber:2: column n is empty but not declared null"},
		{"username(str) n(int,auto) m(int,auto)\n", "subscriber:1: column m: unknown flag"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "subscriber"), []byte(c.file), 0o600)
		_, err := Open(context.Background(), "dbtext://"+dir, WithLogger(slog.New(slog.DiscardHandler)))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
	}
}

// TestDBTextFailedWrite: a table file that cannot be written fails the
// write, which is rolled back: memory and files keep the old rows, no
// temporary file is left, and the next write works.
func TestDBTextFailedWrite(t *testing.T) {
	dir := serDBTextDir(t)
	st := openDBText(t, dir)
	ctx := context.Background()
	before := readFile(t, filepath.Join(dir, "subscriber"))
	// A transaction writing two tables, the second of which fails.
	dbtextFailWrite = func(table string) error {
		if table == "subscriber" {
			return errors.New("disk full")
		}
		return nil
	}
	defer func() { dbtextFailWrite = nil }()
	err := st.PurgeSubscriber(ctx, "alice", "example.org")
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write with a failing file: %v", err)
	}
	if _, err := st.Subscriber(ctx, "alice", "example.org"); err != nil {
		t.Errorf("alice in memory after the failed write: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, "subscriber")); got != before {
		t.Errorf("subscriber file changed:\n%s", got)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	dbtextFailWrite = nil
	if err := st.AddSubscriber(ctx, Subscriber{Username: "erin", Domain: "example.org", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "subscriber")); !strings.Contains(got, "\nerin:example.org:") {
		t.Errorf("subscriber file after erin:\n%s", got)
	}
	if os.Geteuid() != 0 {
		// A directory the process cannot write in.
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if err := st.AddDomain(ctx, "x.example"); err == nil {
			t.Error("write into a read-only directory succeeded")
		}
		if ok, _ := st.IsLocalDomain(ctx, "x.example"); ok {
			t.Error("x.example in memory after the failed write")
		}
	}
}

// TestDBTextTwoProcesses: two stores on one directory (ser and serctl)
// see each other's writes; concurrent writers lose nothing.
func TestDBTextTwoProcesses(t *testing.T) {
	dir := serDBTextDir(t)
	a, b := openDBText(t, dir), openDBText(t, dir)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, st := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if err := st.Grant(ctx, "u"+itoa(int64(i)), "example.org", "g"+itoa(int64(j))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// Each sees all 20 after its next transaction (a write or the
	// refresher).
	for _, st := range []*Store{a, b} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := 0
			for _, u := range []string{"u0", "u1"} {
				ms, _ := st.UserGroups(ctx, u, "example.org")
				n += len(ms)
			}
			if n == 20 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("store sees %d memberships", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := strings.Count(readFile(t, filepath.Join(dir, "grp")), "\n"); got != 21 {
		t.Errorf("grp file has %d lines", got)
	}
}

// TestDBTextModules: what the modules ask of a database works on a dbtext
// directory and lands in files that load again: acc records (auto ids),
// group memberships, uri entries, a write-back flush of contacts.
func TestDBTextModules(t *testing.T) {
	dir := serDBTextDir(t)
	st := openDBText(t, dir)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := st.InsertAcc(ctx, "acc", AccRecord{Method: "INVITE", Status: "200", CallID: "c" + itoa(int64(i)) + ":x", Username: "alice", Domain: "example.org", Time: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Grant(ctx, "alice", "example.org", "ld"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddURI(ctx, "alice", "example.org", "0431"); err != nil {
		t.Fatal(err)
	}
	c := Contact{Username: "frank", Domain: "example.org", Contact: "sip:frank@192.0.2.9", Expires: t0.Add(time.Hour), Q: 1, CallID: "f", CSeq: 1}
	if err := st.FlushContacts(ctx, "location", []ContactOp{{Kind: OpUpsert, Contact: c}, {Kind: OpDeleteAOR, Contact: Contact{Username: "carol", Domain: "example.org"}}}); err != nil {
		t.Fatal(err)
	}
	acc := readFile(t, filepath.Join(dir, "acc"))
	if !strings.HasPrefix(acc, "sip_from(str) ") || !strings.Contains(acc, " id(int,auto)\n") || !strings.Contains(acc, ":c1\\:x:") || strings.Count(acc, "\n") != 4 {
		t.Errorf("acc file:\n%s", acc)
	}
	st.Close()
	st = openDBText(t, dir)
	if rs, total, err := st.ListAcc(ctx, "acc", AccFilter{}); err != nil || total != 3 || rs[0].ID != 3 || rs[0].CallID != "c2:x" {
		t.Errorf("acc after reopen: %d %+v %v", total, rs, err)
	}
	if err := st.InsertAcc(ctx, "acc", AccRecord{Method: "BYE", Time: t0}); err != nil {
		t.Fatal(err)
	}
	if rs, _, _ := st.ListAcc(ctx, "acc", AccFilter{Method: "BYE"}); len(rs) != 1 || rs[0].ID != 4 {
		t.Errorf("next auto id: %+v", rs)
	}
	if ok, _ := st.InGroup(ctx, GroupSchema{UseDomain: true}, "alice", "example.org", "ld"); !ok {
		t.Error("membership lost")
	}
	if ok, _ := st.URIAllowed(ctx, "alice", "example.org", "0431"); !ok {
		t.Error("uri entry lost")
	}
	var users []string
	st.LoadContacts(ctx, "location", func(c Contact) error { users = append(users, c.Username); return nil })
	if strings.Join(users, ",") != "frank" {
		t.Errorf("contacts after the flush and reopen: %v", users)
	}
}

// TestDBTextEditedFile: a table file edited by hand while the store runs
// is read again; a malformed edit is logged and the table keeps its rows
// (writes go on), until the file is fixed.
func TestDBTextEditedFile(t *testing.T) {
	dir := serDBTextDir(t)
	st := openDBText(t, dir)
	ctx := context.Background()
	path := filepath.Join(dir, "version")
	waitVersion := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, _ := st.TableVersion(ctx, "subscriber")
			if v == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("subscriber version %d, want %d", v, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.WriteFile(path, []byte("table_name(str) table_version(int)\nsubscriber:7\nlocation:6\n"), 0o644)
	waitVersion(7)
	os.WriteFile(path, []byte("table_name(str) table_version(int)\nsubscriber:eight\n"), 0o644)
	if err := st.AddDomain(ctx, "x.example"); err != nil {
		t.Fatalf("a write while a file is malformed: %v", err)
	}
	if v, _ := st.TableVersion(ctx, "subscriber"); v != 7 {
		t.Errorf("version after a malformed edit: %d", v)
	}
	os.WriteFile(path, []byte("table_name(str) table_version(int)\nsubscriber:8\n"), 0o644)
	waitVersion(8)
}
