package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ser/migrations"
)

// migrationCount is the number of embedded migration files.
func migrationCount(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestMigrationsApplyOnce(t *testing.T) { forEachEngine(t, testMigrationsApplyOnce) }

func testMigrationsApplyOnce(t *testing.T, e engine) {
	ctx := context.Background()
	url := e.newURL(t)
	if e.name == "sqlite" {
		url = "sqlite://" + filepath.Join(t.TempDir(), "sub", "ser.db") // the directory is created too
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := Open(ctx, url, WithLogger(logger), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != migrationCount(t) || first[0].Name != "0001_ser_schema.sql" {
		t.Fatalf("applied %+v", first)
	}
	if n := strings.Count(logs.String(), "applied migration"); n != len(first) {
		t.Errorf("first open logged %d applied migrations, want %d", n, len(first))
	}
	s.Close()

	logs.Reset()
	s, err = Open(ctx, url, WithLogger(logger), WithClock(func() time.Time { return t0.Add(time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.Contains(logs.String(), "applied migration") {
		t.Errorf("reopen re-applied migrations: %s", logs.String())
	}
	again, _ := s.Migrations(ctx)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("migrations after reopen = %+v, want %+v", again, first)
	}
	var at time.Time
	if err := s.r.QueryRow("SELECT applied_at FROM schema_migrations WHERE version = 1").Scan(timeScan{&at}); err != nil || !at.Equal(t0) {
		t.Errorf("applied_at = %v, %v; want %v", at, err, t0)
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openTest(t)
	for _, db := range []struct {
		name string
		q    func(string) (string, error)
	}{
		{"writer", func(p string) (v string, err error) { return v, s.w.QueryRow("PRAGMA " + p).Scan(&v) }},
		{"reader", func(p string) (v string, err error) { return v, s.r.QueryRow("PRAGMA " + p).Scan(&v) }},
	} {
		for p, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
			if got, err := db.q(p); err != nil || got != want {
				t.Errorf("%s: PRAGMA %s = %q, %v; want %q", db.name, p, got, err, want)
			}
		}
	}
	if _, err := s.r.Exec("DELETE FROM domain"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// serTables are SER 0.9.6's tables with their columns in order and their
// primary keys (scripts/ser_mysql.sh), plus the LCR tables.
var serTables = map[string]struct {
	cols, pk []string
}{
	"subscriber": {strings.Fields("phplib_id username domain password first_name last_name phone email_address datetime_created datetime_modified confirmation flag sendnotification greeting ha1 ha1b allow_find timezone rpid domn uuid"), []string{"username", "domain"}},
	"pending":    {strings.Fields("phplib_id username domain password first_name last_name phone email_address datetime_created datetime_modified confirmation flag sendnotification greeting ha1 ha1b allow_find timezone rpid domn uuid"), []string{"username", "domain"}},
	// location and aliases: SER's columns plus path (migrations/0010, Kamailio's column).
	"location": {strings.Fields("username domain contact received expires q callid cseq last_modified replicate state flags user_agent path"), []string{"username", "domain", "contact"}},
	"aliases":  {strings.Fields("username domain contact received expires q callid cseq last_modified replicate state flags user_agent path"), []string{"username", "domain", "contact"}},
	"grp":      {strings.Fields("username domain grp last_modified"), []string{"username", "domain", "grp"}},
	"acc": {strings.Fields("sip_from sip_to sip_status sip_method i_uri o_uri from_uri to_uri sip_callid username domain fromtag totag time timestamp caller_deleted callee_deleted id"),
		[]string{"id"}},
	"missed_calls": {strings.Fields("sip_from sip_to sip_status sip_method i_uri o_uri from_uri to_uri sip_callid username domain fromtag totag time timestamp id"),
		[]string{"id"}},
	"phonebook":             {strings.Fields("id username domain fname lname sip_uri"), []string{"id"}},
	"event":                 {strings.Fields("id username domain uri description"), []string{"id"}},
	"reserved":              {[]string{"username"}, nil},
	"active_sessions":       {strings.Fields("sid name val changed"), []string{"name", "sid"}},
	"config":                {strings.Fields("attribute value username domain modified"), nil},
	"silo":                  {strings.Fields("mid src_addr dst_addr r_uri username domain inc_time exp_time ctype body"), []string{"mid"}},
	"domain":                {strings.Fields("domain last_modified"), []string{"domain"}},
	"uri":                   {strings.Fields("username domain uri_user last_modified"), []string{"username", "domain", "uri_user"}},
	"trusted":               {strings.Fields("src_ip proto from_pattern"), []string{"src_ip", "proto", "from_pattern"}},
	"usr_preferences":       {strings.Fields("uuid username domain attribute value type modified"), []string{"attribute", "username", "domain"}},
	"preferences_types":     {strings.Fields("att_name att_rich_type att_raw_type att_type_spec default_value"), []string{"att_name"}},
	"admin_privileges":      {strings.Fields("username domain priv_name priv_value"), []string{"username", "priv_name", "priv_value", "domain"}},
	"calls_forwarding":      {strings.Fields("username domain uri_re purpose action param1 param2"), []string{"username", "domain", "uri_re", "purpose"}},
	"speed_dial":            {strings.Fields("username domain sd_username sd_domain new_uri fname lname description"), []string{"username", "domain", "sd_username", "sd_domain"}},
	"server_monitoring":     {strings.Fields("time id param value increment"), []string{"id", "param"}},
	"server_monitoring_agg": {strings.Fields("param s_value s_increment last_aggregated_increment av mv ad lv min_val max_val min_inc max_inc lastupdate"), []string{"param"}},
	"version":               {strings.Fields("table_name table_version"), nil},
	"gw":                    {strings.Fields("gw_name grp_id ip_addr port uri_scheme transport prefix"), []string{"gw_name"}},
	"gw_grp":                {strings.Fields("grp_id grp_name"), []string{"grp_id"}},
	"lcr":                   {strings.Fields("prefix from_uri grp_id priority"), nil},
	"gw_cap":                {strings.Fields("gw_name cap prefix priority"), []string{"gw_name", "cap"}},
}

// tableInfo returns a table's columns in order and its primary key.
func tableInfo(t *testing.T, s *Store, table string) (cols, pk []string) {
	t.Helper()
	if s.d == MySQL {
		var err error
		cols, err = s.queryStrings(context.Background(), "columns", "SELECT column_name FROM information_schema.columns "+
			"WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position", table)
		if err == nil {
			pk, err = s.queryStrings(context.Background(), "primary key", "SELECT column_name FROM information_schema.key_column_usage "+
				"WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position", table)
		}
		if err != nil {
			t.Fatal(err)
		}
		return cols, pk
	}
	rows, err := s.r.Query("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	pkAt := map[int]string{}
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, name)
		if n > 0 {
			pkAt[n] = name
		}
	}
	for i := 1; i <= len(pkAt); i++ {
		pk = append(pk, pkAt[i])
	}
	return cols, pk
}

func TestSchemaMatchesSER(t *testing.T) { forEachEngine(t, testSchemaMatchesSER) }

func testSchemaMatchesSER(t *testing.T, e engine) {
	s, _ := e.open(t)
	for table, want := range serTables {
		t.Run(table, func(t *testing.T) {
			cols, pk := tableInfo(t, s, table)
			if !reflect.DeepEqual(cols, want.cols) {
				t.Errorf("columns\n got %v\nwant %v", cols, want.cols)
			}
			if !reflect.DeepEqual(pk, want.pk) {
				t.Errorf("primary key %v, want %v", pk, want.pk)
			}
		})
	}
}

func TestVersionTable(t *testing.T) { forEachEngine(t, testVersionTable) }

func testVersionTable(t *testing.T, e engine) {
	s, _ := e.open(t)
	got, err := s.TableVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"subscriber": 5, "reserved": 1, "phonebook": 1, "pending": 4, "missed_calls": 2, "location": 6,
		"grp": 2, "event": 1, "aliases": 6, "active_sessions": 1, "admin_privileges": 1, "speed_dial": 2,
		"acc": 2, "config": 1, "silo": 3, "realm": 1, "domain": 1, "uri": 1, "server_monitoring": 1,
		"server_monitoring_agg": 1, "trusted": 1, "usr_preferences": 2, "preferences_types": 1,
		"calls_forwarding": 1, "gw": 3, "gw_grp": 1, "lcr": 1, "gw_cap": 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("versions\n got %v\nwant %v", got, want)
	}
	if v, err := s.TableVersion(context.Background(), "location"); err != nil || v != 6 {
		t.Errorf("TableVersion(location) = %d, %v", v, err)
	}
	if _, err := s.TableVersion(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("TableVersion(nope) error = %v, want ErrNotFound", err)
	}
}

func TestFailingMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	bad := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n")},
		"0002_b.sql": {Data: []byte("CREATE TABLE b (y INT);\nINSERT INTO a VALUES (2);\n\nINSERT INTO missing VALUES (1);\n")},
	}
	_, err := Open(ctx, path, WithMigrations(bad), WithLogger(quiet))
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b.sql: line 4:") {
		t.Fatalf("Open with a bad migration = %v, want an error naming 0002_b.sql line 4", err)
	}
	good := fstest.MapFS{"0001_a.sql": bad["0001_a.sql"]}
	s, err := Open(ctx, path, WithMigrations(good), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.TableExists(ctx, "b"); ok {
		t.Error("table b of the failed migration exists")
	}
	var n int
	s.r.QueryRow("SELECT COUNT(*) FROM a").Scan(&n)
	if n != 1 {
		t.Errorf("table a has %d rows, want 1 (the failed migration's insert rolled back)", n)
	}
	if ms, _ := s.Migrations(ctx); len(ms) != 1 {
		t.Errorf("recorded migrations %+v, want only 0001", ms)
	}
	s.Close()

	fixed := fstest.MapFS{
		"0001_a.sql": bad["0001_a.sql"],
		"0002_b.sql": {Data: []byte("CREATE TABLE b (y INT);\nINSERT INTO a VALUES (2);\n")},
	}
	s, err = Open(ctx, path, WithMigrations(fixed), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.r.QueryRow("SELECT COUNT(*) FROM a").Scan(&n)
	if n != 2 {
		t.Errorf("table a has %d rows after the fixed migration, want 2 (0001 not re-run)", n)
	}
}

func TestBadMigrationFiles(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"bad name", fstest.MapFS{"create.sql": {Data: []byte("SELECT 1;")}}, "NNNN_description.sql"},
		{"duplicate version", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x INT);")}, "001_b.sql": {Data: []byte("CREATE TABLE b (x INT);")}}, "share version 1"},
		{"unchecked statement", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x INT);\nDROP TABLE a;")}}, "line 2: DROP statements are not allowed"},
		{"unchecked alter", fstest.MapFS{"0001_a.sql": {Data: []byte("ALTER TABLE a MODIFY x BIGINT;")}}, "ALTER statements are not allowed"},
		{"schema after data", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n\nCREATE INDEX a_x ON a (x);")}}, "line 4: schema statement after the data statement of line 2"},
		{"unknown token", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x {{NOPE}});")}}, "unknown token"},
		{"unterminated quote", fstest.MapFS{"0001_a.sql": {Data: []byte("INSERT INTO a VALUES ('x);")}}, "unterminated quote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), WithMigrations(tc.fs), WithLogger(quiet))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) { forEachEngine(t, testConcurrentOpenMigratesOnce) }

func testConcurrentOpenMigratesOnce(t *testing.T, e engine) {
	ctx := context.Background()
	url := e.newURL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*Store, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, url, WithLogger(quiet))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		defer stores[i].Close()
	}
	if ms, _ := stores[0].Migrations(ctx); len(ms) != migrationCount(t) {
		t.Errorf("migrations %+v", ms)
	}
}
