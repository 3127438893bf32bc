package e2e

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// registrarProxy is a registrar with a stateless proxy: the issue-2
// modules only (sl, maxfwd, rr, usrloc, registrar, textops).
const registrarProxy = `
debug=4
fork=no
log_stderror=yes
loadmodule "modules/sl/sl.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/rr/rr.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/textops/textops.so"
modparam("usrloc", "db_mode", 0)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (msg:len > max_len) {
		sl_send_reply("513", "Message too big");
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
		append_hf("P-hint: USRLOC\r\n");
	};
	forward(uri:host, uri:port);
}
`

func register(u *ua, srv *server, user string, expires int, callID string, cseq int) string {
	u.t.Helper()
	u.send(srv.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKreg%[5]s%[6]d;rport
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=r%[6]d
To: <sip:%[3]s@%[1]s>
Call-ID: %[5]s
CSeq: %[6]d REGISTER
Contact: <sip:%[3]s@%[2]s>
Expires: %[4]d
Content-Length: 0

`, srv.addr(), u.hostport(), user, expires, callID, cseq))
	resp, _ := u.recv()
	return resp
}

// TestRegisterLookupUnregister registers a contact, calls it through the
// stateless proxy, unregisters it and gets 404.
func TestRegisterLookupUnregister(t *testing.T) {
	srv := startSer(t, registrarProxy)
	alice, bob := newUA(t), newUA(t)

	resp := register(alice, srv, "alice", 3600, "reg-alice", 1)
	if !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER not accepted:\n%s", resp)
	}
	c := header(resp, "Contact")
	if !strings.Contains(c, "<sip:alice@"+alice.hostport()+">") || !strings.Contains(c, "expires=3600") {
		t.Fatalf("200 lacks the binding with its expires: %q", c)
	}

	invite := fmt.Sprintf(`INVITE sip:alice@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKinv1;rport
Max-Forwards: 70
From: <sip:bob@example.com>;tag=b1
To: <sip:alice@%s>
Call-ID: call-1
CSeq: 1 INVITE
Contact: <sip:bob@%s>
Content-Type: application/sdp
Content-Length: %%CL%%

v=0
o=bob 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 4000 RTP/AVP 0
`, srv.addr(), bob.hostport(), srv.addr(), bob.hostport())
	bob.send(srv.udpAddr(), invite)
	got, from := alice.recvFor("INVITE")
	if !strings.Contains(firstLine(got), "sip:alice@"+alice.hostport()) {
		t.Fatalf("R-URI not rewritten to the contact: %s", firstLine(got))
	}
	if n := len(headers(got, "Via")); n != 2 {
		t.Fatalf("want 2 Vias, got %d:\n%s", n, got)
	}
	// SER's maxfwd caps the value at its max_limit (16).
	if mf := header(got, "Max-Forwards"); mf != "16" {
		t.Fatalf("Max-Forwards = %q, want 16", mf)
	}
	if header(got, "P-hint") != "USRLOC" {
		t.Fatalf("append_hf header missing:\n%s", got)
	}
	if !strings.Contains(got, "m=audio 4000") {
		t.Fatalf("body lost:\n%s", got)
	}
	// alice answers; the reply is routed back statelessly by Via.
	reply := replyTo(got, "200 OK", "tag=a1")
	alice.send(from, reply)
	back, _ := bob.recvFor("200 OK")
	if n := len(headers(back, "Via")); n != 1 {
		t.Fatalf("our Via not removed from the reply:\n%s", back)
	}

	resp = register(alice, srv, "alice", 0, "reg-alice", 2)
	if !strings.HasPrefix(resp, "SIP/2.0 200") || header(resp, "Contact") != "" {
		t.Fatalf("unregister: %s", resp)
	}
	bob.send(srv.udpAddr(), strings.Replace(strings.Replace(invite, "z9hG4bKinv1", "z9hG4bKinv2", 1), "call-1", "call-2", 1))
	nf, _ := bob.recv()
	if !strings.HasPrefix(nf, "SIP/2.0 404 Not Found") {
		t.Fatalf("want 404 after unregister:\n%s", nf)
	}
}

// replyTo builds a reply to a received request (headers copied, To tag
// added).
func replyTo(req, status, toTag string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 " + status + "\r\n")
	for _, h := range []string{"Via", "Record-Route"} {
		for _, v := range headers(req, h) {
			b.WriteString(h + ": " + v + "\r\n")
		}
	}
	b.WriteString("From: " + header(req, "From") + "\r\n")
	to := header(req, "To")
	if toTag != "" && !strings.Contains(to, "tag=") {
		to += ";" + toTag
	}
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Call-ID: " + header(req, "Call-ID") + "\r\n")
	b.WriteString("CSeq: " + header(req, "CSeq") + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// TestMaxForwards483 sends a request with Max-Forwards 0.
func TestMaxForwards483(t *testing.T) {
	srv := startSer(t, registrarProxy)
	u := newUA(t)
	u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:x@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKmf0
Max-Forwards: 0
From: <sip:u@example.com>;tag=1
To: <sip:x@example.com>
Call-ID: mf0
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), u.hostport()))
	resp, _ := u.recv()
	if !strings.HasPrefix(resp, "SIP/2.0 483 Too Many Hops") {
		t.Fatalf("want 483:\n%s", resp)
	}
}

// TestOversize513 sends a message larger than max_len over TCP.
func TestOversize513(t *testing.T) {
	srv := startSer(t, registrarProxy)
	c, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := strings.Repeat("x", 70000)
	msg := crlf(fmt.Sprintf(`MESSAGE sip:x@%s SIP/2.0
Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKbig
Max-Forwards: 70
From: <sip:u@example.com>;tag=1
To: <sip:x@example.com>
Call-ID: big
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: %%CL%%

`, srv.addr())) + body
	msg = strings.Replace(msg, "Content-Length: 0", fmt.Sprintf("Content-Length: %d", len(body)), 1)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 513 Message too big") {
		t.Fatalf("want 513:\n%s", buf[:n])
	}
}

// TestRedirectExample runs the admin guide's redirect server (Example 16).
func TestRedirectExample(t *testing.T) {
	cfg, err := os.ReadFile("../testdata/cfg/redirect.cfg")
	if err != nil {
		t.Fatal(err)
	}
	srv := startSer(t, string(cfg))
	u := newUA(t)
	u.send(srv.udpAddr(), fmt.Sprintf(`INVITE sip:someone@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKredir
Max-Forwards: 70
From: <sip:u@example.com>;tag=1
To: <sip:someone@example.com>
Call-ID: redir
CSeq: 1 INVITE
Content-Length: 0

`, srv.addr(), u.hostport()))
	resp, _ := u.recv()
	if !strings.HasPrefix(resp, "SIP/2.0 300 Redirect") {
		t.Fatalf("want 300:\n%s", resp)
	}
	contacts := headers(resp, "Contact")
	want := []string{"<sip:parallel@iptel.org:9>", "<sip:redirect@iptel.org:9>"}
	if strings.Join(contacts, ",") != strings.Join(want, ",") {
		t.Fatalf("Contacts = %q, want %q", contacts, want)
	}
}

// TestNumberingPlan runs the admin guide's numbering plan (Example 7) with
// its two gateways moved onto test UAs.
func TestNumberingPlan(t *testing.T) {
	cfg, err := os.ReadFile("../testdata/cfg/numbering_plan.cfg")
	if err != nil {
		t.Fatal(err)
	}
	usGW, otherGW, phone := newUA(t), newUA(t), newUA(t)
	c := strings.NewReplacer(
		"192.168.0.1, 5060", fmt.Sprintf("127.0.0.1, %d", usGW.port),
		"10.0.0.1, 5060", fmt.Sprintf("127.0.0.1, %d", otherGW.port),
		// The guide's fragment has no registrar part; the test adds one.
		"route {", "route {\n\tif (method==\"REGISTER\") { save(\"location\"); break; };",
	).Replace(string(cfg))
	if !strings.Contains(c, fmt.Sprint(usGW.port)) || !strings.Contains(c, fmt.Sprint(otherGW.port)) {
		t.Fatalf("numbering plan gateways not found in the config:\n%s", cfg)
	}
	srv := startSer(t, c)
	caller := newUA(t)
	send := func(user, branch string) {
		caller.send(srv.udpAddr(), fmt.Sprintf(`INVITE sip:%s@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bK%s
Max-Forwards: 70
From: <sip:u@example.com>;tag=1
To: <sip:%s@example.com>
Call-ID: np-%s
CSeq: 1 INVITE
Content-Length: 0

`, user, srv.addr(), caller.hostport(), branch, user, branch))
	}
	send("12125551234", "us") // US: strip the leading 1 → first gateway
	got, _ := usGW.recvFor("INVITE")
	if !strings.HasPrefix(firstLine(got), "INVITE sip:2125551234@") {
		t.Fatalf("US call not stripped: %s", firstLine(got))
	}
	send("0049301234", "de") // other PSTN → second gateway, unchanged
	got, _ = otherGW.recvFor("INVITE")
	if !strings.HasPrefix(firstLine(got), "INVITE sip:0049301234@") {
		t.Fatalf("international call: %s", firstLine(got))
	}
	// An IP user (8…) registered at the phone: found by lookup.
	if r := register(phone, srv, "8001", 600, "np-reg", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("register: %s", r)
	}
	send("8001", "ip")
	got, _ = phone.recvFor("INVITE")
	if !strings.Contains(firstLine(got), "sip:8001@"+phone.hostport()) {
		t.Fatalf("IP user call: %s", firstLine(got))
	}
}
