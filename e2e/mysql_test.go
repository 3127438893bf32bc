package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/store"
	"ser/internal/testing/mariadb"
)

// mysqlRegistrar is a registrar and stateless proxy whose usrloc keeps
// its contacts in MySQL: %[1]s is the db_url, %[2]d the db_mode. OPTIONS
// are answered statelessly without touching the database.
const mysqlRegistrar = `
debug=3
log_stderror=yes
children=4
alias="example.com"
loadmodule "modules/sl/sl.so"
loadmodule "modules/mysql/mysql.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_url", "%[1]s")
modparam("usrloc", "db_mode", %[2]d)
modparam("usrloc", "timer_interval", 3600)

route {
	if (method=="OPTIONS") {
		sl_send_reply("200", "Alive");
		break;
	};
	if (uri==myself) {
		if (method=="REGISTER") {
			save("location");
			break;
		};
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
	};
	forward(uri:host, uri:port);
}
`

// mysqlOpen opens a store on url for checking what ser wrote. It keeps
// plain-text passwords: the gateway script uses calculate_ha1.
func mysqlOpen(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.WithLogger(slog.New(slog.DiscardHandler)),
		store.WithPlaintextPasswords(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// optionsPing sends an OPTIONS from a new UA to srv and returns the
// reply's first line and how long it took.
func optionsPing(t *testing.T, srv *server, callID string) (string, time.Duration) {
	t.Helper()
	u := newUA(t)
	start := time.Now()
	u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:ping@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK%[3]s
Max-Forwards: 70
From: <sip:monitor@example.org>;tag=%[3]s
To: <sip:ping@%[1]s>
Call-ID: %[3]s
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), u.hostport(), callID))
	r, _ := u.recv()
	return firstLine(r), time.Since(start)
}

// TestMySQLUsrlocRestart runs a registrar with usrloc db_mode 1 on
// MariaDB, with SER's legacy sql:// URL and with mysql://: a registered
// phone and a permanent contact (ul_add) survive a restart of ser, the
// rows are in MariaDB, and calls reach them.
func TestMySQLUsrlocRestart(t *testing.T) {
	db := mariadb.Start(t)
	for _, tc := range []struct{ name, url string }{
		{"sql", db.SQLURL(mariadb.Database)}, // sql://ser:heslo@127.0.0.1:<port>/ser
		{"mysql", db.URL(db.NewDatabase(t))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fmt.Sprintf(mysqlRegistrar, tc.url, 1)
			alice, gw, bob := newUA(t), newUA(t), newUA(t)
			srv := startSer(t, cfg)
			if resp := register(alice, srv, "alice", 3600, "my-reg-alice", 1); !strings.HasPrefix(resp, "SIP/2.0 200") {
				t.Fatalf("REGISTER: %s", resp)
			}
			gwURI := "sip:gw@" + gw.hostport()
			if r := ulCmd(t, srv, "ul_add", "location", "gw", gwURI, "0", "1.00", "0", "128"); !strings.HasPrefix(r, "200 Added to table") {
				t.Fatalf("ul_add: %s", r)
			}
			srv.inst.Stop()

			rows := 0
			if err := mysqlOpen(t, tc.url).LoadContacts(context.Background(), "location", func(store.Contact) error { rows++; return nil }); err != nil || rows != 2 {
				t.Fatalf("location rows in MariaDB: %d, %v", rows, err)
			}

			srv = startSer(t, cfg)
			if r := ulCmd(t, srv, "ul_show_contact", "location", "alice"); !strings.HasPrefix(r, "200 OK\n<sip:alice@"+alice.hostport()+">;q=;expires=") {
				t.Fatalf("alice after restart: %q", r)
			}
			sendInvite(bob, srv.udpAddr(), "sip:alice@example.com", "my-call-alice")
			expectInvite(t, alice, "sip:alice@"+alice.hostport())
			sendInvite(bob, srv.udpAddr(), "sip:gw@example.com", "my-call-gw")
			expectInvite(t, gw, gwURI)
		})
	}
}

// TestMySQLSerctlAuth keeps all of ser's data on MariaDB (the db_url
// option: usrloc, auth and group use it): serctl adds a user with
// SER_DB_URL=mysql://…, the phone registers with digest authentication
// against the subscriber table there, serctl's acl grant is seen by
// is_user_in, and serctl showdb reads the contact usrloc wrote.
func TestMySQLSerctlAuth(t *testing.T) {
	db := mariadb.Start(t)
	dbURL := db.URL(mariadb.Database)
	bin := buildSerctl(t, t.TempDir())
	srv := startSer(t, serctlCfg, func(o *core.Options) { o.DBURL = dbURL })
	opts := srv.inst.Server.Options()
	sc := &serctlTool{t: t, bin: bin, env: []string{
		"SER_FIFO=" + opts.FIFO, "SER_FIFO_DIR=" + opts.FIFODir, "SER_DB_URL=" + dbURL,
		"SIP_DOMAIN=foo.bar", "SER_FIFO_TIMEOUT=20",
	}}
	sc.ok(`^new user added\n$`, "add", "newuser", "secret", "newuser@foo.bar")
	sc.fails("stderr", "ERROR: user already exists", "add", "newuser", "other", "x@foo.bar")
	u, err := mysqlOpen(t, dbURL).Subscriber(context.Background(), "newuser", "foo.bar")
	if err != nil || u.HA1 != "f9f7cf38559dc6c03aa216a18e6689a9" {
		t.Fatalf("subscriber in MariaDB: %+v, %v", u, err)
	}

	phone := newUA(t)
	r := authRegister(phone, srv, "newuser", "my-auth-1", 1, "")
	if !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("unauthenticated REGISTER: %s", firstLine(r))
	}
	ch := challengeIn(t, r)
	if r := authRegister(phone, srv, "newuser", "my-auth-1", 2, digestAnswer(t, ch, "newuser", "wrong", "REGISTER", "sip:"+srv.addr())); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("REGISTER with a wrong password: %s", firstLine(r))
	}
	if r := authRegister(phone, srv, "newuser", "my-auth-1", 3, digestAnswer(t, ch, "newuser", "secret", "REGISTER", "sip:"+srv.addr())); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("REGISTER with the password: %s", r)
	}
	sc.ok(`(?s)\| newuser@foo\.bar +\|.*\| newuser +\| +\| sip:newuser@`+strings.ReplaceAll(phone.hostport(), ".", `\.`), "showdb", "newuser")

	inGroup := func() string {
		u := newUA(t)
		u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:grp@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKmygrp%d
Max-Forwards: 70
From: <sip:newuser@foo.bar>;tag=g1
To: <sip:grp@%s>
Call-ID: my-grp-%d
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), u.hostport(), time.Now().UnixNano(), srv.addr(), time.Now().UnixNano()))
		r, _ := u.recv()
		return firstLine(r)
	}
	if got := inGroup(); got != "SIP/2.0 403 Not in int" {
		t.Fatalf("before grant: %s", got)
	}
	if r := sc.run("acl", "grant", "newuser", "int"); r.code != 0 {
		t.Fatalf("acl grant: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := inGroup(); got != "SIP/2.0 200 Member of int" {
		t.Errorf("after grant: %s", got)
	}
}

// TestMySQLGatewayACL runs the admin guide's gateway access-control
// script (testdata/cfg/gateway_acl.cfg) with its db_url
// "sql://ser:heslo@localhost/ser" unchanged: as with SER's MySQL client,
// host "localhost" without a port is the server's Unix socket, which
// MYSQL_UNIX_PORT points at the test server's. Only the gateway's
// address is replaced (by a Go UA).
func TestMySQLGatewayACL(t *testing.T) {
	db := mariadb.Start(t)
	t.Setenv("MYSQL_UNIX_PORT", db.Socket)
	const dbURL = "sql://ser:heslo@localhost/ser"
	st := mysqlOpen(t, dbURL)
	ctx := context.Background()
	for _, u := range [][2]string{{"alice", "alicepw"}, {"bob", "bobpw"}} {
		if err := st.AddSubscriber(ctx, store.Subscriber{Username: u[0], Domain: "foo.bar", Password: u[1]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range [][2]string{{"alice", "int"}, {"bob", "local"}, {"0800111", "free-pstn"}} {
		if err := st.Grant(ctx, g[0], "foo.bar", g[1]); err != nil {
			t.Fatal(err)
		}
	}

	gw, caller := newUA(t), newUA(t)
	cfg := readCfg(t, "gateway_acl.cfg")
	if !strings.Contains(cfg, `modparam("auth", "db_url","`+dbURL+`")`) {
		t.Fatalf("gateway_acl.cfg does not name %s", dbURL)
	}
	cfg = strings.Replace(cfg, `rewritehostport("192.168.0.10:5060")`, `rewritehostport("`+gw.hostport()+`")`, 1)
	// No group module is loaded: is_user_in and is_in_group are SER
	// 0.8's auth functions and use auth's db_url.
	srv := startSer(t, cfg)

	r := sendRecv(caller, srv, gwInvite(caller, srv, "000123", "my-gw-1", 1, ""), "407")
	ch := challengeIn(t, r)
	uri := "sip:000123@" + srv.addr()
	creds := func(user, pw string) string { return "Proxy-" + digestAnswer(t, ch, user, pw, "INVITE", uri) }
	sendRecv(caller, srv, gwInvite(caller, srv, "000123", "my-gw-1", 2, creds("alice", "guess")), "407")
	r = sendRecv(caller, srv, gwInvite(caller, srv, "000123", "my-gw-2", 1, creds("bob", "bobpw")), "403")
	if !strings.Contains(firstLine(r), "International permissions needed") {
		t.Fatalf("bob calling 000123: %s", firstLine(r))
	}
	// A nonce without qop answers one request: a fresh challenge for the
	// next.
	ch = challengeIn(t, sendRecv(caller, srv, gwInvite(caller, srv, "000123", "my-gw-3c", 1, ""), "407"))
	gwCall(t, caller, gw, srv, gwInvite(caller, srv, "000123", "my-gw-3", 1, creds("alice", "alicepw")), "000123")
	gwCall(t, caller, gw, srv, gwInvite(caller, srv, "0800111", "my-gw-4", 1, ""), "0800111")
}

// TestMySQLOutage runs a registrar with usrloc db_mode 3 (every REGISTER
// and lookup in MariaDB) and takes the database away under it: REGISTERs
// get 500 at once with a log line naming the database, OPTIONS (no
// database needed) are still answered, and once the database is back
// registrations and calls work again without restarting ser. A database
// that hangs instead (SIGSTOP) fails REGISTERs after the URL's
// readTimeout.
func TestMySQLOutage(t *testing.T) {
	db := mariadb.Start(t)
	url := db.URL(mariadb.Database) + "?readTimeout=1s&writeTimeout=1s"
	srv := startSer(t, fmt.Sprintf(mysqlRegistrar, url, 3))
	alice, bob := newUA(t), newUA(t)
	if resp := register(alice, srv, "alice", 3600, "my-out-reg", 1); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER: %s", resp)
	}

	db.Kill()
	start := time.Now()
	if resp := register(alice, srv, "alice", 3600, "my-out-reg", 2); !strings.HasPrefix(resp, "SIP/2.0 500") {
		t.Fatalf("REGISTER with the database down: %s", resp)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the 500 took %v", d)
	}
	if line, d := optionsPing(t, srv, "my-out-ping-1"); line != "SIP/2.0 200 Alive" || d > time.Second {
		t.Errorf("OPTIONS with the database down: %q after %v", line, d)
	}
	sendInvite(bob, srv.udpAddr(), "sip:alice@example.com", "my-out-call-1")
	if r, _ := bob.recv(); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Errorf("INVITE with the database down (lookup fails): %s", firstLine(r))
	}
	if log := srv.log.String(); !strings.Contains(log, "REGISTER failed (500)") ||
		!strings.Contains(log, fmt.Sprintf("cannot connect to mysql ser@%s/ser", db.Addr())) {
		t.Errorf("no clear log line for the outage:\n%s", log)
	}

	db.Restart(t)
	if resp := register(alice, srv, "alice", 3600, "my-out-reg", 3); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER after the database came back: %s", resp)
	}
	sendInvite(bob, srv.udpAddr(), "sip:alice@example.com", "my-out-call-2")
	expectInvite(t, alice, "sip:alice@"+alice.hostport())

	// A hung database: the REGISTER fails after readTimeout (1 s).
	db.Pause()
	start = time.Now()
	resp := register(alice, srv, "alice", 3600, "my-out-reg", 4)
	if !strings.HasPrefix(resp, "SIP/2.0 500") {
		t.Errorf("REGISTER with the database hung: %s", firstLine(resp))
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the 500 with the database hung took %v", d)
	}
	db.Resume()
	if resp := register(alice, srv, "alice", 3600, "my-out-reg", 5); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER after the database resumed: %s", resp)
	}
}
