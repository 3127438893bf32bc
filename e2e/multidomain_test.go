package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ser/core/store"
)

// multidomainCfg serves the domains of the domain table (cached): every
// module keys users by user@domain (use_domain), the digest realm is the
// request's domain, REGISTERs and calls to a domain that is not local are
// refused, calls from a local domain to a foreign one are refused with
// another text, OPTIONS to ld@<domain> answers whether the caller is
// in group ld, and a request for a user the domain does not have gets
// uri_db's does_uri_exist answer before lookup.
func multidomainCfg(dbURL string) string {
	return fmt.Sprintf(`
fifo="/tmp/ser_fifo"
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/auth/auth.so"
loadmodule "modules/auth_db/auth_db.so"
loadmodule "modules/group/group.so"
loadmodule "modules/domain/domain.so"
loadmodule "modules/uri_db/uri_db.so"

modparam("domain", "db_url", "%[1]s")
modparam("domain", "db_mode", 1)
modparam("auth_db", "db_url", "%[1]s")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "use_domain", 1)
modparam("group", "db_url", "%[1]s")
modparam("group", "use_domain", 1)
modparam("usrloc", "db_url", "%[1]s")
modparam("usrloc", "db_mode", 1)
modparam("usrloc", "use_domain", 1)
modparam("registrar", "use_domain", 1)
modparam("uri_db", "db_url", "%[1]s")
modparam("uri_db", "use_domain", 1)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (!is_uri_host_local()) {
		if (is_from_local()) {
			sl_send_reply("403", "Local caller, foreign domain");
			break;
		};
		sl_send_reply("403", "Not a local domain");
		break;
	};
	if (method=="REGISTER") {
		if (!www_authorize("", "subscriber")) {
			www_challenge("", "0");
			break;
		};
		save("location");
		break;
	};
	if (method=="OPTIONS" && uri=~"^sip:ld@") {
		if (is_user_in("From", "ld")) {
			sl_send_reply("200", "Member of ld");
		} else {
			sl_send_reply("403", "Not in ld");
		};
		break;
	};
	if (!does_uri_exist()) {
		sl_send_reply("404", "User does not exist");
		break;
	};
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		break;
	};
	t_relay();
}
`, dbURL)
}

// TestMultidomain: alice@a.example and alice@b.example are two users with
// their own passwords, registrations and groups on one server serving
// a.example and b.example from the domain table; c.example is foreign
// until it is added and domain_reload runs.
func TestMultidomain(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "md.db")
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range []store.Subscriber{
		{Username: "alice", Domain: "a.example", Password: "alice-a"},
		{Username: "alice", Domain: "b.example", Password: "alice-b"},
		{Username: "bob", Domain: "b.example", Password: "bob-b"},
	} {
		if err := st.AddSubscriber(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"a.example", "b.example"} {
		if err := st.AddDomain(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Grant(ctx, "alice", "a.example", "ld"); err != nil {
		t.Fatal(err)
	}
	srv := startSer(t, multidomainCfg(dbURL))
	ua1, ua2, bob := newUA(t), newUA(t), newUA(t)

	seq := 0
	request := func(u *ua, method, ruri, from, to, extra string) string {
		seq++
		if extra != "" {
			extra += "\n"
		}
		u.send(srv.udpAddr(), fmt.Sprintf(`%[1]s %[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=z9hG4bKmd%[6]d;rport
Max-Forwards: 70
From: <%[4]s>;tag=md%[6]d
To: <%[5]s>
Call-ID: md-%[6]d@test
CSeq: %[6]d %[1]s
Contact: <sip:x@%[3]s>
%[7]sContent-Length: 0

`, method, ruri, u.hostport(), from, to, seq, extra))
		r, _ := u.recvFor("SIP/2.0")
		return r
	}
	// register makes u alice/bob@domain with password; it returns the
	// final status line.
	register := func(u *ua, user, domain, password string) string {
		aor := "sip:" + user + "@" + domain
		r := request(u, "REGISTER", "sip:"+domain, aor, aor, "Expires: 600")
		if !strings.HasPrefix(r, "SIP/2.0 401 ") {
			return firstLine(r)
		}
		ch := challengeIn(t, r)
		if !strings.Contains(ch, `realm="`+domain+`"`) {
			t.Errorf("challenge for %s: %s", domain, ch)
		}
		return firstLine(request(u, "REGISTER", "sip:"+domain, aor, aor,
			"Expires: 600\n"+digestAnswer(t, ch, user, password, "REGISTER", "sip:"+domain)))
	}

	// Two users called alice, one per domain, each with its password.
	if got := register(ua1, "alice", "a.example", "alice-a"); got != "SIP/2.0 200 OK" {
		t.Fatalf("alice@a.example: %s", got)
	}
	if got := register(ua2, "alice", "b.example", "alice-a"); !strings.HasPrefix(got, "SIP/2.0 401 ") {
		t.Errorf("alice@b.example with a.example's password: %s", got)
	}
	if got := register(ua2, "alice", "b.example", "alice-b"); got != "SIP/2.0 200 OK" {
		t.Fatalf("alice@b.example: %s", got)
	}
	if got := register(bob, "bob", "a.example", "bob-b"); !strings.HasPrefix(got, "SIP/2.0 401 ") {
		t.Errorf("bob@a.example (no such user): %s", got)
	}
	// A REGISTER for a domain the server does not serve.
	if got := register(bob, "bob", "c.example", "bob-b"); got != "SIP/2.0 403 Not a local domain" {
		t.Errorf("REGISTER to c.example: %s", got)
	}

	// Each alice's registration in its own location row.
	var rows []string
	for _, d := range []string{"a.example", "b.example"} {
		cs, err := st.Contacts(ctx, "location", "alice", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			rows = append(rows, c.Username+"@"+c.Domain+" "+c.Contact)
		}
	}
	if want := []string{"alice@a.example sip:x@" + ua1.hostport(), "alice@b.example sip:x@" + ua2.hostport()}; !slices.Equal(rows, want) {
		t.Errorf("location rows = %q, want %q", rows, want)
	}

	// Lookups per domain: a MESSAGE to alice@a.example reaches ua1, to
	// alice@b.example ua2.
	for _, c := range []struct {
		to   string
		dest *ua
	}{{"sip:alice@a.example", ua1}, {"sip:alice@b.example", ua2}} {
		seq++
		bob.send(srv.udpAddr(), fmt.Sprintf(`MESSAGE %[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKmdm%[3]d;rport
Max-Forwards: 70
From: <sip:bob@b.example>;tag=m%[3]d
To: <%[1]s>
Call-ID: md-msg-%[3]d@test
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: 5

hello`, c.to, bob.hostport(), seq))
		m, _ := c.dest.recvFor("MESSAGE")
		if !strings.Contains(m, "To: <"+c.to+">") {
			t.Errorf("MESSAGE for %s arrived as\n%s", c.to, m)
		}
		c.dest.send(srv.udpAddr(), replyTo(m, "200 OK", "tag=uas"))
		if r, _ := bob.recvFor("SIP/2.0"); firstLine(r) != "SIP/2.0 200 OK" {
			t.Errorf("MESSAGE to %s: %s", c.to, firstLine(r))
		}
	}

	// does_uri_exist (uri_db, use_domain): bob is a user of b.example
	// only — registered nowhere, so lookup would fail in both domains.
	if r := request(ua1, "MESSAGE", "sip:bob@a.example", "sip:alice@a.example", "sip:bob@a.example", ""); firstLine(r) != "SIP/2.0 404 User does not exist" {
		t.Errorf("bob@a.example: %s", firstLine(r))
	}
	if r := request(ua1, "MESSAGE", "sip:bob@b.example", "sip:alice@a.example", "sip:bob@b.example", ""); firstLine(r) != "SIP/2.0 404 Not Found" {
		t.Errorf("bob@b.example (a user, not registered): %s", firstLine(r))
	}

	// Groups per domain: alice@a.example is in ld, alice@b.example not.
	if r := request(bob, "OPTIONS", "sip:ld@a.example", "sip:alice@a.example", "sip:ld@a.example", ""); firstLine(r) != "SIP/2.0 200 Member of ld" {
		t.Errorf("alice@a.example in ld: %s", firstLine(r))
	}
	if r := request(bob, "OPTIONS", "sip:ld@b.example", "sip:alice@b.example", "sip:ld@b.example", ""); firstLine(r) != "SIP/2.0 403 Not in ld" {
		t.Errorf("alice@b.example in ld: %s", firstLine(r))
	}

	// is_uri_host_local / is_from_local decide local and foreign.
	if r := request(bob, "MESSAGE", "sip:carol@c.example", "sip:bob@b.example", "sip:carol@c.example", ""); firstLine(r) != "SIP/2.0 403 Local caller, foreign domain" {
		t.Errorf("local caller to c.example: %s", firstLine(r))
	}
	if r := request(bob, "MESSAGE", "sip:carol@c.example", "sip:mallory@d.example", "sip:carol@c.example", ""); firstLine(r) != "SIP/2.0 403 Not a local domain" {
		t.Errorf("foreign caller to c.example: %s", firstLine(r))
	}
	// serctl domain add c.example: the row, then domain_reload over
	// the FIFO; c.example is local from then on.
	opts := srv.inst.Server.Options()
	sc := &serctlTool{t: t, bin: buildSerctl(t, t.TempDir()), env: []string{
		"SER_FIFO=" + opts.FIFO, "SER_FIFO_DIR=" + opts.FIFODir, "SER_DB_URL=" + dbURL,
	}}
	sc.ok(`^$`, "domain", "add", "c.example")
	if got := sc.ok(`.`, "domain", "show"); got != "  93 a.example\n  94 b.example\n  95 c.example\n" {
		t.Errorf("serctl domain show: %q", got)
	}
	if got := fifoCmd(t, srv, "domain_dump"); got != "200 OK\n  93 a.example\n  94 b.example\n  95 c.example\n" {
		t.Errorf("domain_dump: %q", got)
	}
	if r := request(bob, "MESSAGE", "sip:carol@c.example", "sip:bob@b.example", "sip:carol@c.example", ""); firstLine(r) != "SIP/2.0 404 User does not exist" {
		t.Errorf("c.example after domain_reload: %s", firstLine(r))
	}
	// serctl domain rm c.example: foreign again.
	sc.ok(`^$`, "domain", "rm", "c.example")
	if r := request(bob, "MESSAGE", "sip:carol@c.example", "sip:bob@b.example", "sip:carol@c.example", ""); firstLine(r) != "SIP/2.0 403 Local caller, foreign domain" {
		t.Errorf("c.example after serctl domain rm: %s", firstLine(r))
	}
}
