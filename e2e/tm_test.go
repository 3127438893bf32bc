package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/internal/testing/testutil"
)

func readCfg(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/cfg/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fifoCmd runs a management command on the server in-process (the same
// registry the FIFO serves).
func fifoCmd(t *testing.T, srv *server, cmd string, params ...string) string {
	t.Helper()
	return srv.inst.Server.RPC().Execute(context.Background(), cmd, rpc.Lines(params), rpc.FIFO).Text
}

// registerSIPp registers user at contact with the SIPp register scenario.
func registerSIPp(t *testing.T, srv *server, user, contact string) {
	t.Helper()
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: srv.addr(), Calls: 1,
		Extra: []string{"-inf", usersCSV(t, []string{user + ";" + contact})},
	})
	if code != 0 {
		t.Fatalf("register %s: sipp exit %d:\n%s", user, code, tail(out))
	}
}

// TestHelloWorldCalls runs the "Hello World" ser.cfg unchanged: a SIPp uas
// registers, a SIPp uac calls it through ser (INVITE/180/200/ACK/BYE with
// record-routing, so ACK and BYE pass the proxy through loose_route).
func TestHelloWorldCalls(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	const calls = 20
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("uas_rr.xml"), Port: uasPort, Calls: calls})
	registerSIPp(t, srv, "service", fmt.Sprintf("127.0.0.1:%d", uasPort))
	out, code := testutil.RunSIPp(t, &testutil.SIPp{Scenario: sippScenario("uac_rr.xml"), Remote: srv.addr(), Calls: calls, Rate: 20})
	if code != 0 {
		t.Fatalf("uac: sipp exit %d:\n%s", code, tail(out))
	}
	if c := uas.Wait(20 * time.Second); c != 0 {
		t.Fatalf("uas: sipp exit %d:\n%s", c, tail(uas.Output()))
	}
	// INVITE and BYE are transactions; the 2xx ACK is forwarded statelessly.
	wantStats(t, srv, fmt.Sprintf("Total: %d ", 2*calls), fmt.Sprintf("2xx: %d", 2*calls))
}

// TestHelloWorldCancel cancels a ringing call through ser: 200 for the
// CANCEL, the callee's 487 relayed, the ACK absorbed.
func TestHelloWorldCancel(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	caller, callee := newUA(t), newUA(t)
	if r := register(callee, srv, "bob", 600, "reg-bob-c", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("register: %s", r)
	}
	inv := inviteTo(caller, srv, "bob", "z9hG4bKcancel1", "cancel-1")
	caller.send(srv.udpAddr(), inv)
	got, from := callee.recvFor("INVITE")
	callee.send(from, replyTo(got, "180 Ringing", "tag=callee1"))
	caller.recvFor("180 Ringing")

	caller.send(srv.udpAddr(), cancelOf(inv))
	if r, _ := caller.recvFor("200"); !strings.Contains(header(r, "CSeq"), "CANCEL") {
		t.Fatalf("200 is not for the CANCEL:\n%s", r)
	}
	c, from := callee.recvFor("CANCEL")
	callee.send(from, replyTo(c, "200 OK", ""))
	callee.send(from, replyTo(got, "487 Request Terminated", "tag=callee1"))
	r, _ := caller.recvFor("487")
	if !strings.Contains(header(r, "CSeq"), "INVITE") {
		t.Fatalf("487 not for the INVITE:\n%s", r)
	}
	// tm acknowledges the 487 hop-by-hop.
	ack, _ := callee.recvFor("ACK")
	if !strings.Contains(header(ack, "To"), "tag=callee1") {
		t.Fatalf("hop-by-hop ACK lacks the To tag:\n%s", ack)
	}
	// The caller's ACK for the 487 is absorbed by ser.
	caller.send(srv.udpAddr(), ackFor(inv, r))
	callee.silent(300 * time.Millisecond)
}

// TestNoAnswer408 calls a contact that never answers: ser retransmits the
// INVITE and gives up with 408 after fr_timer; after a 180 the longer
// fr_inv_timer applies.
func TestNoAnswer408(t *testing.T) {
	cfg := strings.Replace(readCfg(t, "helloworld.cfg"), `modparam("rr", "enable_full_lr", 1)`,
		"modparam(\"rr\", \"enable_full_lr\", 1)\nmodparam(\"tm\", \"fr_timer\", 1)\nmodparam(\"tm\", \"fr_inv_timer\", 2)", 1)
	srv := startSer(t, cfg)
	caller, callee := newUA(t), newUA(t)
	register(callee, srv, "carol", 600, "reg-carol", 1)

	start := time.Now()
	inv1 := inviteTo(caller, srv, "carol", "z9hG4bKnoans1", "noans-1")
	caller.send(srv.udpAddr(), inv1)
	callee.recvFor("INVITE")
	callee.recvFor("INVITE") // a retransmission (timer A)
	r, _ := caller.recvFor("408")
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("408 after %v, want about fr_timer (1s)", d)
	}
	caller.send(srv.udpAddr(), ackFor(inv1, r)) // stops the 408's retransmissions

	// Ringing, then silence: fr_inv_timer (2 s).
	start = time.Now()
	caller.send(srv.udpAddr(), inviteTo(caller, srv, "carol", "z9hG4bKnoans2", "noans-2"))
	got, from := callee.recvFor("INVITE")
	callee.send(from, replyTo(got, "180 Ringing", "tag=c2"))
	caller.recvFor("180")
	r, _ = caller.recvFor("408")
	if header(r, "Call-ID") != "noans-2" {
		t.Fatalf("408 for the wrong call:\n%s", r)
	}
	if d := time.Since(start); d < 1800*time.Millisecond || d > 4*time.Second {
		t.Fatalf("408 after ringing came after %v, want about fr_inv_timer (2s)", d)
	}
}

// TestParallelFork registers two contacts for one user: both ring, the
// first 200 wins and the other branch is cancelled.
func TestParallelFork(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	caller, phone1, phone2 := newUA(t), newUA(t), newUA(t)
	register(phone1, srv, "dave", 600, "reg-dave-1", 1)
	register(phone2, srv, "dave", 600, "reg-dave-2", 1)
	caller.send(srv.udpAddr(), inviteTo(caller, srv, "dave", "z9hG4bKfork1", "fork-1"))
	inv1, from1 := phone1.recvFor("INVITE")
	inv2, from2 := phone2.recvFor("INVITE")
	phone1.send(from1, replyTo(inv1, "180 Ringing", "tag=p1"))
	phone2.send(from2, replyTo(inv2, "180 Ringing", "tag=p2"))
	phone1.send(from1, replyTo(inv1, "200 OK", "tag=p1"))
	ok, _ := caller.recvFor("200 OK")
	if !strings.Contains(header(ok, "To"), "tag=p1") {
		t.Fatalf("wrong 200 relayed:\n%s", ok)
	}
	c, from := phone2.recvFor("CANCEL")
	phone2.send(from, replyTo(c, "200 OK", ""))
	phone2.send(from2, replyTo(inv2, "487 Request Terminated", "tag=p2"))
	phone2.recvFor("ACK") // hop-by-hop ACK of the 487
	// Only one final reply reaches the caller.
	for {
		buf := make([]byte, 4096)
		caller.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := caller.conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if strings.HasPrefix(string(buf[:n]), "SIP/2.0 487") {
			t.Fatalf("the cancelled branch's 487 reached the caller:\n%s", buf[:n])
		}
	}
}

// TestSerialForkONR runs the admin guide's onr example (reply_route /
// t_on_negative) with its four destinations moved onto test UAs: the
// first two are tried in parallel; the failure routes add nonsense, then
// foo.
func TestSerialForkONR(t *testing.T) {
	nobody, parallel, nonsense, foo := newUA(t), newUA(t), newUA(t), newUA(t)
	cfg := strings.NewReplacer(
		"sip:nobody@iptel.org", "sip:nobody@"+nobody.hostport(),
		"sip:parallel@iptel.org:9", "sip:parallel@"+parallel.hostport(),
		"sip:nonsense@iptel.org", "sip:nonsense@"+nonsense.hostport(),
		"sip:foo@iptel.org", "sip:foo@"+foo.hostport(),
		`modparam("tm", "fr_inv_timer", 15 )`, `modparam("tm", "fr_inv_timer", 2 )`,
		`modparam("tm", "fr_timer", 10 )`, `modparam("tm", "fr_timer", 1 )`,
	).Replace(readCfg(t, "onr.cfg"))
	srv := startSer(t, cfg)
	caller := newUA(t)
	caller.send(srv.udpAddr(), inviteTo(caller, srv, "anyone", "z9hG4bKonr1", "onr-1"))

	// nobody rejects at once; parallel stays silent until fr_timer.
	n, from := nobody.recvFor("INVITE")
	nobody.send(from, replyTo(n, "404 Not Found", "tag=n1"))
	parallel.recvFor("INVITE")
	// reply_route[1] appends nonsense: busy.
	ns, from := nonsense.recvFor("INVITE")
	if !strings.Contains(firstLine(ns), "nonsense@") {
		t.Fatalf("second stage went to %s", firstLine(ns))
	}
	nonsense.send(from, replyTo(ns, "486 Busy Here", "tag=ns1"))
	// reply_route[2] appends foo: it answers.
	f, from := foo.recvFor("INVITE")
	foo.send(from, replyTo(f, "200 OK", "tag=foo1"))
	ok, _ := caller.recvFor("200 OK")
	if !strings.Contains(header(ok, "To"), "tag=foo1") {
		t.Fatalf("final answer not from foo:\n%s", ok)
	}
}

// TestStatefulUAS runs the admin guide's stateful UA example: 409 for URIs
// with "a@", 699 otherwise; a retransmission gets the same reply.
func TestStatefulUAS(t *testing.T) {
	srv := startSer(t, readCfg(t, "uas.cfg"))
	u := newUA(t)
	inv := inviteTo(u, srv, "a", "z9hG4bKuas1", "uas-1")
	u.send(srv.udpAddr(), inv)
	first, _ := u.recvFor("409")
	if !strings.Contains(first, "409 Bizzar Error") {
		t.Fatal(first)
	}
	u.send(srv.udpAddr(), inv)
	again, _ := u.recvFor("409")
	if again != first {
		t.Fatalf("retransmission got a different reply:\n%s\n---\n%s", first, again)
	}
	u.send(srv.udpAddr(), inviteTo(u, srv, "b", "z9hG4bKuas2", "uas-2"))
	if r, _ := u.recvFor("699"); !strings.Contains(r, "699 I don't want to chat with you") {
		t.Fatal(r)
	}
}

// inviteTo builds an INVITE from u for user@server.
func inviteTo(u *ua, srv *server, user, branch, callID string) string {
	return fmt.Sprintf(`INVITE sip:%[1]s@%[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=%[4]s;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=caller-%[5]s
To: <sip:%[1]s@%[2]s>
Call-ID: %[5]s
CSeq: 1 INVITE
Contact: <sip:caller@%[3]s>
Content-Length: 0

`, user, srv.addr(), u.hostport(), branch, callID)
}

// cancelOf builds the CANCEL of an INVITE (RFC 3261 §9.1).
func cancelOf(inv string) string {
	inv = crlf(inv)
	var b strings.Builder
	lines := strings.Split(inv, "\r\n")
	b.WriteString(strings.Replace(lines[0], "INVITE", "CANCEL", 1) + "\r\n")
	for _, h := range []string{"Via", "Max-Forwards", "From", "To", "Call-ID"} {
		b.WriteString(h + ": " + header(inv, h) + "\r\n")
	}
	b.WriteString("CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// ackFor builds the ACK for a non-2xx final reply to an INVITE (§17.1.1.3).
func ackFor(inv, reply string) string {
	inv = crlf(inv)
	var b strings.Builder
	lines := strings.Split(inv, "\r\n")
	b.WriteString(strings.Replace(lines[0], "INVITE", "ACK", 1) + "\r\n")
	b.WriteString("Via: " + header(inv, "Via") + "\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: " + header(inv, "From") + "\r\n")
	b.WriteString("To: " + header(reply, "To") + "\r\n")
	b.WriteString("Call-ID: " + header(inv, "Call-ID") + "\r\n")
	b.WriteString("CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}
