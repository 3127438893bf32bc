package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"ser/core/modules/auth"
)

// newUAAt is newUA bound to another loopback address (127.0.0.2, …): a
// second client address on the same machine.
func newUAAt(t *testing.T, ip string) *ua {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return &ua{t: t, conn: c, port: c.LocalAddr().(*net.UDPAddr).Port}
}

// withModparams adds modparam lines after the auth module's password
// column parameter of authProxyCfg.
func withModparams(cfg string, lines ...string) string {
	const anchor = `modparam("auth", "password_column", "password")`
	return strings.Replace(cfg, anchor, anchor+"\n"+strings.Join(lines, "\n"), 1)
}

// TestAuthGuessingThrottled sends a burst of 40 wrong-password REGISTERs
// for alice from one address: only the first five (throttle_failures)
// are compared with her password, every one is answered 401 like a wrong
// password, and while the address backs off even her right password is
// (nothing tells a guess that it was right). alice from another address,
// and bob from the guessing one, still register. The back-off is long
// (throttle_delay 600) so that the counts do not depend on how fast the
// burst goes.
func TestAuthGuessingThrottled(t *testing.T) {
	srv := startSer(t, withModparams(authProxyCfg(authDB(t), "proxy", "1"), `modparam("auth", "throttle_delay", 600)`))
	attacker := newUA(t)
	ch := challengeIn(t, authRegister(attacker, srv, "alice", "guess-0", 1, ""))
	uri := "sip:" + srv.addr()
	const burst = 40
	for i := 1; i <= burst; i++ {
		answer := digestAnswer(t, ch, "alice", fmt.Sprintf("guess%d", i), "REGISTER", uri)
		attacker.send(srv.udpAddr(), registerMsg(attacker, srv, "alice", fmt.Sprintf("guess-%d", i), i, answer))
	}
	for i := 1; i <= burst; i++ {
		r, _ := attacker.recv()
		if !strings.HasPrefix(r, "SIP/2.0 401") || strings.Contains(challengeIn(t, r), "stale") {
			t.Fatalf("guess answered:\n%s", r)
		}
	}
	a := srv.inst.Modules.Instance("auth").(*auth.Module)
	checked, refused := a.ThrottleStats()
	if checked != 5 || refused != burst-5 {
		t.Errorf("%d guesses reached the password check and %d were refused, want 5 and %d", checked, refused, burst-5)
	}
	// The right password from the guessing address: 401, not checked.
	answer := digestAnswer(t, ch, "alice", "alicepw", "REGISTER", uri)
	if r := authRegister(attacker, srv, "alice", "guess-right", 1, answer); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("right password from the backing-off address:\n%s", r)
	}
	if c, _ := a.ThrottleStats(); c != checked {
		t.Errorf("a request was checked while backing off")
	}
	if !strings.Contains(srv.log.String(), "auth: too many failures for the user at this address, backing off") ||
		!strings.Contains(srv.log.String(), "src=127.0.0.1:") {
		t.Error("the back-off is not logged with the source address")
	}

	// alice's phone at another address registers.
	phone := newUAAt(t, "127.0.0.2")
	r := authRegister(phone, srv, "alice", "phone-1", 1, "")
	answer = digestAnswer(t, challengeIn(t, r), "alice", "alicepw", "REGISTER", uri)
	if r := authRegister(phone, srv, "alice", "phone-1", 2, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("alice from 127.0.0.2:\n%s", r)
	}
	// bob at the guessing address too.
	answer = digestAnswer(t, ch, "bob", "bobpw", "REGISTER", uri)
	if r := authRegister(attacker, srv, "bob", "bob-1", 1, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("bob from the guessing address:\n%s", r)
	}
}

// registerMsg is the REGISTER authRegister sends.
func registerMsg(u *ua, srv *server, user, callID string, cseq int, extra string) string {
	if extra != "" {
		extra += "\n"
	}
	return fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKar%[4]s%[5]d;rport
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=ar%[5]d
To: <sip:%[3]s@%[1]s>
Call-ID: %[4]s
CSeq: %[5]d REGISTER
Contact: <sip:%[3]s@%[2]s>
Expires: 600
%[6]sContent-Length: 0

`, srv.addr(), u.hostport(), user, callID, cseq, extra)
}

// TestAuthDigestURIMismatch: an answer whose digest uri is not the
// Request-URI (credentials computed for another target) is refused with
// 400 Bad Request.
func TestAuthDigestURIMismatch(t *testing.T) {
	srv := startSer(t, authProxyCfg(authDB(t), "proxy", "1"))
	u := newUA(t)
	ch := challengeIn(t, authRegister(u, srv, "alice", "uri-1", 1, ""))
	answer := digestAnswer(t, ch, "alice", "alicepw", "REGISTER", "sip:elsewhere.example.com")
	if r := authRegister(u, srv, "alice", "uri-1", 2, answer); !strings.HasPrefix(r, "SIP/2.0 400") {
		t.Fatalf("digest uri mismatch:\n%s", r)
	}
	if registered(srv, "alice") {
		t.Error("alice registered")
	}
	if !strings.Contains(srv.log.String(), "digest uri does not match the Request-URI") {
		t.Error("not logged")
	}
}

// TestAuthReplayWithoutQop: with qop off (www_challenge("", "0")), a
// captured Authorization header is accepted once; on a new request (here
// with the attacker's Contact) it is refused with a stale challenge, and a
// retransmission of the accepted request is still accepted.
func TestAuthReplayWithoutQop(t *testing.T) {
	srv := startSer(t, authProxyCfg(authDB(t), "proxy", "0"))
	u := newUA(t)
	ch := challengeIn(t, authRegister(u, srv, "alice", "noqop-1", 1, ""))
	if strings.Contains(ch, "qop") {
		t.Fatalf("challenge offers qop: %s", ch)
	}
	answer := digestAnswer(t, ch, "alice", "alicepw", "REGISTER", "sip:"+srv.addr())
	msg := registerMsg(u, srv, "alice", "noqop-1", 2, answer)
	for i := 0; i < 2; i++ { // the second is a retransmission
		u.send(srv.udpAddr(), msg)
		if r, _ := u.recv(); !strings.HasPrefix(r, "SIP/2.0 200") {
			t.Fatalf("send %d:\n%s", i, r)
		}
	}
	attacker := newUA(t)
	r := authRegister(attacker, srv, "alice", "noqop-replay", 3, answer)
	if !strings.HasPrefix(r, "SIP/2.0 401") || !strings.Contains(challengeIn(t, r), "stale=true") {
		t.Fatalf("replayed header without qop:\n%s", r)
	}
	// The client answering the stale challenge gets in again.
	answer = digestAnswer(t, challengeIn(t, r), "alice", "alicepw", "REGISTER", "sip:"+srv.addr())
	if r := authRegister(u, srv, "alice", "noqop-1", 4, answer); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("answer to the stale challenge:\n%s", r)
	}
}
