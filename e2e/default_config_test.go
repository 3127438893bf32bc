package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/store"
	"ser/internal/testing/testutil"
)

// The built-in default config (issue 14): an authenticating registrar and
// a proxy that relays to other domains for its authenticated users only,
// its realm the SIP domain of the subscribers serctl and the web console
// create.

// defDomain is the SIP domain the in-process tests give the default
// config.
const defDomain = "example.test"

// startDefault runs the built-in default config for defDomain and adds
// alice and bob to its database the way serctl and the console do
// (store.AddSubscriber: ha1 and ha1b only).
func startDefault(t *testing.T) *server {
	t.Helper()
	srv := startSer(t, core.DefaultConfig(defDomain))
	st, err := srv.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{"alice", "alicepw"}, {"bob", "bobpw"}} {
		if err := st.AddSubscriber(context.Background(), store.Subscriber{Username: u[0], Domain: defDomain, Password: u[1]}); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// defRegister sends a REGISTER for user@<defDomain> (see regTo).
func defRegister(u *ua, srv *server, user, callID string, cseq int, extra string) string {
	u.t.Helper()
	return regTo(u, srv, defDomain, user, callID, cseq, extra)
}

// defInvite sends an INVITE for ruri from u with From sip:<from> (an
// address of record user@domain) and the extra header lines, and returns
// the first non-100 reply.
func defInvite(u *ua, srv *server, ruri, from, callID string, cseq int, extra string) string {
	u.t.Helper()
	if extra != "" {
		extra += "\n"
	}
	u.send(srv.udpAddr(), fmt.Sprintf(`INVITE %[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKdi%[4]s%[5]d;rport
Max-Forwards: 70
From: <sip:%[3]s>;tag=di%[5]d
To: <%[1]s>
Call-ID: %[4]s
CSeq: %[5]d INVITE
Contact: <sip:caller@%[2]s>
%[6]sContent-Length: 0

`, ruri, u.hostport(), from, callID, cseq, extra))
	for {
		r, _ := u.recv()
		if !strings.HasPrefix(r, "SIP/2.0 100") {
			return r
		}
	}
}

// proxyAnswer answers a 407's challenge as a client does.
func proxyAnswer(t *testing.T, reply, user, pw, method, uri string) string {
	t.Helper()
	return "Proxy-" + digestAnswer(t, challengeIn(t, reply), user, pw, method, uri)
}

// registerAs registers user with its password from u (challenge, answer).
func registerAs(t *testing.T, u *ua, srv *server, user, pw string) {
	t.Helper()
	r := defRegister(u, srv, user, "reg-"+user, 1, "")
	answer := digestAnswer(t, challengeIn(t, r), user, pw, "REGISTER", "sip:"+defDomain)
	if r := defRegister(u, srv, user, "reg-"+user, 2, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("%s's REGISTER with the right password:\n%s", user, r)
	}
}

// TestDefaultConfigRegistrar: a stranger's REGISTER is challenged (401,
// realm = the domain, no Warning header) and not saved; so are a wrong
// password and an unknown user; a user may not register someone else's
// address (403); the right password registers.
func TestDefaultConfigRegistrar(t *testing.T) {
	srv := startDefault(t)
	u := newUA(t)

	r := defRegister(u, srv, "alice", "stranger", 1, "")
	if !strings.HasPrefix(r, "SIP/2.0 401") || !strings.Contains(challengeIn(t, r), `realm="`+defDomain+`"`) {
		t.Fatalf("a REGISTER without credentials:\n%s", r)
	}
	if w := header(r, "Warning"); w != "" {
		t.Errorf("sip_warning is on in the default config: Warning: %s", w)
	}
	ch := challengeIn(t, r)
	if r := defRegister(u, srv, "alice", "stranger", 2, digestAnswer(t, ch, "alice", "guess", "REGISTER", "sip:"+defDomain)); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("a wrong password:\n%s", r)
	}
	if r := defRegister(u, srv, "mallory", "stranger2", 1, digestAnswer(t, ch, "mallory", "x", "REGISTER", "sip:"+defDomain)); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("an unknown user:\n%s", r)
	}
	if registered(srv, "alice") || registered(srv, "mallory") {
		t.Fatal("a stranger's REGISTER was saved")
	}
	// alice's credentials for bob's address: 403.
	if r := defRegister(u, srv, "bob", "hijack", 1, digestAnswer(t, ch, "alice", "alicepw", "REGISTER", "sip:"+defDomain)); !strings.HasPrefix(r, "SIP/2.0 403") {
		t.Fatalf("alice registering bob's address:\n%s", r)
	}
	if registered(srv, "bob") {
		t.Fatal("alice registered bob's address")
	}
	registerAs(t, u, srv, "alice", "alicepw")
	if !registered(srv, "alice") {
		t.Fatal("alice not registered after 200")
	}
	// A subscriber written by SER's serctl (plain-text password, ha1 and
	// ha1b) still registers.
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(srv.dir, "ser.db"),
		store.WithPlaintextPasswords(true), store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddSubscriber(context.Background(), store.Subscriber{Username: "carol", Domain: defDomain, Password: "carolpw"}); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.Subscriber(context.Background(), "carol", defDomain); u.Password != "carolpw" {
		t.Fatalf("carol's row is not SER's: %+v", u)
	}
	registerAs(t, newUA(t), srv, "carol", "carolpw")
}

// TestDefaultConfigRelay: strangers are not relayed to other domains
// (407, also when a Route header points elsewhere), authenticated users
// are (a user claiming another From gets 403); a call with one of the
// domain's addresses as From must be authenticated as that user (no
// caller-ID forgery into the domain), and anyone else may call a local
// user without authentication.
func TestDefaultConfigRelay(t *testing.T) {
	srv := startDefault(t)
	foreign := newUA(t) // a UA in another domain
	foreignURI := "sip:carol@" + foreign.hostport()
	stranger := newUA(t)
	const mallory, alice, bob = "mallory@evil.test", "alice@" + defDomain, "bob@" + defDomain

	r := defInvite(stranger, srv, foreignURI, mallory, "relay-1", 1, "")
	if !strings.HasPrefix(r, "SIP/2.0 407") || !strings.Contains(challengeIn(t, r), `realm="`+defDomain+`"`) {
		t.Fatalf("a stranger's INVITE to another domain:\n%s", r)
	}
	if w := header(r, "Warning"); w != "" {
		t.Errorf("Warning header on a local reply: %s", w)
	}
	// Strict routing does not open a way around it.
	r = defInvite(stranger, srv, "sip:bob@"+defDomain, mallory, "relay-2", 1, "Route: <"+foreignURI+">")
	if !strings.HasPrefix(r, "SIP/2.0 407") {
		t.Fatalf("a stranger's INVITE routed to another domain:\n%s", r)
	}
	// A stranger using alice's From cannot answer the challenge.
	r = defInvite(stranger, srv, foreignURI, alice, "relay-3", 1, "")
	r = defInvite(stranger, srv, foreignURI, alice, "relay-3", 2, proxyAnswer(t, r, "alice", "guess", "INVITE", foreignURI))
	if !strings.HasPrefix(r, "SIP/2.0 407") {
		t.Fatalf("a wrong password relayed:\n%s", r)
	}

	// alice, authenticated, with bob's From: 403.
	caller := newUA(t)
	r = defInvite(caller, srv, foreignURI, bob, "relay-4", 1, "")
	r = defInvite(caller, srv, foreignURI, bob, "relay-4", 2, proxyAnswer(t, r, "alice", "alicepw", "INVITE", foreignURI))
	if !strings.HasPrefix(r, "SIP/2.0 403") {
		t.Fatalf("alice with bob's From:\n%s", r)
	}
	// alice with her own From: relayed, without her credentials.
	got := make(chan string, 1)
	go answerOnce(foreign.conn, got)
	r = defInvite(caller, srv, foreignURI, alice, "relay-5", 1, "")
	r = defInvite(caller, srv, foreignURI, alice, "relay-5", 2, proxyAnswer(t, r, "alice", "alicepw", "INVITE", foreignURI))
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("alice's authenticated INVITE to another domain:\n%s", r)
	}
	// The first INVITE that reached the other domain is alice's: none of
	// the stranger's got through.
	relayed := <-got
	if header(relayed, "Call-ID") != "relay-5" || header(relayed, "Proxy-Authorization") != "" {
		t.Fatalf("the other domain received:\n%s", relayed)
	}

	// Calls to bob, a local user.
	bobUA := newUA(t)
	registerAs(t, bobUA, srv, "bob", "bobpw")
	go answerOnce(bobUA.conn, got)
	// A stranger with alice's address as From (compact form, with a
	// port): challenged, not delivered.
	stranger.send(srv.udpAddr(), fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKforged;rport
Max-Forwards: 70
f: "Alice" <sip:alice@%[1]s:5060>;tag=forged
t: <sip:bob@%[1]s>
i: relay-6
CSeq: 1 INVITE
m: <sip:x@%[2]s>
l: 0

`, defDomain, stranger.hostport()))
	if r, _ := stranger.recvFor("SIP/2.0"); !strings.HasPrefix(r, "SIP/2.0 407") {
		t.Fatalf("a stranger calling bob with alice's From:\n%s", r)
	}
	// alice calls bob: challenged, answers, delivered — the first INVITE
	// bob gets.
	r = defInvite(caller, srv, "sip:bob@"+defDomain, alice, "relay-7", 1, "")
	if !strings.HasPrefix(r, "SIP/2.0 407") {
		t.Fatalf("alice calling bob without credentials:\n%s", r)
	}
	r = defInvite(caller, srv, "sip:bob@"+defDomain, alice, "relay-7", 2, proxyAnswer(t, r, "alice", "alicepw", "INVITE", "sip:bob@"+defDomain))
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("alice's authenticated call to bob:\n%s", r)
	}
	if inv := <-got; header(inv, "Call-ID") != "relay-7" {
		t.Fatalf("bob received:\n%s", inv)
	}
	// A stranger with its own address calls bob: no authentication.
	go answerOnce(bobUA.conn, got)
	if r := defInvite(stranger, srv, "sip:bob@"+defDomain, mallory, "relay-8", 1, ""); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("a stranger calling bob:\n%s", r)
	}
	if inv := <-got; header(inv, "Call-ID") != "relay-8" {
		t.Fatalf("bob received:\n%s", inv)
	}
}

// TestDefaultConfigSerctlSipsak is the README's quick start with real
// tools: the default config on the host's domain (store.DefaultDomain),
// users added with the serctl binary without SIP_DOMAIN, alice
// registered by sipsak with digest authentication and calling bob
// statefully (100 Trying, then bob's 200); a wrong password registers
// nothing.
func TestDefaultConfigSerctlSipsak(t *testing.T) {
	testutil.RequireTool(t, "sipsak")
	domain := store.DefaultDomain()
	port := testutil.FreeLowPort(t) // sipsak truncates 5-digit ports
	srv := startSer(t, core.DefaultConfig(domain), func(o *core.Options) { setPort(o, port) })
	sc := &serctlTool{t: t, bin: buildSerctl(t, t.TempDir()), env: []string{
		"SER_DB_URL=sqlite://" + filepath.Join(srv.dir, "ser.db"), "SER_FIFO=" + filepath.Join(srv.dir, "ser_fifo"),
		"SER_FIFO_DIR=" + srv.dir + "/", "SIP_DOMAIN="}}
	for _, u := range [][2]string{{"alice", "alicepw"}, {"bob", "bobpw"}} {
		sc.ok("new user added", "add", u[0], u[1], u[0]+"@example.com")
	}
	st, err := srv.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := st.Subscriber(context.Background(), "alice", domain); err != nil || u.Password != "" {
		t.Fatalf("serctl's alice@%s: %+v, %v (no plain-text password expected)", domain, u, err)
	}

	// sipsak resolves the host of -s even with an outbound proxy, and the
	// host name need not resolve: it addresses the server by its IP
	// address; the realm comes from the challenge.
	target := "@127.0.0.1:" + fmt.Sprint(srv.port)
	out, code := testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-s", "sip:alice"+target,
		"-u", "alice", "-a", "wrong", "-vv")
	if code == 0 || registered(srv, "alice") {
		t.Fatalf("sipsak registered with a wrong password: exit %d\n%s", code, out)
	}
	out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-s", "sip:alice"+target,
		"-u", "alice", "-a", "alicepw", "-vv")
	if code != 0 || !strings.Contains(out, "All usrloc tests completed successful") || !strings.Contains(out, "authorizing") {
		t.Fatalf("sipsak usrloc mode: exit %d\n%s", code, out)
	}

	// bob is a Go UA registered with his digest credentials; alice calls
	// him with sipsak (the call to a local user needs no credentials).
	callee := newUA(t)
	r := regTo(callee, srv, domain, "bob", "sipsak-bob", 1, "")
	answer := digestAnswer(t, challengeIn(t, r), "bob", "bobpw", "REGISTER", "sip:"+domain)
	if r := regTo(callee, srv, domain, "bob", "sipsak-bob", 2, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("bob's REGISTER:\n%s", r)
	}
	got := make(chan string, 1)
	go answerOnce(callee.conn, got)
	inv := writeFile(t, "invite.txt", crlf(fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK.sipsakdef
From: <sip:alice@%[1]s>;tag=sipsakdef
To: <sip:bob@%[1]s>
Call-ID: sipsak-default@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:9>
Max-Forwards: 70
Content-Length: 0

`, domain)))
	out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-f", inv, "-s", "sip:bob"+target,
		"-u", "alice", "-a", "alicepw", "-vvv")
	if code != 0 || !strings.Contains(out, "SIP/2.0 100 ") || !strings.Contains(out, "SIP/2.0 200 OK") {
		t.Fatalf("sipsak INVITE alice -> bob: exit %d, want 100 Trying (stateful) then 200:\n%s", code, out)
	}
	select {
	case relayed := <-got:
		if header(relayed, "Call-ID") != "sipsak-default@127.0.0.1" {
			t.Errorf("bob received:\n%s", relayed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the INVITE never reached bob")
	}
}

// regTo sends a REGISTER sip:<domain> for aor user@domain (the To) with
// contact u and the extra header line, and returns the reply.
func regTo(u *ua, srv *server, domain, user, callID string, cseq int, extra string) string {
	u.t.Helper()
	if extra != "" {
		extra += "\n"
	}
	u.send(srv.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKrt%[4]s%[5]d;rport
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=rt%[5]d
To: <sip:%[3]s@%[1]s>
Call-ID: %[4]s
CSeq: %[5]d REGISTER
Contact: <sip:%[3]s@%[2]s>
Expires: 600
%[6]sContent-Length: 0

`, domain, u.hostport(), user, callID, cseq, extra))
	r, _ := u.recv()
	return r
}
