package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// smuggleHeaders are Content-Length variants that must be answered 400 and
// never forwarded (issue 14): conflicting values (full and compact form),
// a duplicate of the same value (Content-Length is a single-instance
// header, RFC 3261 §7.3.1), signs, junk, and a body longer than the bytes
// that came.
var smuggleHeaders = []struct{ name, hdrs string }{
	{"two different", "Content-Length: 0\nContent-Length: {n}\n"},
	{"compact and full", "l: {n}\nContent-Length: 0\n"},
	{"full and compact", "Content-Length: 0\nl: {n}\n"},
	{"duplicate identical", "Content-Length: {n}\nContent-Length: {n}\n"},
	{"plus sign", "Content-Length: +{n}\n"},
	{"minus", "Content-Length: -1\n"},
	{"leading junk", "Content-Length: x{n}\n"},
	{"trailing junk", "Content-Length: {n}x\n"},
	{"over the size limit", "Content-Length: 999999999\n"},
	// Last: on TCP a shorter body only means "wait for more bytes", so
	// the TCP test leaves this one out (tcp_msg_read_timeout ends it).
	{"beyond the bytes sent", "Content-Length: 9999\n"},
}

// smuggled is the request hidden in the body: a downstream that framed the
// outer message by the first Content-Length would take it as a second
// request coming from ser.
func smuggled(target string) string {
	return crlf(fmt.Sprintf(`INVITE sip:victim@%[1]s SIP/2.0
Via: SIP/2.0/UDP 192.0.2.66;branch=z9hG4bKsmuggled
Max-Forwards: 70
From: <sip:evil@192.0.2.66>;tag=evil
To: <sip:victim@%[1]s>
Call-ID: smuggled
CSeq: 1 INVITE
Content-Length: 0

`, target))
}

// optionsHead is the start of an OPTIONS to bob at target, up to the
// Content-Length lines.
func optionsHead(via, target, callID, branch string, cseq int) string {
	return crlf(fmt.Sprintf(`OPTIONS sip:bob@%[2]s SIP/2.0
Via: SIP/2.0/%[1]s;branch=%[4]s
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@%[2]s>
Call-ID: %[3]s
CSeq: %[5]d OPTIONS
`, via, target, callID, branch, cseq))
}

func smuggleRequest(via, target, callID, branch, clHeaders string) string {
	body := smuggled(target)
	cl := strings.ReplaceAll(strings.ReplaceAll(clHeaders, "{n}", strconv.Itoa(len(body))), "\n", "\r\n")
	return optionsHead(via, target, callID, branch, 1) + cl + "\r\n" + body
}

func validOptions(via, target, callID, branch string) string {
	return optionsHead(via, target, callID, branch, 2) + "Content-Length: 0\r\n\r\n"
}

// expectOnly checks that the first message the downstream UA gets is the
// valid request sent after the refused one (same Call-ID, so the same
// worker handles both in order): nothing of the refused message came first.
func expectOnly(t *testing.T, downstream *ua, branch string) {
	t.Helper()
	m, _ := downstream.recv()
	if !strings.Contains(m, branch) || strings.Contains(m, "smuggled") {
		t.Fatalf("downstream got something other than the valid request first:\n%s", m)
	}
}

// TestSmugglingRefusedUDP sends each bad framing over real UDP to a
// stateless proxy: 400 Bad Request to the sender, nothing forwarded.
func TestSmugglingRefusedUDP(t *testing.T) {
	srv := startSer(t, registrarProxy)
	client, downstream := newUA(t), newUA(t)
	for i, c := range smuggleHeaders {
		callID := fmt.Sprintf("smuggle-udp-%d", i)
		msg := smuggleRequest("UDP "+client.hostport(), downstream.hostport(), callID, fmt.Sprintf("z9hG4bKsu%d", i), c.hdrs)
		if _, err := client.conn.WriteToUDP([]byte(msg), srv.udpAddr()); err != nil {
			t.Fatal(err)
		}
		resp, _ := client.recv()
		if !strings.HasPrefix(resp, "SIP/2.0 400 ") || header(resp, "Call-ID") != callID {
			t.Fatalf("%s: want 400 for the smuggling message, got:\n%s", c.name, resp)
		}
		ok := fmt.Sprintf("z9hG4bKok%d", i)
		client.send(srv.udpAddr(), validOptions("UDP "+client.hostport(), downstream.hostport(), callID, ok))
		expectOnly(t, downstream, ok)
	}
}

// TestSmugglingRefusedTCP sends each bad framing over a real TCP
// connection: 400 on that connection, then the connection is closed (its
// framing is lost); nothing is forwarded.
func TestSmugglingRefusedTCP(t *testing.T) {
	srv := startSer(t, registrarProxy)
	downstream := newUA(t)
	for i, c := range smuggleHeaders[:len(smuggleHeaders)-1] {
		conn, err := net.Dial("tcp", srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		via := "TCP " + conn.LocalAddr().String()
		callID := fmt.Sprintf("smuggle-tcp-%d", i)
		if _, err := io.WriteString(conn, smuggleRequest(via, downstream.hostport(), callID, fmt.Sprintf("z9hG4bKst%d", i), c.hdrs)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		resp := readSIP(t, r)
		if !strings.HasPrefix(resp, "SIP/2.0 400 ") || header(resp, "Call-ID") != callID {
			t.Fatalf("%s: want 400 for the smuggling message, got:\n%s", c.name, resp)
		}
		if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
			t.Fatalf("%s: the connection should close after the 400 (read %q, %v)", c.name, rest, err)
		}
		conn.Close()

		conn, err = net.Dial("tcp", srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		ok := fmt.Sprintf("z9hG4bKokt%d", i)
		if _, err := io.WriteString(conn, validOptions("TCP "+conn.LocalAddr().String(), downstream.hostport(), callID, ok)); err != nil {
			t.Fatal(err)
		}
		expectOnly(t, downstream, ok)
		conn.Close()
	}
}

// readSIP reads one message (headers and Content-Length body) from r.
func readSIP(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	cl := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a message: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		l := strings.TrimRight(line, "\r\n")
		if l == "" {
			break
		}
		if n, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(n, "Content-Length") || strings.EqualFold(n, "l")) {
			fmt.Sscan(strings.TrimSpace(v), &cl)
		}
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	return b.String() + string(body)
}
