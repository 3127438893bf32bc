package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/internal/testing/prosody"
	"ser/internal/testing/testutil"
)

// jabberCfg is the gateway part of SER 0.9.6's etc/im_gw.cfg (its sms part
// needs GSM modems) with the routing of the module's doc/xjab.cfg: a
// MESSAGE to the jabber domain goes through jab_send_message and is
// answered 202 or 502; other requests for the SIP domain go to the
// user's phone.
const jabberCfg = `
debug=3
check_via=yes
alias="localhost"

loadmodule "../sip_router/modules/sl/sl.so"
loadmodule "../sip_router/modules/tm/tm_mod.so"
loadmodule "../sip_router/modules/maxfwd/maxfwd.so"
loadmodule "../sip_router/modules/textops/textops.so"
loadmodule "../sip_router/modules/jabber/jabber.so"
loadmodule "../sip_router/modules/pa/pa.so"

modparam("tm", "fr_timer", 10)
modparam("jabber", "jaddress", "localhost")
modparam("jabber", "jport", %d)
modparam("jabber", "jdomain", "127.0.0.2=*")
modparam("jabber", "registrar", "jabber_gateway@localhost")
modparam("jabber", "workers", 2)
modparam("jabber", "max_jobs", 10)
modparam("jabber", "delay_time", 17)
modparam("jabber", "cache_time", 1800)
modparam("jabber", "sleep_time", 1)
modparam("jabber", "check_time", 2)

route{
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483","Too Many Hops");
		break;
	};
	# watchers subscribe to the presence of XMPP users (pa)
	if (method=="SUBSCRIBE" && uri=~"@127\.0\.0\.2") {
		if (t_newtran()) {
			handle_subscription("registrar");
		};
		break;
	};
	if (method=="MESSAGE" && uri=~"@127\.0\.0\.2") {
		if (!t_newtran()) {
			sl_reply_error();
			break;
		};
		if (jab_send_message()) {
			t_reply("202","Accepted");
		} else {
			t_reply("502","Bad gateway - IM error");
		};
		break;
	};
	t_relay_to_udp("127.0.0.1", "%d");
}
`

// xmppPeer is an XMPP user driven through the slixmpp script.
type xmppPeer struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startXMPPPeer(t *testing.T, srv *prosody.Server, jid, pw string) *xmppPeer {
	t.Helper()
	py := testutil.RequireTool(t, "/usr/bin/python3")
	if out, code := testutil.Run(t, 20*time.Second, "", py, "-c", "import slixmpp"); code != 0 {
		if testutil.Strict() {
			t.Fatalf("python3-slixmpp is not installed:\n%s", out)
		}
		t.Skip("python3-slixmpp not installed")
	}
	script, _ := filepath.Abs("testdata/xmpp_peer.py")
	cmd := exec.Command(py, script, jid, pw, "127.0.0.1", strconv.Itoa(srv.Port))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testutil.LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &xmppPeer{t: t, cmd: cmd, in: in, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(p.stop)
	if _, ok := p.wait("READY", 30*time.Second); !ok {
		t.Fatalf("the XMPP peer %s did not log in:\n%s", jid, stderr.String())
	}
	return p
}

func (p *xmppPeer) stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// wait returns the first line starting with prefix within d.
func (p *xmppPeer) wait(prefix string, d time.Duration) (string, bool) {
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", false
			}
			if strings.HasPrefix(l, prefix) {
				return l, true
			}
		case <-deadline:
			return "", false
		}
	}
}

func (p *xmppPeer) send(to, body string) {
	p.t.Helper()
	if _, err := fmt.Fprintf(p.in, "SEND %s %s\n", to, body); err != nil {
		p.t.Fatal(err)
	}
}

// sipsakMessage sends a MESSAGE with sipsak through ser and returns the
// final status code sipsak reports.
func sipsakMessage(t *testing.T, serAddr, from, to, body string) int {
	t.Helper()
	sipsak := testutil.RequireTool(t, "sipsak")
	msgSeq++
	f := writeFile(t, fmt.Sprintf("message%d.txt", msgSeq), crlf(fmt.Sprintf(`MESSAGE %[2]s SIP/2.0
From: <%[1]s>;tag=sk%[4]d
To: <%[2]s>
Call-ID: sipsak-jabber-%[4]d@127.0.0.1
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain
Content-Length: %[5]d

%[3]s`, from, to, body, msgSeq, len(body))))
	out, _ := testutil.Run(t, 30*time.Second, "", sipsak, "-f", f, "-s", "sip:"+serAddr, "-vv")
	code := 0
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "SIP/2.0 "); ok && len(rest) >= 3 {
			if n, err := strconv.Atoi(rest[:3]); err == nil && n >= 200 {
				code = n
			}
		}
	}
	if code == 0 {
		t.Fatalf("sipsak got no final reply:\n%s", out)
	}
	return code
}

var msgSeq int

// TestJabberGateway: a SIP user chats with an XMPP user through a real
// Prosody both ways (sipsak on the SIP side, slixmpp on the XMPP side);
// a SIP watcher sees the XMPP user's presence through pa;
// Prosody restarts and the gateway logs in again; with Prosody dead a
// MESSAGE is answered 502 at once and ser keeps relaying other requests.
func TestJabberGateway(t *testing.T) {
	srv := prosody.Start(t)
	srv.Register("alice", "alice-xmpp")
	srv.Register("bob", "bob-xmpp")
	phone := newUA(t) // alice's SIP phone
	s := startSer(t, fmt.Sprintf(jabberCfg, srv.Port, phone.port))
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(s.dir, "ser.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetJabberAccount(context.Background(), store.JabberAccount{SIPID: "sip:alice@localhost", JabID: "alice", Password: "alice-xmpp"}); err != nil {
		t.Fatal(err)
	}
	bob := startXMPPPeer(t, srv, "bob@localhost", "bob-xmpp")
	const aliceSIP = "sip:alice@localhost"
	const bobSIP = "sip:bob*localhost@127.0.0.2"

	// A user without an account is refused at once.
	if code := sipsakMessage(t, s.addr(), "sip:carol@localhost", bobSIP, "from carol"); code != 502 {
		t.Fatalf("carol without an XMPP account: %d, want 502", code)
	}

	// SIP → XMPP: the first message logs alice in.
	if code := sipsakMessage(t, s.addr(), aliceSIP, bobSIP, "hello bob"); code != 202 {
		t.Fatalf("MESSAGE to bob: %d, want 202", code)
	}
	if l, ok := bob.wait("RECV", 20*time.Second); !ok || l != "RECV alice@localhost hello bob" {
		t.Fatalf("bob got %q", l)
	}

	// XMPP → SIP: bob's answer reaches alice's phone from bob*localhost@127.0.0.2.
	bob.send("alice@localhost", "hi alice")
	msg, _ := phone.recvFor("MESSAGE")
	if !strings.Contains(header(msg, "From"), "sip:bob*localhost@127.0.0.2") || !strings.HasSuffix(msg, "hi alice") ||
		!strings.HasPrefix(msg, "MESSAGE sip:alice@localhost ") {
		t.Fatalf("alice's phone got:\n%s", msg)
	}
	phone.send(s.udpAddr(), replyTo(msg, "200 OK", "tag=ph1"))

	// Presence: carol watches bob's gateway address through pa; bob asks
	// alice for a presence subscription, the gateway accepts it and asks
	// back, so bob's XMPP presence reaches carol as a NOTIFY — open while
	// bob is online, closed when he logs out.
	w := &paUA{ua: newUA(t), srv: s}
	r := w.request("SUBSCRIBE", bobSIP, "sip:carol@localhost", "cw1", bobSIP, "", "jabsub1",
		[]string{"Event: presence", "Expires: 300", "Accept: application/pidf+xml"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE answered:\n%s", r)
	}
	waitBasic := func(want string) {
		t.Helper()
		for i := 0; i < 5; i++ {
			if n := w.notify(200); strings.Contains(n, "<basic>"+want+"</basic>") {
				return
			}
		}
		t.Fatalf("no NOTIFY with %s", want)
	}
	waitBasic("closed")
	if _, err := fmt.Fprintf(bob.in, "SUB alice@localhost\n"); err != nil {
		t.Fatal(err)
	}
	waitBasic("open")
	bob.stop()
	waitBasic("closed")

	// Prosody restarts: the gateway logs alice in again by itself and the
	// next message goes through (bob logs in again).
	srv.Restart()
	bob = startXMPPPeer(t, srv, "bob@localhost", "bob-xmpp")
	delivered := false
	for i := 0; i < 30 && !delivered; i++ {
		switch code := sipsakMessage(t, s.addr(), aliceSIP, bobSIP, "after restart "+strconv.Itoa(i)); code {
		case 202:
			_, delivered = bob.wait("RECV alice@localhost after restart", 10*time.Second)
		case 502: // still reconnecting
			time.Sleep(500 * time.Millisecond)
		default:
			t.Fatalf("MESSAGE after the restart: %d", code)
		}
	}
	if !delivered {
		t.Fatal("no message reached bob after Prosody restarted")
	}
	bob.send("alice@localhost", "welcome back")
	msg, _ = phone.recvFor("MESSAGE")
	if !strings.HasSuffix(msg, "welcome back") {
		t.Fatalf("alice's phone got:\n%s", msg)
	}
	phone.send(s.udpAddr(), replyTo(msg, "200 OK", "tag=ph2"))

	// Prosody dies: the gateway answers 502 promptly (no waiting for a
	// server that is not there) and ser goes on relaying other requests.
	srv.Stop()
	refused := false
	for i := 0; i < 20 && !refused; i++ {
		refused = sipsakMessage(t, s.addr(), aliceSIP, bobSIP, "into the void") == 502
		if !refused {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if !refused {
		t.Fatal("MESSAGEs to a dead XMPP server were not refused")
	}
	if code := sipsakMessage(t, s.addr(), "sip:carol@localhost", bobSIP, "also refused"); code != 502 {
		t.Fatalf("a new user's MESSAGE with the server down: %d, want 502", code)
	}
	done := make(chan int, 1)
	go func() { done <- sipsakMessage(t, s.addr(), "sip:carol@localhost", aliceSIP, "plain SIP") }()
	msg, _ = phone.recvFor("MESSAGE")
	if !strings.HasSuffix(msg, "plain SIP") {
		t.Fatalf("relayed MESSAGE:\n%s", msg)
	}
	phone.send(s.udpAddr(), replyTo(msg, "200 OK", "tag=ph3"))
	if code := <-done; code != 200 {
		t.Fatalf("relayed MESSAGE answered %d, want 200", code)
	}
}
