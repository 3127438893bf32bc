package tm_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core"
	_ "ser/core/modules/sl"
	"ser/core/modules/tm"
	"ser/core/sipmsg"
)

// These tests run the real server (core.Load with a ser.cfg, the script
// interpreter, sl and tm) on 127.0.0.1 and talk SIP to it.

type peer struct {
	tb   testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
}

func newPeer(tb testing.TB) *peer {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &peer{tb: tb, conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
}

func (p *peer) send(to netip.AddrPort, text string) {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := p.conn.WriteToUDPAddrPort([]byte(text), to); err != nil {
		p.tb.Fatal(err)
	}
}

// expect reads until a message for which match is true.
func (p *peer) expect(what string, match func(sip.Message) bool) sip.Message {
	p.tb.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(3 * time.Second)
	for {
		p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			p.tb.Fatalf("%s: no %s: %v", p.addr, what, err)
		}
		m, err := sipmsg.Parse(append([]byte(nil), buf[:n]...))
		if err == nil && match(m) {
			return m
		}
	}
}

func (p *peer) request(method string) *sip.Request {
	p.tb.Helper()
	return p.expect(method, func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && string(r.Method) == method
	}).(*sip.Request)
}

func (p *peer) final() *sip.Response {
	p.tb.Helper()
	return p.expect("final reply", func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode >= 200
	}).(*sip.Response)
}

func (p *peer) reply(req *sip.Request, code int, reason string) {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range req.GetHeaders("Via") {
		b.WriteString("Via: " + v.Value() + "\r\n")
	}
	b.WriteString("From: " + req.From().Value() + "\r\n")
	b.WriteString("To: " + req.To().Value() + ";tag=" + p.addr.String() + "\r\n")
	b.WriteString("Call-ID: " + req.CallID().Value() + "\r\nCSeq: " + req.CSeq().Value() + "\r\nContent-Length: 0\r\n\r\n")
	v := req.Via()
	p.send(netip.AddrPortFrom(netip.MustParseAddr(v.Host), uint16(v.Port)), b.String())
}

func invite(from *peer, ruri, callID string) string {
	return fmt.Sprintf(`INVITE %s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport
Max-Forwards: 70
From: <sip:alice@example.com>;tag=a
To: <%s>
Call-ID: %s
CSeq: 1 INVITE
Contact: <sip:alice@%s>
Content-Length: 0

`, ruri, from.addr, callID, ruri, callID, from.addr)
}

func startServer(t *testing.T, cfg string) (*core.Instance, netip.AddrPort) {
	t.Helper()
	in, err := core.Load("e2e.cfg", []byte(cfg), core.LoadOptions{
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Proto: sipmsg.ProtoUDP, Host: "127.0.0.1", Port: 0, PortSet: true}}
			o.Fork = false
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := in.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(in.Stop)
	s := in.Server.Sockets()[0]
	return in, netip.AddrPortFrom(s.IP, uint16(s.Port))
}

// TestE2ESerialForking is the admin guide's onr.cfg: parallel forking to
// two destinations, then reply_route[1] and reply_route[2] each add one
// destination (SER 0.8: appended branches are relayed automatically).
func TestE2ESerialForking(t *testing.T) {
	caller, a, b, c, d := newPeer(t), newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	cfg := fmt.Sprintf(`
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
modparam("tm", "fr_inv_timer", 15)
modparam("tm", "fr_timer", 10)
route{
	seturi("sip:nobody@%s");
	append_branch("sip:parallel@%s");
	t_on_negative("1");
	t_relay();
}
reply_route[1] {
	append_branch("sip:nonsense@%s");
	log(1, "first redirection\n");
	t_on_negative("2");
}
reply_route[2] {
	append_branch("sip:foo@%s");
	log(1, "second redirection\n");
}
`, a.addr, b.addr, c.addr, d.addr)
	in, srv := startServer(t, cfg)
	caller.send(srv, invite(caller, "sip:bob@example.com", "e2e-onr"))
	ra, rb := a.request("INVITE"), b.request("INVITE")
	a.reply(ra, 486, "Busy Here")
	b.reply(rb, 404, "Not Found")
	rc := c.request("INVITE")
	if !strings.HasPrefix(rc.Recipient.String(), "sip:nonsense@") {
		t.Errorf("serial branch R-URI %s", rc.Recipient.String())
	}
	c.reply(rc, 500, "Oops")
	rd := d.request("INVITE")
	d.reply(rd, 200, "OK")
	if r := caller.final(); r.StatusCode != 200 {
		t.Errorf("caller got %d", r.StatusCode)
	}
	tmi := in.Modules.Instance("tm").(*tm.TM)
	// The 200 goes out just before the completion is counted.
	deadline := time.Now().Add(time.Second)
	for s := tmi.Stats(); s.Completed[0] != 1; s = tmi.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestE2EStatefulUA is the admin guide's uas.cfg.
func TestE2EStatefulUA(t *testing.T) {
	caller := newPeer(t)
	cfg := `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
route{
	if (method=="REGISTER") {
		log("REGISTER");
		sl_send_reply("200", "ok");
		break;
	};
	if ( !t_newtran()) {
		sl_reply_error();
		break;
	};
	log(1, "New Transaction Arrived\n");
	if (uri=~"a@") {
		if (!t_reply("409", "Bizzar Error")) {
			sl_reply_error();
		};
	} else {
		if (!t_reply("699", "I don't want to chat with you")) {
			sl_reply_error();
		};
	};
}
`
	_, srv := startServer(t, cfg)
	for _, tc := range []struct {
		user string
		code int
	}{{"a", 409}, {"b", 699}} {
		caller.send(srv, invite(caller, "sip:"+tc.user+"@"+srv.String(), "e2e-uas-"+tc.user))
		if r := caller.final(); r.StatusCode != tc.code {
			t.Errorf("%s@: got %d, want %d", tc.user, r.StatusCode, tc.code)
		}
	}
}

// TestE2ERelayTwice checks the admin guide's FAQ error end to end.
func TestE2ERelayTwice(t *testing.T) {
	caller, a := newPeer(t), newPeer(t)
	cfg := fmt.Sprintf(`
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
route{
	rewritehostport("%s");
	t_newtran();
	if (!t_relay()) {
		sl_reply_error();
		break;
	};
}
`, a.addr)
	_, srv := startServer(t, cfg)
	caller.send(srv, invite(caller, "sip:bob@example.com", "e2e-twice"))
	if r := caller.final(); r.StatusCode != 500 {
		t.Errorf("got %d %s, want 500", r.StatusCode, r.Reason)
	}
}

// TestE2ECancel cancels a ringing call through the real server.
func TestE2ECancel(t *testing.T) {
	caller, a := newPeer(t), newPeer(t)
	cfg := fmt.Sprintf(`
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
route{
	if (method=="INVITE") {
		rewritehostport("%s");
	};
	if (!t_relay()) {
		sl_reply_error();
	};
}
`, a.addr)
	_, srv := startServer(t, cfg)
	inv := invite(caller, "sip:bob@example.com", "e2e-cancel")
	caller.send(srv, inv)
	req := a.request("INVITE")
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 180 Ringing\r\n")
	for _, v := range req.GetHeaders("Via") {
		b.WriteString("Via: " + v.Value() + "\r\n")
	}
	b.WriteString("From: " + req.From().Value() + "\r\nTo: " + req.To().Value() + ";tag=r\r\nCall-ID: e2e-cancel\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	a.send(netip.AddrPortFrom(netip.MustParseAddr(req.Via().Host), uint16(req.Via().Port)), b.String())
	caller.expect("180", func(m sip.Message) bool { r, ok := m.(*sip.Response); return ok && r.StatusCode == 180 })
	cancel := strings.Replace(strings.Replace(inv, "INVITE sip:", "CANCEL sip:", 1), "CSeq: 1 INVITE", "CSeq: 1 CANCEL", 1)
	caller.send(srv, cancel)
	if r := caller.final(); r.StatusCode != 200 || r.CSeq().MethodName != sip.CANCEL {
		t.Fatalf("CANCEL answered %d %s", r.StatusCode, r.CSeq().Value())
	}
	c := a.request("CANCEL")
	a.reply(c, 200, "OK")
	a.reply(req, 487, "Request Terminated")
	a.request("ACK")
	if r := caller.final(); r.StatusCode != 487 {
		t.Errorf("caller got %d", r.StatusCode)
	}
}
