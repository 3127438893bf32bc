package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/modules/auth"
	"ser/core/modules/usrloc"
	"ser/core/store"
	"ser/internal/testing/testutil"
)

// authSecret is the digest secret shared by the test servers (the admin
// guide's replication script's).
const authSecret = "alsdkhglaksdhfkloiwr"

// authDB creates an SQLite database with the test subscribers and groups
// and returns its URL. Subscribers are in domain foo.bar (serctl's
// SIP_DOMAIN); alice is in local, ld and int, bob only in local, and the
// PSTN number 0800111 is a free-pstn destination.
func authDB(t *testing.T) string {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
	ctx := context.Background()
	// The configs use calculate_ha1, which reads SER's plain-text column.
	st, err := store.Open(ctx, url, store.WithLogger(slog.New(slog.DiscardHandler)), store.WithPlaintextPasswords(true))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range [][2]string{{"alice", "alicepw"}, {"bob", "bobpw"}, {"service", "servicepw"}} {
		if err := st.AddSubscriber(ctx, store.Subscriber{Username: u[0], Domain: "foo.bar", Password: u[1]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range [][2]string{{"alice", "local"}, {"alice", "ld"}, {"alice", "int"}, {"bob", "local"}, {"0800111", "free-pstn"}} {
		if err := st.Grant(ctx, g[0], "foo.bar", g[1]); err != nil {
			t.Fatal(err)
		}
	}
	return url
}

// authProxyCfg is a registrar and record-routing proxy that authenticates
// REGISTERs with www_authorize (the default script's commented part plus
// Granig's check_to) and other requests with <kind>_authorize (kind "www"
// or "proxy"); the realm is taken from the request (""), HA1 is
// calculated from the password column. OPTIONS to the server itself is
// answered 200 once authenticated.
func authProxyCfg(dbURL, kind, qop string) string {
	return fmt.Sprintf(`
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/rr/rr.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/auth/auth.so"

modparam("auth", "db_url", "%[1]s")
modparam("auth", "secret", "%[2]s")
modparam("auth", "calculate_ha1", yes)
modparam("auth", "password_column", "password")

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (loose_route()) {
		t_relay();
		break;
	};
	if (method=="ACK") {
		# the ACK of a stateless 407 has nowhere to go
		if (uri!=myself) { t_relay(); };
		break;
	};
	if (method=="REGISTER") {
		if (!www_authorize("", "subscriber")) {
			www_challenge("", "%[4]s");
			break;
		};
		if (!check_to()) {
			sl_send_reply("403", "Use To=username next time");
			break;
		};
		consume_credentials();
		save("location");
		break;
	};
	if (!%[3]s_authorize("", "subscriber")) {
		%[3]s_challenge("", "%[4]s");
		break;
	};
	consume_credentials();
	if (uri==myself) {
		if (method=="OPTIONS" && uri=~"^sip:options@") {
			sl_send_reply("200", "Authenticated");
			break;
		};
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
	};
	record_route();
	if (!t_relay()) {
		sl_reply_error();
	};
}
`, dbURL, authSecret, kind, qop)
}

// digestAnswer computes the header line answering a challenge line
// ("WWW-Authenticate: Digest realm=…, nonce=…") for user/password, as a
// client would (qop auth when offered).
func digestAnswer(t *testing.T, challenge, user, password, method, uri string) string {
	t.Helper()
	c, err := auth.ParseCredentials(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	hdr := "Authorization"
	if c.QOP != "" || strings.Contains(challenge, `qop="auth"`) {
		c.QOP, c.NC, c.CNonce = "auth", "00000001", "e2ecnonce"
	}
	c.Username, c.URI = user, uri
	resp := auth.ExpectedResponse(auth.HA1(user, c.Realm, password), c, method, nil)
	line := fmt.Sprintf(`%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5`,
		hdr, user, c.Realm, c.Nonce, uri, resp)
	if c.QOP != "" {
		line += fmt.Sprintf(`, qop=auth, nc=%s, cnonce="%s"`, c.NC, c.CNonce)
	}
	return line
}

// challengeIn returns the WWW-/Proxy-Authenticate value of a reply.
func challengeIn(t *testing.T, reply string) string {
	t.Helper()
	for _, h := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		if v := header(reply, h); v != "" {
			return v
		}
	}
	t.Fatalf("no challenge in\n%s", reply)
	return ""
}

// authRegister sends a REGISTER for user from u (contact u) to srv with
// the given extra header line and returns the reply.
func authRegister(u *ua, srv *server, user, callID string, cseq int, extra string) string {
	u.t.Helper()
	if extra != "" {
		extra += "\n"
	}
	u.send(srv.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKar%[4]s%[5]d;rport
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=ar%[5]d
To: <sip:%[3]s@%[1]s>
Call-ID: %[4]s
CSeq: %[5]d REGISTER
Contact: <sip:%[3]s@%[2]s>
Expires: 600
%[6]sContent-Length: 0

`, srv.addr(), u.hostport(), user, callID, cseq, extra))
	r, _ := u.recv()
	return r
}

// registered reports whether usrloc holds a contact for user.
func registered(srv *server, user string) bool {
	ul := srv.inst.Modules.Instance("usrloc").(*usrloc.Module)
	d, ok := ul.Domain("location")
	if !ok {
		return false
	}
	cs, found := d.Get(user)
	return found && len(cs) > 0
}

// TestAuthNonceAcrossServers runs two registrars with the same secret
// (the admin guide's replication set-up, Granig's load-balanced SERs): a
// REGISTER challenged by one is accepted by the other with that nonce. A
// nonce past nonce_expire is refused with stale=true, a tampered one
// without.
func TestAuthNonceAcrossServers(t *testing.T) {
	db := authDB(t)
	a := startSer(t, authProxyCfg(db, "proxy", "1"))
	b := startSer(t, authProxyCfg(db, "proxy", "1"))
	u := newUA(t)

	r := authRegister(u, a, "alice", "xs-1", 1, "")
	if !strings.HasPrefix(r, "SIP/2.0 401 Unauthorized") {
		t.Fatalf("first REGISTER at a:\n%s", r)
	}
	ch := challengeIn(t, r)
	if !strings.Contains(ch, `realm="127.0.0.1"`) || !strings.Contains(ch, `qop="auth"`) || strings.Contains(ch, "stale") {
		t.Fatalf("challenge %q: want realm 127.0.0.1 (the To host), qop, not stale", ch)
	}
	answer := digestAnswer(t, ch, "alice", "alicepw", "REGISTER", "sip:"+b.addr())
	if r := authRegister(u, b, "alice", "xs-1", 2, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("answer to a's challenge at b:\n%s", r)
	}
	if !registered(b, "alice") || registered(a, "alice") {
		t.Fatalf("alice registered at a %v, b %v; want only b", registered(a, "alice"), registered(b, "alice"))
	}
	// Replay: the same credentials (nonce and nonce count) on a new request
	// are refused.
	if r := authRegister(u, b, "alice", "xs-replay", 7, answer); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("replayed credentials accepted:\n%s", r)
	}

	// Expired: a correct answer to a nonce older than nonce_expire.
	old := auth.MakeNonce([]byte(authSecret), time.Now().Add(-time.Second))
	expired := strings.Replace(ch, nonceOf(t, ch), old, 1)
	answer = digestAnswer(t, expired, "alice", "alicepw", "REGISTER", "sip:"+a.addr())
	r = authRegister(u, a, "alice", "xs-2", 1, answer)
	if !strings.HasPrefix(r, "SIP/2.0 401") || !strings.Contains(challengeIn(t, r), ", stale=true") {
		t.Fatalf("expired nonce: want 401 with stale=true:\n%s", r)
	}

	// Tampered: one digit of a fresh nonce changed.
	fresh := nonceOf(t, challengeIn(t, r))
	bad := []byte(fresh)
	bad[3] ^= 1
	answer = digestAnswer(t, strings.Replace(ch, nonceOf(t, ch), string(bad), 1), "alice", "alicepw", "REGISTER", "sip:"+b.addr())
	r = authRegister(u, b, "alice", "xs-3", 1, answer)
	if !strings.HasPrefix(r, "SIP/2.0 401") || strings.Contains(challengeIn(t, r), "stale") {
		t.Fatalf("tampered nonce: want 401 without stale:\n%s", r)
	}
}

// nonceOf returns the nonce of a challenge.
func nonceOf(t *testing.T, challenge string) string {
	t.Helper()
	c, err := auth.ParseCredentials(challenge)
	if err != nil || c.Nonce == "" {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	return c.Nonce
}

// TestAuthSIPp registers a SIPp uas with SIPp's [authentication] (401,
// qop auth) and calls it with SIPp's uac (407, then an authenticated
// INVITE, ACK and BYE along the record-route).
//
// SIPp computes every answer over the digest uri sip:<remote_ip>:<remote_port>,
// whatever the Request-URI (sip:service@… here), so the INVITE's answer
// only passes with check_digest_uri off; the REGISTER's does pass the
// check (its Request-URI is that uri).
func TestAuthSIPp(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, withModparams(authProxyCfg(authDB(t), "proxy", "1"), `modparam("auth", "check_digest_uri", 0)`))
	const calls = 3
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("uas_rr.xml"), Port: uasPort, Calls: calls})
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("auth_register.xml"), Remote: srv.addr(), Calls: 1,
		Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("service;127.0.0.1:%d", uasPort)}), "-au", "service", "-ap", "servicepw"},
	})
	if code != 0 {
		t.Fatalf("register: sipp exit %d:\n%s", code, tail(out))
	}
	if !registered(srv, "service") {
		t.Fatal("service not registered")
	}
	out, code = testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("auth_invite.xml"), Remote: srv.addr(), Calls: calls, Rate: 10,
		Extra: []string{"-s", "service", "-au", "alice", "-ap", "alicepw"},
	})
	if code != 0 {
		t.Fatalf("uac: sipp exit %d:\n%s", code, tail(out))
	}
	if c := uas.Wait(20 * time.Second); c != 0 {
		t.Fatalf("uas: sipp exit %d:\n%s", c, tail(uas.Output()))
	}
	st := fifoCmd(t, srv, "sl_stats")
	if !strings.Contains(st, "401: 1") || !strings.Contains(st, fmt.Sprintf("407: %d", calls)) {
		t.Errorf("sl_stats: want one 401 and %d 407:\n%s", calls, st)
	}
}

// TestAuthSipsak drives the authenticating registrar with sipsak -a: its
// usrloc mode registers (401; sipsak sends the username "alice@", with a
// trailing '@'); an INVITE (sipsak -f) to a Go UA registered with digest
// credentials is challenged (407, or 401 when the script uses
// www_authorize), answered, relayed without the consumed credentials and
// answered 200; OPTIONS to the server are answered after the challenge;
// a wrong password is challenged again.
func TestAuthSipsak(t *testing.T) {
	testutil.RequireTool(t, "sipsak")
	db := authDB(t)
	for _, kind := range []string{"proxy", "www"} {
		t.Run(kind, func(t *testing.T) {
			port := testutil.FreeLowPort(t)
			srv := startSer(t, authProxyCfg(db, kind, "0"), func(o *core.Options) { setPort(o, port) })
			want := "401 Unauthorized"
			if kind == "proxy" {
				want = "407 Proxy Authentication Required"
			}
			target := "sip:alice@" + srv.addr()

			out, code := testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-i", "-s", target, "-a", "alicepw", "-vv")
			if code != 0 || !strings.Contains(out, "All usrloc tests completed successful") || !strings.Contains(out, "authorizing") {
				t.Fatalf("sipsak usrloc mode: exit %d\n%s", code, out)
			}

			// bob registers a Go UA with digest credentials and answers.
			callee := newUA(t)
			r := authRegister(callee, srv, "bob", "sipsak-reg-"+kind, 1, "")
			answer := digestAnswer(t, challengeIn(t, r), "bob", "bobpw", "REGISTER", "sip:"+srv.addr())
			if r := authRegister(callee, srv, "bob", "sipsak-reg-"+kind, 2, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
				t.Fatalf("bob's REGISTER:\n%s", r)
			}
			got := make(chan string, 1)
			go answerOnce(callee.conn, got)
			inv := writeFile(t, "invite.txt", crlf(fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK.sipsak1
From: <sip:alice@%[1]s>;tag=sipsak1
To: <sip:bob@%[1]s>
Call-ID: sipsak-invite-%[2]s@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:9>
Max-Forwards: 70
Content-Length: 0

`, srv.addr(), kind)))
			out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-f", inv, "-s", "sip:bob@"+srv.addr(), "-u", "alice", "-a", "alicepw", "-vvv")
			if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "SIP/2.0 200 OK") {
				t.Fatalf("sipsak INVITE: exit %d, want %s then 200:\n%s", code, want, out)
			}
			select {
			case relayed := <-got:
				if header(relayed, "Authorization") != "" || header(relayed, "Proxy-Authorization") != "" {
					t.Errorf("credentials relayed to the callee (consume_credentials):\n%s", relayed)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the INVITE never reached bob")
			}

			out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-s", "sip:options@"+srv.addr(), "-u", "bob", "-a", "bobpw", "-vvv")
			if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "200 Authenticated") {
				t.Fatalf("sipsak OPTIONS: exit %d, want %s then 200:\n%s", code, want, out)
			}
			out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-s", "sip:options@"+srv.addr(), "-u", "bob", "-a", "wrong", "-vvv")
			if code == 0 || strings.Contains(out, "200 Authenticated") || !strings.Contains(out, "authorization failed") {
				t.Fatalf("sipsak OPTIONS with a wrong password: exit %d\n%s", code, out)
			}
		})
	}
}

// answerOnce waits for one INVITE on c, answers it 200 OK and hands the
// INVITE over (or "" when none came).
func answerOnce(c *net.UDPConn, got chan<- string) {
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			got <- ""
			return
		}
		msg := string(buf[:n])
		if !strings.HasPrefix(msg, "INVITE ") {
			continue
		}
		reply := strings.Replace(replyTo(msg, "200 OK", "tag=callee"), "Content-Length: 0\r\n",
			"Contact: <sip:bob@"+c.LocalAddr().String()+">\r\nContent-Length: 0\r\n", 1)
		c.WriteToUDP([]byte(reply), from)
		got <- msg
		return
	}
}

// TestAuthBaresip registers a headless baresip with auth_pass: the
// REGISTER is challenged (401, qop auth) and the answer accepted.
func TestAuthBaresip(t *testing.T) {
	testutil.RequireTool(t, "baresip")
	srv := startSer(t, authProxyCfg(authDB(t), "proxy", "1"))
	sp := startSoftphone(t, srv, "alice", ";auth_pass=alicepw", false)
	waitRegistered(t, srv, "alice")
	st := fifoCmd(t, srv, "sl_stats")
	if !strings.Contains(st, "401: ") {
		t.Errorf("baresip registered without a challenge:\n%s", st)
	}
	sp.proc.Kill()
}

// gwInvite is an INVITE from the caller UA to sip:<number>@ser.
func gwInvite(u *ua, srv *server, number, callID string, cseq int, extra string) string {
	if extra != "" {
		extra += "\n"
	}
	return fmt.Sprintf(`INVITE sip:%[1]s@%[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=z9hG4bKgw%[4]s%[5]d;rport
Max-Forwards: 70
From: <sip:caller@foo.bar>;tag=gw-%[4]s
To: <sip:%[1]s@%[2]s>
Call-ID: %[4]s
CSeq: %[5]d INVITE
Contact: <sip:caller@%[3]s>
%[6]sContent-Length: 0

`, number, srv.addr(), u.hostport(), callID, cseq, extra)
}

// gwAck is the ACK of a negative reply to inv (same branch, the reply's
// To-tag).
func gwAck(inv, reply string) string {
	inv = crlf(inv)
	first := firstLine(inv)
	return fmt.Sprintf("ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s ACK\r\nContent-Length: 0\r\n\r\n",
		strings.Fields(first)[1], header(inv, "Via"), header(inv, "From"), header(reply, "To"), header(inv, "Call-ID"),
		strings.Fields(header(inv, "CSeq"))[0])
}

// TestAuthGatewayACL runs the admin guide's gateway access-control script
// (testdata/cfg/gateway_acl.cfg) with the gateway 192.168.0.10 replaced
// by a Go UA: an unauthenticated INVITE to a PSTN number is challenged
// (407, realm "gateway"), a wrong password is challenged again (SER's
// proxy_authorize returns false, so the script's proxy_challenge runs), a
// user without the "int" group calling 000… gets 403, a member of it is
// relayed to the gateway, and free-pstn destinations
// (is_user_in("Request-URI", "free-pstn")) pass without authentication.
func TestAuthGatewayACL(t *testing.T) {
	db := authDB(t)
	gw, caller := newUA(t), newUA(t)
	cfg := readCfg(t, "gateway_acl.cfg")
	for _, r := range [][2]string{
		{"sql://ser:heslo@localhost/ser", db},
		{`rewritehostport("192.168.0.10:5060")`, `rewritehostport("` + gw.hostport() + `")`},
	} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("gateway_acl.cfg has no %s", r[0])
		}
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	// is_user_in and is_in_group are SER 0.8's auth functions here (no
	// group module is loaded): they use auth's db_url, as 0.8's auth
	// did, not the server's default database.
	srv := startSer(t, cfg)

	// No credentials: 407 with a realm="gateway" challenge, no qop.
	r := sendRecv(caller, srv, gwInvite(caller, srv, "000123", "gw-1", 1, ""), "407")
	ch := challengeIn(t, r)
	if !strings.HasPrefix(header(r, "Proxy-Authenticate"), `Digest realm="gateway", nonce="`) || strings.Contains(ch, "qop") {
		t.Fatalf("challenge %q", ch)
	}
	uri := "sip:000123@" + srv.addr()
	creds := func(user, pw string) string {
		return "Proxy-" + digestAnswer(t, ch, user, pw, "INVITE", uri)
	}
	// Without qop a nonce answers one request (one_time_nonce): like a
	// client answering a stale challenge, each authenticated INVITE
	// below first asks for a fresh one.
	fresh := func(callID string) {
		ch = challengeIn(t, sendRecv(caller, srv, gwInvite(caller, srv, "000123", callID, 1, ""), "407"))
	}

	// Wrong password: challenged again.
	r = sendRecv(caller, srv, gwInvite(caller, srv, "000123", "gw-1", 2, creds("alice", "guess")), "407")
	if strings.Contains(challengeIn(t, r), "stale") {
		t.Errorf("wrong password answered with stale=true:\n%s", r)
	}

	// bob is not in "int".
	fresh("gw-2c")
	r = sendRecv(caller, srv, gwInvite(caller, srv, "000123", "gw-2", 1, creds("bob", "bobpw")), "403")
	if !strings.Contains(firstLine(r), "International permissions needed") {
		t.Fatalf("bob calling 000123: %s", firstLine(r))
	}

	// alice is: the INVITE reaches the gateway, record-routed.
	fresh("gw-3c")
	inv := gwInvite(caller, srv, "000123", "gw-3", 1, creds("alice", "alicepw"))
	gwCall(t, caller, gw, srv, inv, "000123")

	// A free destination needs no credentials.
	gwCall(t, caller, gw, srv, gwInvite(caller, srv, "0800111", "gw-4", 1, ""), "0800111")
	// bob is in "local": he may call 0… numbers.
	loc := "sip:0123@" + srv.addr()
	fresh("gw-5c")
	inv = gwInvite(caller, srv, "0123", "gw-5", 1, "Proxy-"+digestAnswer(t, ch, "bob", "bobpw", "INVITE", loc))
	gwCall(t, caller, gw, srv, inv, "0123")

	st := fifoCmd(t, srv, "sl_stats")
	if !strings.Contains(st, "403: 1") || !strings.Contains(st, "407: 5") {
		t.Errorf("sl_stats: want one 403 and five 407:\n%s", st)
	}
}

// sendRecv sends a request from u to srv and waits for a reply whose
// status line contains want.
func sendRecv(u *ua, srv *server, req, want string) string {
	u.t.Helper()
	u.send(srv.udpAddr(), req)
	r, _ := u.recvFor(want)
	return r
}

// gwCall sends inv and checks that the gateway gets it (R-URI rewritten
// to the gateway, Record-Route added); the gateway answers 486, which the
// caller gets and ACKs.
func gwCall(t *testing.T, caller, gw *ua, srv *server, inv, number string) {
	t.Helper()
	caller.send(srv.udpAddr(), inv)
	got, from := gw.recvFor("INVITE")
	if want := "INVITE sip:" + number + "@" + gw.hostport() + " SIP/2.0"; firstLine(got) != want {
		t.Fatalf("gateway got %q, want %q", firstLine(got), want)
	}
	if header(got, "Record-Route") == "" {
		t.Errorf("INVITE not record-routed:\n%s", got)
	}
	gw.send(from, replyTo(got, "486 Busy Here", "tag=gw"))
	r, _ := caller.recvFor("486")
	caller.send(srv.udpAddr(), gwAck(inv, r))
	if a, _ := gw.recvFor("ACK"); !strings.Contains(header(a, "To"), "tag=gw") {
		t.Errorf("gateway's 486 not ACKed by tm:\n%s", a)
	}
}
