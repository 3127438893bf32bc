package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/modules/usrloc"
)

// natClient is a UA behind a fake NAT: its Via and Contact say
// 10.0.0.5:5060, its packets come from 127.0.0.1:<port>. It records the
// NAT keep-alives (CRLF CRLF) it receives.
type natClient struct {
	*ua
	pings []natPing
}

// natPing is one keep-alive received.
type natPing struct {
	at   time.Time
	from *net.UDPAddr
}

// natPrivate is the address the client believes it has.
const natPrivate = "10.0.0.5:5060"

// next returns the next SIP message whose first line contains want,
// recording keep-alives on the way.
func (c *natClient) next(want string) string {
	c.t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.conn.SetReadDeadline(deadline)
		n, from, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		msg := string(buf[:n])
		if msg == "\r\n\r\n" {
			c.pings = append(c.pings, natPing{time.Now(), from})
			continue
		}
		if strings.Contains(firstLine(msg), want) {
			return msg
		}
	}
	c.t.Fatalf("nat client: never got %q", want)
	return ""
}

// waitPings waits until n keep-alives were received (within limit); SIP
// messages meanwhile (late retransmissions) are skipped.
func (c *natClient) waitPings(n int, limit time.Duration) {
	c.t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(limit)
	for len(c.pings) < n {
		c.conn.SetReadDeadline(deadline)
		k, from, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			c.t.Fatalf("nat client: %d keep-alives in %v, want %d", len(c.pings), limit, n)
		}
		if string(buf[:k]) != "\r\n\r\n" {
			continue
		}
		c.pings = append(c.pings, natPing{time.Now(), from})
	}
}

// register sends a REGISTER for user from behind the NAT to srv.
func (c *natClient) register(srv string, to *net.UDPAddr, user, callID string) string {
	c.send(to, fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[3]s;rport
Max-Forwards: 70
From: <sip:%[4]s@%[1]s>;tag=nat-%[3]s
To: <sip:%[4]s@%[1]s>
Call-ID: %[3]s
CSeq: 1 REGISTER
Contact: <sip:%[4]s@%[2]s>
Expires: 600
Content-Length: 0

`, srv, natPrivate, callID, user))
	return c.next("SIP/2.0 ")
}

// natCallee answers an INVITE it received with 200 OK and its private
// Contact.
func natAnswer(inv, tag string) string {
	r := replyTo(inv, "200 OK", "tag="+tag)
	return strings.Replace(r, "Content-Length: 0\r\n", "Contact: <sip:natuser@"+natPrivate+">\r\nContent-Length: 0\r\n", 1)
}

// TestNATHelperRegisterCallPing: a client behind a NAT registers through
// ser with fix_nated_register, a call to it reaches its real source
// address, Contacts are fixed both ways, and the NAT pinger sends it a
// keep-alive every second (a client not behind a NAT gets none).
func TestNATHelperRegisterCallPing(t *testing.T) {
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/nathelper/nathelper.so"
modparam("nathelper", "natping_interval", 1)
modparam("nathelper", "ping_nated_only", 1)
route {
	if (nat_uac_test("19")) {
		force_rport();
		if (method=="REGISTER") {
			fix_nated_register();
		} else {
			fix_nated_contact();
		};
	};
	if (method=="REGISTER") {
		save("location");
		break;
	};
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		break;
	};
	t_on_reply("1");
	t_relay();
}
onreply_route[1] {
	if (nat_uac_test("1")) {
		fix_nated_contact();
	};
}
`)
	nat := &natClient{ua: newUA(t)}
	bob := newUA(t)
	natSrc := "127.0.0.1:" + strconv.Itoa(nat.port)

	if r := nat.register(srv.addr(), srv.udpAddr(), "natuser", "nat-reg-1"); !strings.HasPrefix(r, "SIP/2.0 200 OK") {
		t.Fatalf("REGISTER from behind the NAT:\n%s", r)
	}
	ul := srv.inst.Modules.Instance("usrloc").(*usrloc.Module)
	d, _ := ul.Domain("location")
	cs, _ := d.Get("natuser")
	if len(cs) != 1 || cs[0].URI != "sip:natuser@"+natPrivate || cs[0].Received != "sip:"+natSrc || cs[0].Flags&usrloc.FlagNAT == 0 {
		t.Fatalf("stored contact %+v", cs)
	}
	if r := register(bob, srv, "bob", 600, "bob-reg-1", 1); !strings.HasPrefix(r, "SIP/2.0 200 OK") {
		t.Fatalf("REGISTER of bob:\n%s", r)
	}
	if cs, _ := d.Get("bob"); len(cs) != 1 || cs[0].Received != "" || cs[0].Flags != 0 {
		t.Fatalf("bob (no NAT) stored as %+v", cs)
	}

	// bob calls the NATed client: the INVITE reaches its real address,
	// its private Contact in the 200 is fixed on the way back.
	sendInvite(bob, srv.udpAddr(), "sip:natuser@"+srv.addr(), "nat-call-1")
	inv := nat.next("INVITE")
	if fl := firstLine(inv); fl != "INVITE sip:natuser@"+natPrivate+" SIP/2.0" {
		t.Fatalf("INVITE at the NATed client: %s", fl)
	}
	nat.send(srv.udpAddr(), natAnswer(inv, "nat1"))
	ok, _ := bob.recvFor("200 OK")
	if c := header(ok, "Contact"); c != "<sip:natuser@"+natSrc+">" {
		t.Fatalf("Contact of the 200 at bob: %q", c)
	}

	// The NATed client calls bob: its Contact is fixed in the INVITE,
	// and bob's 200 reaches its real port (rport).
	nat.send(srv.udpAddr(), fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK-natcall2;rport
Max-Forwards: 70
From: <sip:natuser@%[1]s>;tag=n2
To: <sip:bob@%[1]s>
Call-ID: nat-call-2
CSeq: 1 INVITE
Contact: <sip:natuser@%[2]s>
Content-Length: 0

`, srv.addr(), natPrivate))
	binv, from := bob.recvFor("INVITE")
	if c := header(binv, "Contact"); c != "<sip:natuser@"+natSrc+">" {
		t.Fatalf("Contact of the INVITE at bob: %q", c)
	}
	bob.send(from, replyTo(binv, "200 OK", "tag=b2"))
	if r := nat.next("SIP/2.0 2"); !strings.HasPrefix(r, "SIP/2.0 200 OK") {
		t.Fatalf("reply at the NATed client:\n%s", r)
	}

	// NAT pings: CRLF CRLF from the server's socket, every second.
	nat.waitPings(len(nat.pings)+2, 4*time.Second)
	last := nat.pings[len(nat.pings)-2:]
	for _, p := range last {
		if p.from.Port != srv.port {
			t.Fatalf("keep-alive from %v, not from the server's socket %s", p.from, srv.addr())
		}
	}
	if gap := last[1].at.Sub(last[0].at); gap < 500*time.Millisecond || gap > 2500*time.Millisecond {
		t.Fatalf("keep-alives %v apart, want about natping_interval (1 s)", gap)
	}
	bob.silent(1200 * time.Millisecond) // bob is not behind a NAT: not pinged
	stats := fifoCmd(t, srv, "nh_ping_stats")
	if !strings.HasPrefix(stats, "200 OK\nnatping:: on\nnatping_interval:: 1\n") || strings.Contains(stats, "\nsent:: 0\n") || strings.Contains(stats, "\nsent:: 1\n") {
		t.Fatalf("nh_ping_stats:\n%s", stats)
	}

	// nh_enable_ping 0 stops them.
	if r := fifoCmd(t, srv, "nh_enable_ping", "0"); r != "200 OK\n" {
		t.Fatalf("nh_enable_ping: %q", r)
	}
	// The reply came after any round in progress finished: drain the
	// pings already sent, then nothing more arrives.
	for {
		nat.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := nat.conn.ReadFromUDP(make([]byte, 100)); err != nil {
			break
		}
	}
	nat.silent(1500 * time.Millisecond)
}

// TestOutboundProxyCluster is Inode's cacheless architecture with ser
// nodes only: a stateless outbound proxy (dispatcher + nathelper) in
// front of two registrars and two proxies sharing one location database
// (usrloc db_mode 3). The outbound proxy fixes the NATed client's Contact,
// sends its REGISTER to a registrar and calls to a proxy, probes them all,
// and NAT-pings the contacts of the shared location table.
func TestOutboundProxyCluster(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "location.db")
	usrlocDB := `
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 3)
modparam("usrloc", "db_url", "` + db + `")
`
	registrar := func(name string) *server {
		return startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/textops/textops.so"
`+usrlocDB+`
route {
	if (method=="REGISTER") {
		append_to_reply("P-Registrar: `+name+`\r\n");
		save("location");
		break;
	};
	if (method=="OPTIONS") {
		sl_send_reply("200", "Alive");
		break;
	};
	sl_send_reply("403", "Registrar only");
}
`)
	}
	proxy := func(name string) *server {
		return startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/textops/textops.so"
`+usrlocDB+`
route {
	if (method=="OPTIONS" && uri==myself) {
		sl_send_reply("200", "Alive");
		break;
	};
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		break;
	};
	append_hf("P-Proxy: `+name+`\r\n");
	t_relay();
}
`)
	}
	r1, r2, p1, p2 := registrar("r1"), registrar("r2"), proxy("p1"), proxy("p2")
	list := dsList(t, "1 sip:"+r1.addr(), "1 sip:"+r2.addr(), "2 sip:"+p1.addr(), "2 sip:"+p2.addr())
	lb := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/dispatcher/dispatcher.so"
loadmodule "modules/nathelper/nathelper.so"
modparam("usrloc", "db_mode", 3)
modparam("usrloc", "db_url", "`+db+`")
modparam("dispatcher", "list_file", "`+list+`")
modparam("dispatcher", "flags", 1)
modparam("dispatcher", "ds_ping_interval", 1)
modparam("nathelper", "natping_interval", 1)
modparam("nathelper", "natping_tables", "location")
route {
	if (nat_uac_test("19")) {
		force_rport();
		fix_nated_contact();
	};
	if (method=="REGISTER") {
		if (!ds_select_dst("1", "1")) {
			sl_send_reply("503", "No registrar available");
			break;
		};
		forward();
		break;
	};
	if (!ds_select_dst("2", "0")) {
		sl_send_reply("503", "No proxy available");
		break;
	};
	forward();
}
`)
	nat := &natClient{ua: newUA(t)}
	natSrc := "127.0.0.1:" + strconv.Itoa(nat.port)
	r := nat.register(lb.addr(), lb.udpAddr(), "natuser", "cluster-reg-1")
	if !strings.HasPrefix(r, "SIP/2.0 200 OK") || !strings.Contains(header(r, "Contact"), "<sip:natuser@"+natSrc+">") {
		t.Fatalf("REGISTER through the outbound proxy:\n%s", r)
	}
	registrarName := header(r, "P-Registrar")
	if registrarName != "r1" && registrarName != "r2" {
		t.Fatalf("answered by %q", registrarName)
	}
	// The same user always reaches the same registrar.
	if r := nat.register(lb.addr(), lb.udpAddr(), "natuser", "cluster-reg-2"); header(r, "P-Registrar") != registrarName {
		t.Fatalf("second REGISTER answered by %q, first by %q", header(r, "P-Registrar"), registrarName)
	}

	// A call through the outbound proxy reaches a proxy, which finds the
	// contact the registrar wrote and relays the call to the client.
	bob := newUA(t)
	sendInvite(bob, lb.udpAddr(), "sip:natuser@"+lb.addr(), "cluster-call-1")
	inv := nat.next("INVITE")
	if fl := firstLine(inv); fl != "INVITE sip:natuser@"+natSrc+" SIP/2.0" {
		t.Fatalf("INVITE at the client: %s", fl)
	}
	if p := header(inv, "P-Proxy"); p != "p1" && p != "p2" {
		t.Fatalf("INVITE came through proxy %q", p)
	}
	nat.send(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: portOf(t, headers(inv, "Via")[0])}, natAnswer(inv, "c1"))
	if ok, _ := bob.recvFor("200 OK"); header(ok, "Call-ID") != "cluster-call-1" {
		t.Fatalf("200 at bob:\n%s", ok)
	}

	// The outbound proxy probes the cluster and pings the client.
	waitDSList(t, lb, "sip:"+r1.addr()+" flags=AP", "sip:"+r2.addr()+" flags=AP", "sip:"+p1.addr()+" flags=AP", "sip:"+p2.addr()+" flags=AP")
	nat.waitPings(len(nat.pings)+1, 4*time.Second)
	if p := nat.pings[len(nat.pings)-1]; p.from.Port != lb.port {
		t.Fatalf("keep-alive from %v, not from the outbound proxy %s", p.from, lb.addr())
	}
}

// portOf returns the port of a Via header value ("SIP/2.0/UDP host:port;…").
func portOf(t *testing.T, via string) int {
	t.Helper()
	f := strings.Fields(via)
	if len(f) < 2 {
		t.Fatalf("bad Via %q", via)
	}
	hp, _, _ := strings.Cut(f[1], ";")
	_, p, err := net.SplitHostPort(hp)
	if err != nil {
		t.Fatalf("bad Via %q: %v", via, err)
	}
	n, _ := strconv.Atoi(p)
	return n
}
