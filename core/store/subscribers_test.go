package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestHA1(t *testing.T) {
	// md5("alice:example.com:secret") and md5("alice@example.com:example.com:secret").
	if got := HA1("alice", "example.com", "secret"); got != "b1726872c344b6dc8365b774f8fd6412" {
		t.Errorf("HA1 = %s", got)
	}
	if got := HA1B("alice", "example.com", "example.com", "secret"); got != "c79656e4f06dbae9fdf6727654273c65" {
		t.Errorf("HA1B = %s", got)
	}
}

func TestAddSubscriber(t *testing.T) { forEachEngine(t, testAddSubscriber) }

func testAddSubscriber(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "secret",
		Email: "alice@example.com", FirstName: "Alice", RPID: "sip:+431234@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Subscriber(ctx, "alice", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.HA1 != "b1726872c344b6dc8365b774f8fd6412" || u.HA1B != "c79656e4f06dbae9fdf6727654273c65" {
		t.Errorf("credentials %s %s", u.HA1, u.HA1B)
	}
	if u.Password != "" || u.Email != "alice@example.com" || u.FirstName != "Alice" || u.Flag != "o" ||
		u.RPID != "sip:+431234@example.com" || u.Timezone != "" || u.AllowFind || u.Domn.Valid {
		t.Errorf("subscriber %+v", u)
	}
	if len(u.PHPLibID) != 32 || !u.Created.Equal(t0) || !u.Modified.Equal(t0) {
		t.Errorf("phplib_id %q created %v modified %v", u.PHPLibID, u.Created, u.Modified)
	}
	// serctl add also inserts the uri row.
	if uris, err := s.URIs(ctx, "alice", "example.com"); err != nil || len(uris) != 1 || uris[0] != "alice" {
		t.Errorf("URIs = %v, %v", uris, err)
	}
	var tz any
	s.r.QueryRow("SELECT timezone FROM subscriber WHERE username = 'alice'").Scan(&tz)
	if tz != nil {
		t.Errorf("empty timezone stored as %v, want NULL", tz)
	}
	if byID, err := s.SubscriberByPHPLibID(ctx, u.PHPLibID); err != nil || byID.Username != "alice" {
		t.Errorf("SubscriberByPHPLibID = %+v, %v", byID, err)
	}

	tests := []struct {
		name string
		u    Subscriber
		err  error
	}{
		{"duplicate", Subscriber{Username: "alice", Domain: "example.com", Password: "x"}, ErrExists},
		{"duplicate phplib_id", Subscriber{Username: "bob", Domain: "example.com", PHPLibID: u.PHPLibID}, ErrExists},
		{"other domain", Subscriber{Username: "alice", Domain: "example.org", Password: "x"}, nil},
		{"no username", Subscriber{Domain: "example.com"}, ErrInvalid},
		{"long password", Subscriber{Username: "carol", Domain: "example.com", Password: strings.Repeat("p", 26)}, ErrInvalid},
		{"long username", Subscriber{Username: strings.Repeat("u", 65), Domain: "example.com"}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.AddSubscriber(ctx, tc.u); !errors.Is(err, tc.err) {
				t.Errorf("AddSubscriber error = %v, want %v", err, tc.err)
			}
		})
	}
	if _, err := s.Subscriber(ctx, "nobody", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Subscriber(nobody) error = %v, want ErrNotFound", err)
	}
}

func TestPlaintextPasswords(t *testing.T) { forEachEngine(t, testPlaintextPasswords) }

// testPlaintextPasswords: by default the password column stays empty (the
// hashes are stored); WithPlaintextPasswords keeps SER's old behaviour; a
// password change without the option empties an old plain-text password.
func testPlaintextPasswords(t *testing.T, e engine) {
	ctx := context.Background()
	url := e.newURL(t)
	plain := e.openURL(t, url, WithPlaintextPasswords(true))
	if err := plain.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.BootstrapAdmin(ctx, Subscriber{Username: "admin", Domain: "example.com", Password: "one-time"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for user, pw := range map[string]string{"alice": "secret", "admin": "one-time"} {
		if u, err := plain.Subscriber(ctx, user, "example.com"); err != nil || u.Password != pw || u.HA1 != HA1(user, "example.com", pw) {
			t.Errorf("with plain-text passwords: %+v, %v", u, err)
		}
	}
	if err := plain.SetPassword(ctx, "alice", "example.com", "n3w"); err != nil {
		t.Fatal(err)
	}
	if u, _ := plain.Subscriber(ctx, "alice", "example.com"); u.Password != "n3w" {
		t.Errorf("plain-text password after SetPassword = %q", u.Password)
	}
	hashed := e.openURL(t, url)
	if err := hashed.SetPassword(ctx, "alice", "example.com", "n4w"); err != nil {
		t.Fatal(err)
	}
	if u, _ := hashed.Subscriber(ctx, "alice", "example.com"); u.Password != "" || u.HA1 != HA1("alice", "example.com", "n4w") {
		t.Errorf("after SetPassword without plain-text passwords: %+v", u)
	}
	if _, err := hashed.BootstrapAdmin(ctx, Subscriber{Username: "admin2", Domain: "example.com", Password: "x"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := hashed.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM subscriber WHERE password <> ''").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows with a plain-text password = %d, %v; want 1 (admin, created with the option)", n, err)
	}
}

func TestUpdateSubscriberAndPassword(t *testing.T) { forEachEngine(t, testUpdateSubscriberAndPassword) }

func testUpdateSubscriberAndPassword(t *testing.T, e engine) {
	ctx := context.Background()
	s, c := e.open(t)
	if err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Hour))
	u, _ := s.Subscriber(ctx, "alice", "example.com")
	u.LastName, u.AllowFind, u.Timezone, u.Password = "Liddell", true, "Europe/Vienna", "ignored"
	u.Domn.Int64, u.Domn.Valid = 7, true
	if err := s.UpdateSubscriber(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Subscriber(ctx, "alice", "example.com")
	if got.LastName != "Liddell" || !got.AllowFind || got.Timezone != "Europe/Vienna" || got.Domn.Int64 != 7 ||
		got.Password != "" || !got.Modified.Equal(t0.Add(time.Hour)) || !got.Created.Equal(t0) {
		t.Errorf("after update %+v", got)
	}
	if err := s.SetPassword(ctx, "alice", "example.com", "n3w"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Subscriber(ctx, "alice", "example.com")
	if got.Password != "" || got.HA1 != HA1("alice", "example.com", "n3w") ||
		got.HA1B != HA1B("alice", "example.com", "example.com", "n3w") {
		t.Errorf("after passwd %+v", got)
	}
	if err := s.SetRPID(ctx, "alice", "example.com", "sip:1@x"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRPID(ctx, "alice", "example.com", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Subscriber(ctx, "alice", "example.com"); got.RPID != "" {
		t.Errorf("rpid %q after clearing", got.RPID)
	}
	for name, err := range map[string]error{
		"update":   s.UpdateSubscriber(ctx, Subscriber{Username: "bob", Domain: "example.com"}),
		"password": s.SetPassword(ctx, "bob", "example.com", "x"),
		"rpid":     s.SetRPID(ctx, "bob", "example.com", "x"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of unknown user: %v, want ErrNotFound", name, err)
		}
	}
}

// seedUser adds alice with a group, an extra uri and a privilege.
func seedUser(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Grant(ctx, "alice", "example.com", "ld"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddURI(ctx, "alice", "example.com", "0431"); err != nil {
		t.Fatal(err)
	}
	if err := s.GrantPrivilege(ctx, "alice", "example.com", PrivIsAdmin, "1"); err != nil {
		t.Fatal(err)
	}
}

// rowCounts counts alice's rows in the tables DeleteSubscriber touches.
func rowCounts(t *testing.T, s *Store) string {
	t.Helper()
	var out []string
	for _, table := range []string{"subscriber", "uri", "grp", "admin_privileges"} {
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM " + table + " WHERE username = 'alice'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

func TestDeleteSubscriber(t *testing.T) { forEachEngine(t, testDeleteSubscriber) }

func testDeleteSubscriber(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	seedUser(t, s)
	if got := rowCounts(t, s); got != "subscriber=1 uri=2 grp=1 admin_privileges=1" {
		t.Fatalf("seeded %s", got)
	}
	if err := s.DeleteSubscriber(ctx, "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
	if got := rowCounts(t, s); got != "subscriber=0 uri=0 grp=0 admin_privileges=0" {
		t.Errorf("after delete %s", got)
	}
	if err := s.DeleteSubscriber(ctx, "alice", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestDeleteSubscriberRollsBack(t *testing.T) { forEachEngine(t, testDeleteSubscriberRollsBack) }

func testDeleteSubscriberRollsBack(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	seedUser(t, s)
	// Inject a failure into the last statement of the transaction: the
	// subscriber, uri and grp deletions before it must be undone.
	failTrigger(t, s, "fail_priv", "BEFORE DELETE", "admin_privileges", "")
	err := s.DeleteSubscriber(ctx, "alice", "example.com")
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("DeleteSubscriber = %v, want the injected failure", err)
	}
	if got := rowCounts(t, s); got != "subscriber=1 uri=2 grp=1 admin_privileges=1" {
		t.Errorf("after failed delete %s, want everything kept", got)
	}
	// The write connection is usable again.
	mustExec(t, s, "DROP TRIGGER fail_priv")
	if err := s.DeleteSubscriber(ctx, "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
}

func TestAddSubscriberRollsBack(t *testing.T) { forEachEngine(t, testAddSubscriberRollsBack) }

func testAddSubscriberRollsBack(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	failTrigger(t, s, "fail_uri", "BEFORE INSERT", "uri", "")
	if err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com"}); err == nil {
		t.Fatal("AddSubscriber succeeded despite the failing uri insert")
	}
	if _, err := s.Subscriber(ctx, "alice", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("subscriber row survived the rollback: %v", err)
	}
}

func TestListSubscribers(t *testing.T) { forEachEngine(t, testListSubscribers) }

func testListSubscribers(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	for i := range 25 {
		dom := "a.example"
		if i%5 == 0 {
			dom = "b.example"
		}
		u := Subscriber{Username: fmt.Sprintf("user%02d", i), Domain: dom, Email: fmt.Sprintf("u%d@mail.example", i),
			AllowFind: i%2 == 0}
		if i == 7 {
			u.LastName = "O'Brien_100%"
		}
		if err := s.AddSubscriber(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(us []Subscriber) string {
		var out []string
		for _, u := range us {
			out = append(out, u.Username)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name  string
		f     SubscriberFilter
		want  string
		total int
	}{
		{"first page", SubscriberFilter{Page: Page{Limit: 3}}, "user01,user02,user03", 25},
		{"second page", SubscriberFilter{Page: Page{Limit: 3, Offset: 3}}, "user04,user06,user07", 25},
		{"offset only", SubscriberFilter{Page: Page{Offset: 23}}, "user15,user20", 25},
		{"domain", SubscriberFilter{Domain: "b.example"}, "user00,user05,user10,user15,user20", 5},
		{"search user", SubscriberFilter{Search: "USER1", Page: Page{Limit: 2}}, "user11,user12", 10},
		{"search mail", SubscriberFilter{Search: "u24@"}, "user24", 1},
		{"search wildcard literal", SubscriberFilter{Search: "n_100%"}, "user07", 1},
		{"search underscore is literal", SubscriberFilter{Search: "user_1"}, "", 0},
		{"allow find", SubscriberFilter{Domain: "b.example", AllowFindOnly: true}, "user00,user10,user20", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us, total, err := s.ListSubscribers(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if names(us) != tc.want || total != tc.total {
				t.Errorf("got %s (total %d), want %s (total %d)", names(us), total, tc.want, tc.total)
			}
		})
	}
}

func TestCredentials(t *testing.T) { forEachEngine(t, testCredentials) }

func testCredentials(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t, WithPlaintextPasswords(true)) // calculate_ha1 reads the password column
	if err := s.AddSubscriber(ctx, Subscriber{Username: "alice", Domain: "example.com", Password: "secret", RPID: "sip:1@x", Email: "a@mail.example"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSubscriber(ctx, Subscriber{Username: "bob", Domain: "example.org", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    CredentialsQuery
		want string
		err  error
	}{
		{"ha1 columns", CredentialsQuery{Username: "alice", Domain: "example.com", UseDomain: true, Columns: []string{"ha1", "ha1b"}},
			HA1("alice", "example.com", "secret") + " " + HA1B("alice", "example.com", "example.com", "secret"), nil},
		{"plain password and rpid", CredentialsQuery{Table: "subscriber", Username: "alice", Columns: []string{"password", "rpid"}}, "secret sip:1@x", nil},
		{"null reads empty", CredentialsQuery{Username: "bob", Columns: []string{"password", "rpid"}}, "pw ", nil},
		{"wrong domain", CredentialsQuery{Username: "bob", Domain: "example.com", UseDomain: true, Columns: []string{"ha1"}}, "", ErrNotFound},
		{"domain ignored", CredentialsQuery{Username: "bob", Domain: "example.com", Columns: []string{"password"}}, "pw", nil},
		{"custom columns", CredentialsQuery{Table: "subscriber", UserColumn: "email_address", DomainColumn: "domain", Username: "a@mail.example", Columns: []string{"username"}}, "alice", nil},
		{"unknown user", CredentialsQuery{Username: "eve", Columns: []string{"ha1"}}, "", ErrNotFound},
		{"bad table", CredentialsQuery{Table: "subscriber;--", Username: "alice", Columns: []string{"ha1"}}, "", ErrInvalid},
		{"bad column", CredentialsQuery{Username: "alice", Columns: []string{"ha1 FROM x"}}, "", ErrInvalid},
		{"no columns", CredentialsQuery{Username: "alice"}, "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Credentials(ctx, tc.q)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestPurgeSubscriber(t *testing.T) { forEachEngine(t, testPurgeSubscriber) }

func testPurgeSubscriber(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	seed := func() {
		t.Helper()
		for _, u := range []string{"alice", "bob"} {
			if err := s.AddSubscriber(ctx, Subscriber{Username: u, Domain: "example.com", Password: "pw"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Grant(ctx, u, "example.com", "ld"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddPhonebookEntry(ctx, PhonebookEntry{Username: u, Domain: "example.com", SIPURI: "sip:x@y.z"}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetPreference(ctx, Preference{Username: u, Domain: "example.com", Attribute: "a", Value: "1"}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetSpeedDial(ctx, SpeedDial{Username: u, Domain: "example.com", SDUsername: "1", SDDomain: "example.com", NewURI: "sip:x@y.z"}); err != nil {
				t.Fatal(err)
			}
			if err := s.InsertAcc(ctx, "acc", AccRecord{Username: u, Domain: "example.com", Method: "INVITE"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.GrantPrivilege(ctx, "alice", "example.com", PrivIsAdmin, "1"); err != nil {
			t.Fatal(err)
		}
	}
	seed()
	tables := []string{"subscriber", "uri", "grp", "admin_privileges", "phonebook", "usr_preferences", "speed_dial", "acc"}
	// A failure in the last statement undoes everything.
	failTrigger(t, s, "fail_event", "BEFORE DELETE", "event", "")
	mustExec(t, s, "INSERT INTO event (username, domain, uri, description) VALUES ('alice', 'example.com', 'sip:a@b', 'x')")
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("PurgeSubscriber = %v, want the injected failure", err)
	}
	want := "subscriber=2 uri=2 grp=2 admin_privileges=1 phonebook=2 usr_preferences=2 speed_dial=2 acc=2"
	if got := countRows(t, s, tables...); got != want {
		t.Errorf("after failed purge %s, want %s", got, want)
	}
	mustExec(t, s, "DROP TRIGGER fail_event")
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); err != nil {
		t.Fatal(err)
	}
	want = "subscriber=1 uri=1 grp=1 admin_privileges=0 phonebook=1 usr_preferences=1 speed_dial=1 acc=2"
	if got := countRows(t, s, tables...); got != want {
		t.Errorf("after purge %s, want %s (bob kept, accounting kept)", got, want)
	}
	if err := s.PurgeSubscriber(ctx, "alice", "example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second purge: %v", err)
	}
}
