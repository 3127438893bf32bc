package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/fifo"
	"ser/internal/testing/testutil"
)

// twriteCfg hands INVITEs for vm@ to a voicemail application over a unix
// socket and MESSAGEs to one over a FIFO, as SER 0.9's vm_proxy setups
// did; the application answers through ser's FIFO (t_reply).
const twriteCfg = `
fifo="/tmp/ser_fifo"
loadmodule "sl.so"
loadmodule "tm.so"
route {
	if (!t_newtran()) { sl_reply_error(); break; };
	if (method=="INVITE") {
		if (!t_write_unix("SOCK", "voicemail")) { t_reply("500", "vm unavailable"); };
		break;
	};
	if (!t_write_req("FIFO", "im")) { t_reply("500", "im unavailable"); };
}
`

// TestTWriteThroughSer runs t_write_unix and t_write_req in a running ser:
// a test application reads SER's lines from the unix socket and the FIFO,
// and answers through ser's own FIFO with t_reply and the hash:label it got.
func TestTWriteThroughSer(t *testing.T) {
	dir := t.TempDir()
	sock, fifoPath := filepath.Join(dir, "vm.sock"), filepath.Join(dir, "im_fifo")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := syscall.Mkfifo(fifoPath, 0o600); err != nil {
		t.Fatal(err)
	}
	ff, err := os.OpenFile(fifoPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Close()
	srv := startSer(t, strings.NewReplacer("SOCK", sock, "FIFO", fifoPath).Replace(twriteCfg))
	caller := newUA(t)
	buf := make([]byte, 65536)

	// answer replies to the request the lines describe, through ser's FIFO.
	answer := func(lines []string, code, reason string) {
		t.Helper()
		cl := fifo.NewClient(srv.inst.Server.Options().FIFO)
		cl.ReplyDir = srv.dir + "/"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := cl.Execute(ctx, "t_reply", []string{code, reason, lines[15], "vm-tag", ""})
		if err != nil {
			t.Fatalf("t_reply: %v", err)
		}
		if !strings.HasPrefix(r.Text, "200 ") {
			t.Fatalf("t_reply: %q", r.Text)
		}
	}
	check := func(got, method, action string) []string {
		t.Helper()
		lines := strings.Split(got, "\n")
		if len(lines) < 21 || lines[0] != "0.3" || lines[1] != "sip_request."+action || lines[2] != method ||
			lines[3] != "vm" || lines[5] != "127.0.0.1" || lines[9] != "<sip:caller@example.com>;tag=caller-tw-"+method ||
			lines[11] != "tw-"+method || lines[14] != "1" || !strings.Contains(lines[15], ":") ||
			lines[16] != "." || lines[17] != "." || lines[18] != "P-MsgFlags: 0" || lines[19] != "." {
			t.Fatalf("%s lines: %q", method, lines)
		}
		return lines
	}

	// INVITE → unix socket → 486 from the application.
	caller.send(srv.udpAddr(), inviteTo(caller, srv, "vm", "z9hG4bKtw-inv", "tw-INVITE"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	lines := check(string(buf[:n]), "INVITE", "voicemail")
	if lines[20] != "" || len(lines) != 22 { // INVITE: the (empty) body line
		t.Errorf("INVITE body line: %q", lines[20:])
	}
	answer(lines, "486", "Busy Here")
	if r, _ := caller.recvFor("486 Busy Here"); !strings.Contains(header(r, "To"), "tag=vm-tag") {
		t.Errorf("reply To: %s", header(r, "To"))
	}

	// MESSAGE → FIFO → 200.
	msg := strings.NewReplacer("INVITE sip", "MESSAGE sip", "CSeq: 1 INVITE", "CSeq: 1 MESSAGE",
		"z9hG4bKtw-inv", "z9hG4bKtw-msg", "tw-INVITE", "tw-MESSAGE").Replace(inviteTo(caller, srv, "vm", "z9hG4bKtw-inv", "tw-INVITE"))
	caller.send(srv.udpAddr(), msg)
	ff.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err = ff.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	lines = check(string(buf[:n]), "MESSAGE", "im")
	if lines[20] != "." {
		t.Errorf("MESSAGE body line: %q", lines[20])
	}
	answer(lines, "200", "Delivered")
	caller.recvFor("200 Delivered")
}

// serial183Cfg is SER 0.9.6's examples/serial_183.cfg logic with the
// destinations as test UAs: on failure try the alternate destination, but
// once the primary rang, t_on_failure("0") in the onreply route disarms
// that; t_check_status picks the cases.
const serial183Cfg = `
loadmodule "sl.so"
loadmodule "tm.so"
route {
	if (method=="INVITE") {
		rewriteuri("sip:xxx@PRIMARY");
		t_on_failure("1");
		t_on_reply("1");
	};
	t_relay();
}
failure_route[1] {
	if (t_check_status("486|408")) {
		append_branch("sip:yyy@ALTERNATE");
		t_relay();
	};
}
onreply_route[1] {
	if (status=~"18[0-9]" && t_check_status("^18")) {
		t_on_failure("0");
	};
}
`

// TestSerial183ThroughSer: a primary that answers 486 at once makes the
// failure route try the alternate; a primary that rang first has its 486
// relayed to the caller.
func TestSerial183ThroughSer(t *testing.T) {
	for _, rings := range []bool{false, true} {
		t.Run(fmt.Sprintf("rings=%v", rings), func(t *testing.T) {
			caller, primary, alternate := newUA(t), newUA(t), newUA(t)
			srv := startSer(t, strings.NewReplacer("PRIMARY", primary.hostport(), "ALTERNATE", alternate.hostport()).Replace(serial183Cfg))
			caller.send(srv.udpAddr(), inviteTo(caller, srv, "bob", "z9hG4bKs183", fmt.Sprintf("s183-%v", rings)))
			req, from := primary.recvFor("INVITE")
			if rings {
				primary.send(from, replyTo(req, "183 Session Progress", "tag=p1"))
				caller.recvFor("183 Session Progress")
			}
			primary.send(from, replyTo(req, "486 Busy Here", "tag=p1"))
			if rings {
				caller.recvFor("486 Busy Here")
				alternate.silent(300 * time.Millisecond)
				return
			}
			areq, afrom := alternate.recvFor("INVITE")
			if !strings.HasPrefix(firstLine(areq), "INVITE sip:yyy@") {
				t.Fatalf("alternate got %s", firstLine(areq))
			}
			alternate.send(afrom, replyTo(areq, "200 OK", "tag=a1"))
			caller.recvFor("200 OK")
		})
	}
}

// TestSetAdvertisedThroughSer: set_advertised_address/port change our Via
// of the requests forwarded for that message only (statelessly and through
// tm), as SER 0.9's did.
func TestSetAdvertisedThroughSer(t *testing.T) {
	caller, callee := newUA(t), newUA(t)
	srv := startSer(t, strings.NewReplacer("CALLEEHOST", "127.0.0.1", "CALLEEPORT", strconv.Itoa(callee.port), "CALLEE", callee.hostport()).Replace(`
loadmodule "tm.so"
route {
	if (method=="MESSAGE") {
		set_advertised_address("sip.example.com");
		set_advertised_port(5999);
		forward("CALLEEHOST", CALLEEPORT);
		break;
	};
	if (method=="OPTIONS") { set_advertised_address(192.0.2.7); };
	rewritehostport("CALLEE");
	t_relay();
}
`))
	for _, tc := range []struct{ method, via string }{
		{"MESSAGE", "SIP/2.0/UDP sip.example.com:5999;branch="},
		{"OPTIONS", fmt.Sprintf("SIP/2.0/UDP 192.0.2.7:%d;branch=", srv.port)},
		{"INFO", fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=", srv.port)},
	} {
		req := strings.NewReplacer("INVITE sip", tc.method+" sip", "CSeq: 1 INVITE", "CSeq: 1 "+tc.method).
			Replace(inviteTo(caller, srv, "bob", "z9hG4bKadv"+tc.method, "adv-"+tc.method))
		caller.send(srv.udpAddr(), req)
		got, _ := callee.recvFor(tc.method)
		if via := headers(got, "Via"); len(via) == 0 || !strings.HasPrefix(via[0], tc.via) {
			t.Errorf("%s: top Via %q, want %s…", tc.method, via, tc.via)
		}
	}
}

// TestTCPAliasThroughSer: a client on a TCP connection whose Via names
// another port (the one it would listen on) gets requests for that port
// over its own connection once the connection stands for it —
// force_tcp_alias() in the script, or tcp_accept_aliases with ";alias" in
// the Via. Without an alias ser would dial the port, where nobody listens.
func TestTCPAliasThroughSer(t *testing.T) {
	for _, tc := range []struct {
		name, cfg, viaParam string
		aliased             bool
	}{
		{"force_tcp_alias", "route { force_tcp_alias(); forward_tcp(127.0.0.1, VIAPORT); }", "", true},
		{"tcp_accept_aliases", "tcp_accept_aliases=yes\nroute { forward_tcp(127.0.0.1, VIAPORT); }", ";alias", true},
		{"no alias", "route { forward_tcp(127.0.0.1, VIAPORT); }", ";alias", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaPort := testutil.FreePort(t)
			srv := startSer(t, strings.ReplaceAll(tc.cfg, "VIAPORT", strconv.Itoa(viaPort)))
			c, err := net.Dial("tcp", srv.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			msg := crlf(fmt.Sprintf(`MESSAGE sip:bob@127.0.0.1:%[1]d;transport=tcp SIP/2.0
Via: SIP/2.0/TCP 127.0.0.1:%[1]d;branch=z9hG4bKalias%[2]s
Max-Forwards: 70
From: <sip:alice@127.0.0.1>;tag=al
To: <sip:bob@127.0.0.1>
Call-ID: alias-%[3]s
CSeq: 1 MESSAGE
Content-Length: 0

`, viaPort, tc.viaParam, tc.name))
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 65536)
			if !tc.aliased {
				c.SetReadDeadline(time.Now().Add(time.Second))
				if n, err := c.Read(buf); err == nil {
					t.Fatalf("without an alias the request came back on the connection:\n%s", buf[:n])
				}
				return
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("nothing came back on the connection: %v", err)
			}
			got := string(buf[:n])
			if !strings.HasPrefix(got, "MESSAGE sip:bob@") || len(headers(got, "Via")) != 2 {
				t.Errorf("came back:\n%s", got)
			}
		})
	}
}
