package store

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ser/internal/testing/mariadb"
	"ser/internal/testing/serdb"
)

// serDatabase makes a SER 0.9 database (internal/testing/serdb) on e.
func serDatabase(t *testing.T, e engine) (string, *serdb.DB) {
	t.Helper()
	if e.name == "mariadb" {
		return serdb.MariaDB(t, mariadb.Shared(t))
	}
	return serdb.SQLite(t)
}

// serColumns are the columns of SER's tables whose rows must come
// through the adoption unchanged (acc and missed_calls get an id,
// location and aliases a path).
var serColumns = map[string][]string{
	"version":          {"table_name", "table_version"},
	"subscriber":       serTables["subscriber"].cols,
	"pending":          serTables["pending"].cols,
	"location":         serTables["location"].cols[:len(serTables["location"].cols)-1],
	"aliases":          serTables["aliases"].cols[:len(serTables["aliases"].cols)-1],
	"grp":              serTables["grp"].cols,
	"uri":              serTables["uri"].cols,
	"domain":           serTables["domain"].cols,
	"admin_privileges": serTables["admin_privileges"].cols,
	"acc":              serTables["acc"].cols[:len(serTables["acc"].cols)-1],
	"missed_calls":     serTables["missed_calls"].cols[:len(serTables["missed_calls"].cols)-1],
	"phonebook":        serTables["phonebook"].cols,
	"speed_dial":       serTables["speed_dial"].cols,
	"silo":             serTables["silo"].cols,
	"usr_preferences":  serTables["usr_preferences"].cols,
	"active_sessions":  serTables["active_sessions"].cols,
	"trusted":          serTables["trusted"].cols,
	"reserved":         serTables["reserved"].cols,
}

// TestAdoptSER09 opens the store on a database made as SER 0.9's
// ser_mysql.sh made it, with rows: the first Open succeeds and adds only
// what is missing (acc/missed_calls id, the LCR and dispatcher tables,
// indexes SER did not have, schema_migrations, version rows of the new
// tables); SER's rows and version entries are untouched; a second Open
// changes nothing; the store reads SER's data.
func TestAdoptSER09(t *testing.T) { forEachEngine(t, testAdoptSER09) }

func testAdoptSER09(t *testing.T, e engine) {
	ctx := context.Background()
	url, raw := serDatabase(t, e)
	before := map[string][]string{}
	defs := map[string]string{}
	for table, cols := range serColumns {
		before[table] = raw.Rows(t, table, cols...)
	}
	for _, table := range raw.Tables(t) {
		defs[table] = raw.Definition(t, table)
	}

	var logs bytes.Buffer
	s, err := Open(ctx, url, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatalf("first Open of a SER 0.9 database: %v", err)
	}
	if ms, _ := s.Migrations(ctx); len(ms) != migrationCount(t) {
		t.Errorf("applied %v", ms)
	}
	if !strings.Contains(logs.String(), "already_present") || (e.name == "mariadb" && !strings.Contains(logs.String(), "tables without transactions")) {
		t.Errorf("log does not say what was present already: %s", logs.String())
	}
	s.Close()

	// SER's rows, version entries included, are as SER left them.
	// The version table gains the rows of the tables SER did not have.
	newVersions := []string{"gw | 3", "gw_cap | 1", "gw_grp | 1", "lcr | 1"}
	before["version"] = slices.Sorted(slices.Values(append(slices.Clone(before["version"]), newVersions...)))
	for table, cols := range serColumns {
		if got := raw.Rows(t, table, cols...); !reflect.DeepEqual(got, before[table]) {
			t.Errorf("rows of %s changed\n got %q\nwant %q", table, got, before[table])
		}
	}
	// SER's tables changed only where ser needs it: indexes added (and
	// acc/missed_calls' id); every line of SER's definition is still there.
	for table, def := range defs {
		if table == "sqlite_sequence" {
			continue
		}
		got := raw.Definition(t, table)
		for _, l := range strings.Split(def, "\n") {
			l = strings.TrimSuffix(strings.TrimSpace(l), ",")
			if strings.HasPrefix(l, ") ENGINE=") {
				l = strings.Fields(l)[1] // AUTO_INCREMENT= may follow
			}
			if strings.HasPrefix(l, "CREATE TABLE") && (table == "acc" || table == "missed_calls") {
				continue // rebuilt by SQLite
			}
			if !strings.Contains(got, l) {
				t.Errorf("definition of %s lost %q:\n%s", table, l, got)
			}
		}
		for _, l := range strings.Split(got, "\n") {
			l = strings.TrimSuffix(strings.TrimSpace(l), ",")
			if strings.Contains(def, l) || strings.Trim(l, ");") == "" || strings.HasPrefix(l, "KEY ") || strings.HasPrefix(l, "CREATE INDEX ") ||
				strings.HasPrefix(l, ") ENGINE=") ||
				((table == "location" || table == "aliases") && (strings.Contains(strings.ToLower(l), "path` varchar(512) default null") ||
					strings.Contains(strings.ToLower(l), ", path varchar(512) default null"))) ||
				((table == "acc" || table == "missed_calls") && (strings.Contains(l, "id") || strings.Contains(l, "CREATE TABLE"))) {
				continue
			}
			t.Errorf("definition of %s gained %q:\n%s", table, l, got)
		}
	}
	for _, table := range []string{"acc", "missed_calls"} {
		ids := raw.Rows(t, table, "id")
		if len(ids) != len(before[table]) || (len(ids) > 0 && ids[0] != "1") {
			t.Errorf("%s ids %v for %d rows", table, ids, len(before[table]))
		}
	}
	// No duplicate version rows, and the new tables' rows are there.
	versions := raw.Rows(t, "version", "table_name")
	if c := slices.Compact(slices.Clone(versions)); len(c) != len(versions) {
		t.Errorf("duplicate version rows: %v", versions)
	}
	for _, want := range []string{"gw", "gw_grp", "lcr", "gw_cap"} {
		if !slices.Contains(versions, want) {
			t.Errorf("no version row for %s", want)
		}
	}
	// No index was made twice: SER's sip_callid / changed / user_2 serve.
	for table, idx := range map[string]string{"acc": "acc_sip_callid", "active_sessions": "active_sessions_changed",
		"subscriber": "subscriber_user_2", "aliases": "aliases_contact"} {
		live, err := s.liveIndexes(ctx, raw, table)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		seen := map[string]bool{}
		for _, ix := range live {
			names = append(names, ix.name)
			key := strings.Join(ix.cols, ",")
			if seen[key] && !strings.EqualFold(ix.name, "PRIMARY") {
				t.Errorf("%s: two indexes on (%s): %v", table, key, live)
			}
			seen[key] = true
		}
		if table == "acc" && slices.Contains(names, idx) {
			t.Errorf("%s: %s made beside SER's index: %v", table, idx, names)
		}
	}

	// A second start changes nothing.
	snap := raw.Snapshot(t)
	logs.Reset()
	s = e.openURL(t, url, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithClock(func() time.Time { return t0.Add(time.Hour) }))
	if strings.Contains(logs.String(), "applied migration") {
		t.Errorf("second Open applied migrations: %s", logs.String())
	}
	if got := raw.Snapshot(t); got != snap {
		t.Errorf("second Open changed the database:\n%s", diffLines(snap, got))
	}

	// The store reads SER's data.
	creds, err := s.Credentials(ctx, CredentialsQuery{Table: "subscriber", UserColumn: "username", DomainColumn: "domain",
		UseDomain: true, Username: "carol", Domain: "example.org", Columns: []string{"ha1", "ha1b"}})
	if err != nil || len(creds) != 2 || creds[0] != HA1("carol", "example.org", "cinnamon") {
		t.Errorf("Credentials(carol) = %v, %v; want SER's ha1 %s", creds, err, HA1("carol", "example.org", "cinnamon"))
	}
	var contacts []Contact
	if err := s.LoadContacts(ctx, "location", func(c Contact) error { contacts = append(contacts, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 3 {
		t.Errorf("LoadContacts = %+v", contacts)
	}
	for _, c := range contacts {
		if c.Username == "bob" && (c.Flags&FlagPermanent == 0 || !c.Expires.Equal(Forever)) {
			t.Errorf("bob's permanent contact (SER's expires 0, flags 128) read as %+v", c)
		}
	}
	recs, total, err := s.ListAcc(ctx, "acc", AccFilter{Username: "alice", Domain: "example.org"})
	if err != nil || total != 2 || len(recs) != 2 || recs[0].Method != "BYE" || recs[0].ID == 0 {
		t.Errorf("ListAcc(alice) = %+v, %d, %v", recs, total, err)
	}
	if err := s.DeleteAccRecord(ctx, "acc", recs[0].ID); err != nil {
		t.Errorf("DeleteAccRecord(%d): %v", recs[0].ID, err)
	}
	if ok, err := s.InGroup(ctx, GroupSchema{Table: "grp", UserColumn: "username", DomainColumn: "domain",
		GroupColumn: "grp", UseDomain: true}, "alice", "example.org", "ld"); err != nil || !ok {
		t.Errorf("InGroup(alice, ld) = %v, %v", ok, err)
	}
	if admin, err := s.IsAdmin(ctx, "admin", "example.org"); err != nil || !admin {
		t.Errorf("IsAdmin(admin) = %v, %v", admin, err)
	}
	if err := s.InsertAcc(ctx, "acc", AccRecord{Method: "INVITE", Status: "200 OK", CallID: "new@x", Username: "bob",
		Domain: "example.org", Time: t0}); err != nil {
		t.Errorf("InsertAcc: %v", err)
	}
	if err := s.UpsertContact(ctx, "location", Contact{Username: "carol", Domain: "example.org",
		Contact: "sip:carol@198.51.100.7:5060", Expires: t0.Add(time.Hour), Q: 1, CallID: "c2", CSeq: 13}); err != nil {
		t.Errorf("UpsertContact: %v", err)
	}
}

// diffLines returns the lines of b not in a and of a not in b.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMigrationFailureLeavesNoChange: a migration whose last statement
// fails leaves the database exactly as it was (on MySQL the runner undoes
// the DDL it ran), and the next Open fails naming the same statement
// and cause: nothing is skipped.
func TestMigrationFailureLeavesNoChange(t *testing.T) {
	forEachEngine(t, testMigrationFailureLeavesNoChange)
}

func testMigrationFailureLeavesNoChange(t *testing.T, e engine) {
	ctx := context.Background()
	url, raw := serDatabase(t, e)
	bad := fstest.MapFS{
		"0001_ser.sql": {Data: []byte("CREATE TABLE subscriber (username VARCHAR(64), domain VARCHAR(128));\n")},
		"0002_b.sql": {Data: []byte(`CREATE TABLE b (y INT);
CREATE INDEX b_y ON b (y);
CREATE INDEX grp_grp ON grp (grp);
ALTER TABLE location ADD COLUMN path VARCHAR(255) NOT NULL DEFAULT '';
INSERT INTO b (y) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM b);
INSERT INTO missing (x) VALUES (1);
`)},
	}
	good := fstest.MapFS{"0001_ser.sql": bad["0001_ser.sql"]}
	s := e.openURL(t, url, WithMigrations(good))
	s.Close()
	snap := raw.Snapshot(t)

	for try := 1; try <= 2; try++ {
		_, err := Open(ctx, url, WithMigrations(bad), WithLogger(quiet))
		if err == nil || !strings.Contains(err.Error(), "migration 0002_b.sql: line 6:") ||
			!strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "nothing of it was kept") {
			t.Fatalf("Open #%d with a failing migration = %v", try, err)
		}
		if got := raw.Snapshot(t); got != snap {
			t.Fatalf("Open #%d left changes:\n%s", try, diffLines(snap, got))
		}
	}

	// Fixed: applied, including the additive ALTER on SER's location.
	fixed := fstest.MapFS{"0001_ser.sql": bad["0001_ser.sql"], "0002_b.sql": {Data: []byte(strings.Replace(
		string(bad["0002_b.sql"].Data), "INSERT INTO missing (x) VALUES (1);\n", "", 1))}}
	s = e.openURL(t, url, WithMigrations(fixed))
	if cols := raw.Rows(t, "b"); !reflect.DeepEqual(cols, []string{"1"}) {
		t.Errorf("b rows %v", cols)
	}
	if live, _ := s.liveColumns(ctx, raw, "location"); !hasColumn(live, "path") {
		t.Errorf("location columns %v: no path", live)
	}
}

// TestAdoptRefusesUnusableTable: a SER table without a column the store
// uses (ser_mysql.sh run with USERCOL=user) stops the first Open before
// anything is changed, naming the table and the column.
func TestAdoptRefusesUnusableTable(t *testing.T) { forEachEngine(t, testAdoptRefusesUnusableTable) }

func testAdoptRefusesUnusableTable(t *testing.T, e engine) {
	url, raw := serDatabase(t, e)
	if _, err := raw.Exec("ALTER TABLE grp RENAME COLUMN username TO user"); err != nil {
		t.Fatal(err)
	}
	snap := raw.Snapshot(t)
	_, err := Open(context.Background(), url, WithLogger(quiet))
	if err == nil || !strings.Contains(err.Error(), "table grp exists but has no column username") {
		t.Fatalf("Open = %v", err)
	}
	if got := raw.Snapshot(t); got != snap {
		t.Errorf("the refused Open changed the database:\n%s", diffLines(snap, got))
	}
}

// TestMySQLAdoptionNamesTheProblemAgain: an operator's database user
// without the ALTER privilege adopts a SER database: the store's own
// tables are made, then the migration adding acc.id fails; that file
// leaves nothing behind, every later start fails with the same message
// naming file, line and the server's refusal and changes nothing, and once
// ALTER is granted the next start completes.
func TestMySQLAdoptionNamesTheProblemAgain(t *testing.T) {
	ctx := context.Background()
	srv := mariadb.Shared(t)
	url, raw := serdb.MariaDB(t, srv)
	db := url[strings.LastIndex(url, "/")+1:]
	user := "noalter_" + db
	hosts := []string{"%", "localhost", "127.0.0.1"}
	for _, h := range hosts {
		srv.Exec(t, "CREATE USER '"+user+"'@'"+h+"' IDENTIFIED BY 'pw'")
		srv.Exec(t, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, DROP ON `"+db+"`.* TO '"+user+"'@'"+h+"'")
	}
	t.Cleanup(func() {
		for _, h := range hosts {
			srv.RootDB().Exec("DROP USER IF EXISTS '" + user + "'@'" + h + "'")
		}
	})
	noAlter := "mysql://" + user + ":pw@" + srv.Addr() + "/" + db
	var snap string
	for try := 1; try <= 3; try++ {
		_, err := Open(ctx, noAlter, WithLogger(quiet))
		if err == nil || !strings.Contains(err.Error(), "migration 0005_acc_id.sql: line 13: ") ||
			!strings.Contains(err.Error(), "ALTER command denied") || !strings.Contains(err.Error(), "nothing of it was kept") {
			t.Fatalf("Open #%d without ALTER = %v", try, err)
		}
		if try == 1 {
			snap = raw.Snapshot(t)
			continue
		}
		if got := raw.Snapshot(t); got != snap {
			t.Fatalf("Open #%d changed the database:\n%s", try, diffLines(snap, got))
		}
	}
	if got := raw.Definition(t, "acc"); strings.Contains(got, "`id`") || !strings.Contains(got, "KEY `acc_time`") {
		t.Errorf("acc after the failed 0005 (0001's index, no id):\n%s", got)
	}
	for _, h := range hosts {
		srv.Exec(t, "GRANT ALTER ON `"+db+"`.* TO '"+user+"'@'"+h+"'")
	}
	s := mariadbEngine.openURL(t, noAlter)
	if ms, _ := s.Migrations(ctx); len(ms) != migrationCount(t) {
		t.Errorf("applied %v", ms)
	}
	if ids := raw.Rows(t, "acc", "id"); len(ids) != 3 {
		t.Errorf("acc ids %v", ids)
	}
}

// TestConcurrentAdoption: four stores open one SER 0.9 database at once
// (ser nodes and serctl starting together): all open, the migrations are
// recorded once and nothing is added twice.
func TestConcurrentAdoption(t *testing.T) { forEachEngine(t, testConcurrentAdoption) }

func testConcurrentAdoption(t *testing.T, e engine) {
	ctx := context.Background()
	url, raw := serDatabase(t, e)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, url, WithLogger(quiet))
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
	}
	if got := raw.Rows(t, "schema_migrations", "version"); len(got) != migrationCount(t) {
		t.Errorf("schema_migrations %v", got)
	}
	versions := raw.Rows(t, "version", "table_name")
	if c := slices.Compact(slices.Clone(versions)); len(c) != len(versions) {
		t.Errorf("duplicate version rows: %v", versions)
	}
	if ids := raw.Rows(t, "acc", "id"); len(ids) != 3 {
		t.Errorf("acc ids %v", ids)
	}
}
