package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// contact returns a test contact of user@example.com.
func contact(user, uri string, expires time.Time) Contact {
	return Contact{Username: user, Domain: "example.com", Contact: uri, Expires: expires, Q: 1,
		CallID: "cid-" + uri, CSeq: 1, Flags: 0, UserAgent: "test-ua"}
}

func TestUpsertAndContacts(t *testing.T) { forEachEngine(t, testUpsertAndContacts) }

func testUpsertAndContacts(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	a := contact("alice", "sip:alice@10.0.0.1", t0.Add(time.Hour))
	a.Received, a.Q = "sip:192.0.2.1:5060", 0.5
	b := contact("alice", "sip:alice@10.0.0.2", t0.Add(2*time.Hour))
	b.Q = 0.9
	for _, ct := range []Contact{a, b} {
		if err := s.UpsertContact(ctx, "location", ct); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Contacts(ctx, "location", "alice", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	a.LastModified, b.LastModified = t0, t0
	if !reflect.DeepEqual(got, []Contact{b, a}) {
		t.Errorf("Contacts\n got %+v\nwant %+v", got, []Contact{b, a})
	}
	// Re-registration overwrites everything but the key.
	c.Set(t0.Add(time.Minute))
	a.Expires, a.CSeq, a.Received, a.UserAgent, a.Q = t0.Add(3*time.Hour), 2, "", "new-ua", 1
	a.LastModified = time.Time{}
	if err := s.UpsertContact(ctx, "location", a); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Contacts(ctx, "location", "alice", "example.com")
	a.LastModified = t0.Add(time.Minute)
	if len(got) != 2 || !reflect.DeepEqual(got[0], a) {
		t.Errorf("after update got %+v, want first %+v", got, a)
	}
	var rcv any
	s.r.QueryRow("SELECT received FROM location WHERE contact = ?", a.Contact).Scan(&rcv)
	if rcv != nil {
		t.Errorf("empty received stored as %v, want NULL", rcv)
	}
	if got, _ := s.Contacts(ctx, "location", "bob", "example.com"); len(got) != 0 {
		t.Errorf("bob has %+v", got)
	}
	// Aliases are a separate table.
	if got, _ := s.Contacts(ctx, "aliases", "alice", "example.com"); len(got) != 0 {
		t.Errorf("aliases has %+v", got)
	}
	long := contact("carol", "sip:carol@x", t0)
	long.UserAgent = string(make([]byte, 80))
	if err := s.UpsertContact(ctx, "location", long); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Contacts(ctx, "location", "carol", "example.com"); len(got[0].UserAgent) != 50 {
		t.Errorf("user_agent not cut: %d", len(got[0].UserAgent))
	}
	if n, aors, err := s.CountContacts(ctx, "location"); n != 3 || aors != 2 || err != nil {
		t.Errorf("CountContacts = %d, %d, %v", n, aors, err)
	}
}

func TestContactErrors(t *testing.T) { forEachEngine(t, testContactErrors) }

func testContactErrors(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"bad table", s.UpsertContact(ctx, "location where 1", contact("a", "sip:a@x", t0)), ErrInvalid},
		{"no contact", s.UpsertContact(ctx, "location", contact("a", "", t0)), ErrInvalid},
		{"no username", s.UpsertContact(ctx, "location", contact("", "sip:a@x", t0)), ErrInvalid},
		{"missing table", s.UpsertContact(ctx, "nosuch", contact("a", "sip:a@x", t0)), nil},
		{"delete missing", s.DeleteContact(ctx, "location", "a", "example.com", "sip:a@x"), ErrNotFound},
		{"load bad table", s.LoadContacts(ctx, "1x", func(Contact) error { return nil }), ErrInvalid},
		{"flush bad table", s.FlushContacts(ctx, "x-y", []ContactOp{{Kind: OpDelete}}), ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				if tc.err == nil {
					t.Errorf("no error")
				}
				return
			}
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error = %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func TestPermanentAndExpired(t *testing.T) { forEachEngine(t, testPermanentAndExpired) }

func testPermanentAndExpired(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	perm := contact("alice", "sip:alice@gw", t0) // serctl ul add … 0 1.00 0 128
	perm.Flags = FlagPermanent
	old := contact("alice", "sip:alice@old", t0.Add(-time.Second))
	fresh := contact("alice", "sip:alice@fresh", t0.Add(time.Second))
	oldBob := contact("bob", "sip:bob@old", t0.Add(-time.Hour))
	for _, ct := range []Contact{perm, old, fresh, oldBob} {
		if err := s.UpsertContact(ctx, "location", ct); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpired(ctx, "location", t0)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v; want 2", n, err)
	}
	got, _ := s.Contacts(ctx, "location", "alice", "example.com")
	if len(got) != 2 {
		t.Fatalf("left %+v", got)
	}
	for _, ct := range got {
		if ct.Contact == perm.Contact && (!ct.Permanent() || !ct.Expires.Equal(Forever)) {
			t.Errorf("permanent contact read back as %+v", ct)
		}
	}
	var exp string
	s.r.QueryRow("SELECT CAST(expires AS CHAR) FROM location WHERE contact = ?", perm.Contact).Scan(&exp)
	if exp != "9999-12-31 23:59:59" {
		t.Errorf("permanent expires stored as %q", exp)
	}
	// Far in the future, still only the non-permanent one goes.
	if n, _ := s.DeleteExpired(ctx, "location", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)); n != 1 {
		t.Errorf("DeleteExpired at the end of time = %d, want 1", n)
	}
}

func TestDeleteContactAndAOR(t *testing.T) { forEachEngine(t, testDeleteContactAndAOR) }

func testDeleteContactAndAOR(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, ct := range []Contact{contact("alice", "sip:1", t0), contact("alice", "sip:2", t0), contact("bob", "sip:3", t0)} {
		if err := s.UpsertContact(ctx, "aliases", ct); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteContact(ctx, "aliases", "alice", "example.com", "sip:1"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteAOR(ctx, "aliases", "alice", "example.com"); err != nil || n != 1 {
		t.Errorf("DeleteAOR = %d, %v", n, err)
	}
	if n, err := s.DeleteAOR(ctx, "aliases", "alice", "example.com"); err != nil || n != 0 {
		t.Errorf("DeleteAOR again = %d, %v", n, err)
	}
	if got, _ := s.Contacts(ctx, "aliases", "bob", "example.com"); len(got) != 1 {
		t.Errorf("bob lost his contact: %+v", got)
	}
}

func TestFlushContacts(t *testing.T) { forEachEngine(t, testFlushContacts) }

func testFlushContacts(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	if err := s.UpsertContact(ctx, "location", contact("bob", "sip:b1", t0)); err != nil {
		t.Fatal(err)
	}
	ops := []ContactOp{
		{OpUpsert, contact("alice", "sip:1", t0)},
		{OpUpsert, contact("alice", "sip:2", t0)},
		{OpDelete, contact("alice", "sip:1", t0)},
		{OpDelete, contact("alice", "sip:missing", t0)}, // not an error in a flush
		{OpDeleteAOR, Contact{Username: "bob", Domain: "example.com"}},
		{OpUpsert, contact("carol", "sip:3", t0)},
	}
	if err := s.FlushContacts(ctx, "location", ops); err != nil {
		t.Fatal(err)
	}
	var all []string
	s.LoadContacts(ctx, "location", func(c Contact) error { all = append(all, c.Username+" "+c.Contact); return nil })
	if len(all) != 2 {
		t.Errorf("after flush %v, want alice sip:2 and carol sip:3", all)
	}

	// A failing op rolls the whole flush back.
	failTrigger(t, s, "fail_dave", "BEFORE INSERT", "location", "NEW.username = 'dave'")
	bad := []ContactOp{
		{OpDeleteAOR, Contact{Username: "alice", Domain: "example.com"}},
		{OpUpsert, contact("erin", "sip:4", t0)},
		{OpUpsert, contact("dave", "sip:5", t0)},
	}
	if err := s.FlushContacts(ctx, "location", bad); err == nil {
		t.Fatal("flush with a failing op succeeded")
	}
	all = nil
	s.LoadContacts(ctx, "location", func(c Contact) error { all = append(all, c.Username); return nil })
	if len(all) != 2 {
		t.Errorf("after failed flush %v, want alice and carol untouched", all)
	}
	if err := s.FlushContacts(ctx, "location", []ContactOp{{Kind: 9, Contact: contact("x", "sip:x", t0)}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown op kind: %v", err)
	}
}

func TestLoadContactsStopsOnError(t *testing.T) { forEachEngine(t, testLoadContactsStopsOnError) }

func testLoadContactsStopsOnError(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	ops := make([]ContactOp, 10)
	for i := range ops {
		ops[i] = ContactOp{OpUpsert, contact(fmt.Sprint("u", i), "sip:x", t0)}
	}
	if err := s.FlushContacts(ctx, "location", ops); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err := s.LoadContacts(ctx, "location", func(c Contact) error {
		n++
		// The callback may use the store while rows stream.
		if _, err := s.Contacts(ctx, "location", c.Username, c.Domain); err != nil {
			return err
		}
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("LoadContacts = %v after %d rows, want stop after 3", err, n)
	}
}

func TestEnsureLocationTable(t *testing.T) { forEachEngine(t, testEnsureLocationTable) }

func testEnsureLocationTable(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	if ok, _ := s.TableExists(ctx, "location_vip"); ok {
		t.Fatal("location_vip exists before")
	}
	for range 2 { // idempotent
		if err := s.EnsureLocationTable(ctx, "location_vip"); err != nil {
			t.Fatal(err)
		}
	}
	wantCols, wantPK := tableInfo(t, s, "location")
	cols, pk := tableInfo(t, s, "location_vip")
	if !reflect.DeepEqual(cols, wantCols) || !reflect.DeepEqual(pk, wantPK) {
		t.Errorf("location_vip %v %v, want %v %v", cols, pk, wantCols, wantPK)
	}
	if s.d == MySQL {
		// SHOW CREATE TABLE lists the columns, keys (the expires index
		// included) and table options.
		var name, ddl, want string
		s.r.QueryRow("SHOW CREATE TABLE location_vip").Scan(&name, &ddl)
		s.r.QueryRow("SHOW CREATE TABLE location").Scan(&name, &want)
		want = strings.NewReplacer("`location`", "`location_vip`", "`location_expires`", "`location_vip_expires`").Replace(want)
		if ddl != want || !strings.Contains(ddl, "KEY `location_vip_expires` (`expires`)") {
			t.Errorf("DDL differs from location's:\n%s\n%s", ddl, want)
		}
	} else {
		var ddl, want string
		s.r.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'location_vip'").Scan(&ddl)
		s.r.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'location'").Scan(&want)
		if ddl != "CREATE TABLE \"location_vip\""+want[len("CREATE TABLE location"):] {
			t.Errorf("DDL differs from location's:\n%s\n%s", ddl, want)
		}
		var idx int
		s.r.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'location_vip_expires'").Scan(&idx)
		if idx != 1 {
			t.Error("no expires index")
		}
	}
	if err := s.EnsureLocationTable(ctx, "location"); err != nil {
		t.Errorf("EnsureLocationTable(location): %v", err)
	}
	if err := s.EnsureLocationTable(ctx, "Location"); err != nil {
		t.Errorf("EnsureLocationTable(Location): %v", err)
	}
	// SQLite's table names are case-insensitive, MySQL's (on Linux) are
	// not: there "Location" is a table of its own.
	if err := s.UpsertContact(ctx, "Location", contact("a", "sip:A", t0)); err != nil {
		t.Errorf("UpsertContact(Location): %v", err)
	}
	n, _, _ := s.CountContacts(ctx, "location")
	if want := map[string]int{"sqlite": 1, "mariadb": 0}[e.name]; n != want {
		t.Errorf("location has %d rows after writing to Location, want %d", n, want)
	}
	if err := s.UpsertContact(ctx, "location_vip", contact("a", "sip:a", t0)); err != nil {
		t.Error(err)
	}
	if err := s.EnsureLocationTable(ctx, "bad name"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
}

// TestConcurrentWriters runs 8 goroutines writing at once (usrloc
// write-through from several workers plus web and serctl writes): no
// "database is locked", every write lands.
func TestConcurrentWriters(t *testing.T) { forEachEngine(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*4) // up to four writes fail per step: never block a writer
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				user := fmt.Sprintf("w%d-u%d", w, i)
				if err := s.UpsertContact(ctx, "location", contact(user, "sip:"+user, t0)); err != nil {
					errs <- err
				}
				if i%5 == 0 {
					if err := s.AddSubscriber(ctx, Subscriber{Username: user, Domain: "example.com"}); err != nil {
						errs <- err
					}
					if err := s.FlushContacts(ctx, "aliases", []ContactOp{{OpUpsert, contact(user, "sip:a", t0)}, {OpUpsert, contact(user, "sip:b", t0)}}); err != nil {
						errs <- err
					}
				}
				if _, err := s.Contacts(ctx, "location", user, "example.com"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, _, _ := s.CountContacts(ctx, "location")
	a, _, _ := s.CountContacts(ctx, "aliases")
	if n != workers*perWorker || a != workers*perWorker/5*2 {
		t.Errorf("%d location rows and %d aliases rows", n, a)
	}
}

// TestConcurrentStores has two Stores (two processes: ser and serctl) on
// one database writing at once; with SQLite, its busy timeout and BEGIN
// IMMEDIATE serialise them.
func TestConcurrentStores(t *testing.T) { forEachEngine(t, testConcurrentStores) }

func testConcurrentStores(t *testing.T, e engine) {
	ctx := context.Background()
	url := e.newURL(t)
	s1, s2 := e.openURL(t, url), e.openURL(t, url)
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i, s := range []*Store{s1, s2, s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				user := fmt.Sprintf("s%d-%d", i, j)
				if err := s.FlushContacts(ctx, "location", []ContactOp{{OpUpsert, contact(user, "sip:1", t0)}, {OpUpsert, contact(user, "sip:2", t0)}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _, _ := s2.CountContacts(ctx, "location"); n != 400 {
		t.Errorf("%d rows, want 400", n)
	}
}

// TestFlushContactsBatches flushes more upserts than one MySQL batch,
// with a contact upserted twice (the last values win) and deletes in
// between (they see the upserts before them).
func TestFlushContactsBatches(t *testing.T) { forEachEngine(t, testFlushContactsBatches) }

func testFlushContactsBatches(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	var ops []ContactOp
	for i := range 2*flushBatch + 50 {
		ops = append(ops, ContactOp{OpUpsert, contact(fmt.Sprintf("u%03d", i), "sip:x", t0)})
	}
	again := contact("u007", "sip:x", t0)
	again.CSeq, again.Q = 99, 0.5
	ops = append(ops, ContactOp{OpUpsert, again}, ContactOp{OpDelete, contact("u001", "sip:x", t0)},
		ContactOp{OpDeleteAOR, Contact{Username: "u002", Domain: "example.com"}}, ContactOp{OpUpsert, contact("u001", "sip:y", t0)})
	if err := s.FlushContacts(ctx, "location", ops); err != nil {
		t.Fatal(err)
	}
	if n, aors, err := s.CountContacts(ctx, "location"); err != nil || n != 2*flushBatch+49 || aors != n {
		t.Errorf("CountContacts = %d, %d, %v", n, aors, err)
	}
	got, _ := s.Contacts(ctx, "location", "u007", "example.com")
	if len(got) != 1 || got[0].CSeq != 99 || got[0].Q != 0.5 {
		t.Errorf("u007 = %+v", got)
	}
	got, _ = s.Contacts(ctx, "location", "u001", "example.com")
	if len(got) != 1 || got[0].Contact != "sip:y" {
		t.Errorf("u001 = %+v", got)
	}
}

// TestContactPath: the path column round-trips (NULL for no path) in the
// upsert, the write-back flush and the reads, and EnsureLocationTable adds
// the column to a location-like table made without it (by SER or an
// earlier ser).
func TestContactPath(t *testing.T) { forEachEngine(t, testContactPath) }

func testContactPath(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	// location as migration 0001 made it, before 0010 added path.
	old := reCreateName.ReplaceAllLiteralString(locationLayout().create, "CREATE TABLE "+s.d.Quote("location_old"))
	if _, err := s.w.ExecContext(ctx, s.d.Expand(old)); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureLocationTable(ctx, "location_old"); err != nil {
		t.Fatal(err)
	}
	if cols, _ := tableInfo(t, s, "location_old"); cols[len(cols)-1] != "path" {
		t.Fatalf("location_old columns %v: no path", cols)
	}
	const path = "<sip:lb1.example.com;lr;received=sip:198.51.100.7:40123>,<sip:edge.example.com;lr>"
	a := contact("alice", "sip:alice@10.0.0.1", t0.Add(time.Hour))
	a.Path = path
	b := contact("alice", "sip:alice@10.0.0.2", t0.Add(time.Hour))
	c := contact("bob", "sip:bob@10.0.0.3", t0.Add(time.Hour))
	c.Path = "<sip:lb2.example.com;lr>"
	for _, table := range []string{"location", "location_old"} {
		if err := s.UpsertContact(ctx, table, a); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertContact(ctx, table, b); err != nil {
			t.Fatal(err)
		}
		if err := s.FlushContacts(ctx, table, []ContactOp{{Kind: OpUpsert, Contact: c}}); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		if err := s.LoadContacts(ctx, table, func(r Contact) error { got[r.Contact] = r.Path; return nil }); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{a.Contact: path, b.Contact: "", c.Contact: c.Path}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s paths %q, want %q", table, got, want)
		}
		var nulls int
		s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.d.Quote(table)+" WHERE path IS NULL").Scan(&nulls)
		if nulls != 1 {
			t.Errorf("%s: %d rows with NULL path, want 1", table, nulls)
		}
	}
}

func TestUserContactsAndOnlineUsers(t *testing.T) { forEachEngine(t, testUserContactsAndOnlineUsers) }

func testUserContactsAndOnlineUsers(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for _, u := range []Subscriber{
		{Username: "alice", Domain: "example.com", Password: "a", Email: "alice@example.com"},
		{Username: "alice", Domain: "other.org", Password: "a", Email: "alice@other.org"},
		{Username: "bob", Domain: "example.com", Password: "b", Email: "bob@example.com"},
	} {
		if err := s.AddSubscriber(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	a1 := contact("alice", "sip:alice@10.0.0.1", t0.Add(time.Hour))
	a2 := contact("alice", "sip:alice@10.0.0.2", t0.Add(2*time.Hour))
	nodom := contact("bob", "sip:bob@10.0.0.3", t0.Add(time.Hour))
	nodom.Domain = ""
	stranger := contact("carol", "sip:carol@10.0.0.4", t0.Add(time.Hour))
	for _, c := range []Contact{a1, a2, nodom, stranger} {
		if err := s.UpsertContact(ctx, "location", c); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name, user string
		want       []string
	}{
		{"latest expiry first", "alice", []string{"sip:alice@10.0.0.2", "sip:alice@10.0.0.1"}},
		{"row without domain", "bob", []string{"sip:bob@10.0.0.3"}},
		{"nobody", "dave", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := s.UserContacts(ctx, "location", tc.user)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Contact)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("UserContacts(%s) = %v, want %v", tc.user, got, tc.want)
			}
		})
	}

	got, err := s.OnlineUsers(ctx, "location")
	if err != nil {
		t.Fatal(err)
	}
	want := []OnlineUser{
		{"alice", "example.com", "alice@example.com", "cid-sip:alice@10.0.0.1"},
		{"alice", "example.com", "alice@example.com", "cid-sip:alice@10.0.0.2"},
		{"bob", "example.com", "bob@example.com", "cid-sip:bob@10.0.0.3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnlineUsers\n got %+v\nwant %+v", got, want)
	}

	if _, err := s.UserContacts(ctx, "location; drop", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v, want ErrInvalid", err)
	}
	if _, err := s.OnlineUsers(ctx, "no such"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad table name: %v, want ErrInvalid", err)
	}
}
