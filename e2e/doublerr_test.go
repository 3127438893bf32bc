package e2e

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core"
	"ser/core/sipmsg"
)

// Double record-routing (rr's enable_double_rr) end to end: a caller and a
// callee on different transports or address families call each other
// through ser running the Hello World config unchanged; the callee sees two
// Record-Route headers and every in-dialog request — ACK, re-INVITE and BYE,
// from either side — reaches the other side through ser.

// endpoint is a SIP user agent on one transport (UDP or TCP) and address
// (IPv4 or IPv6 loopback) for the dialog tests. Over TCP it listens for
// connections and reuses them in both directions.
type endpoint struct {
	t     *testing.T
	name  string
	proto sipmsg.Proto
	addr  netip.AddrPort
	udp   *net.UDPConn
	msgs  chan epMsg
	mu    sync.Mutex
	conns map[netip.AddrPort]net.Conn
	seq   int
}

// epMsg is a received message and how to answer it.
type epMsg struct {
	text string
	from netip.AddrPort
	conn net.Conn // TCP
}

func newEndpoint(t *testing.T, name string, proto sipmsg.Proto, ip string) *endpoint {
	t.Helper()
	e := &endpoint{t: t, name: name, proto: proto, msgs: make(chan epMsg, 64), conns: map[netip.AddrPort]net.Conn{}}
	local := netip.AddrPortFrom(netip.MustParseAddr(ip), 0)
	switch proto {
	case sipmsg.ProtoUDP:
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
		if err != nil {
			t.Fatal(err)
		}
		e.udp = c
		e.addr = c.LocalAddr().(*net.UDPAddr).AddrPort()
		go func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				e.msgs <- epMsg{text: string(buf[:n]), from: from}
			}
		}()
		t.Cleanup(func() { c.Close() })
	case sipmsg.ProtoTCP:
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(local))
		if err != nil {
			t.Fatal(err)
		}
		e.addr = l.Addr().(*net.TCPAddr).AddrPort()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				e.track(c)
			}
		}()
		t.Cleanup(func() {
			l.Close()
			e.mu.Lock()
			defer e.mu.Unlock()
			for _, c := range e.conns {
				c.Close()
			}
		})
	}
	return e
}

// track reads the messages of a TCP connection.
func (e *endpoint) track(c net.Conn) {
	from := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	e.mu.Lock()
	e.conns[from] = c
	e.mu.Unlock()
	go func() {
		r := bufio.NewReader(c)
		for {
			text, err := readStreamMsg(r)
			if err != nil {
				return
			}
			e.msgs <- epMsg{text: text, from: from, conn: c}
		}
	}()
}

// readStreamMsg reads one SIP message framed by Content-Length.
func readStreamMsg(r *bufio.Reader) (string, error) {
	var b strings.Builder
	clen := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == "\r\n" && b.Len() == 0 {
			continue // keep-alive
		}
		b.WriteString(line)
		if line == "\r\n" {
			break
		}
		if n, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(n), "Content-Length") || strings.TrimSpace(n) == "l") {
			clen, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	b.Write(body)
	return b.String(), nil
}

// hostport is the endpoint's address as written in SIP ("[::1]:port").
func (e *endpoint) hostport() string { return e.addr.String() }

// contact is the endpoint's Contact URI.
func (e *endpoint) contact() string {
	u := "sip:" + e.name + "@" + e.hostport()
	if e.proto == sipmsg.ProtoTCP {
		u += ";transport=tcp"
	}
	return u
}

// via is a fresh Via header for a request the endpoint sends.
func (e *endpoint) via() string {
	e.seq++
	return fmt.Sprintf("Via: SIP/2.0/%s %s;branch=z9hG4bK%s%d;rport", e.proto.ViaName(), e.hostport(), e.name, e.seq)
}

// send transmits a message to dst.
func (e *endpoint) send(dst netip.AddrPort, text string) {
	e.t.Helper()
	data := []byte(crlf(text))
	if e.proto == sipmsg.ProtoUDP {
		if _, err := e.udp.WriteToUDPAddrPort(data, dst); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	e.mu.Lock()
	c := e.conns[dst]
	e.mu.Unlock()
	if c == nil {
		var err error
		if c, err = net.Dial("tcp", dst.String()); err != nil {
			e.t.Fatal(err)
		}
		e.track(c)
	}
	if _, err := c.Write(data); err != nil {
		e.t.Fatal(err)
	}
}

// reply answers a received request over the way it came.
func (e *endpoint) reply(m epMsg, text string) {
	e.t.Helper()
	if m.conn != nil {
		if _, err := m.conn.Write([]byte(crlf(text))); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	e.send(m.from, text)
}

// await waits for the message whose first line starts with first (a
// method, or "SIP/2.0 200") and whose CSeq is cseq, skipping others
// (provisional replies, retransmissions).
func (e *endpoint) await(first, cseq string) epMsg {
	e.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-e.msgs:
			if strings.HasPrefix(firstLine(m.text), first) && header(m.text, "CSeq") == cseq {
				return m
			}
		case <-deadline:
			e.t.Fatalf("%s: no %q with CSeq %q", e.name, first, cseq)
		}
	}
}

// dialogSide is one user agent's view of a dialog (RFC 3261 §12).
type dialogSide struct {
	ep                  *endpoint
	callID              string
	local, remote       string // URIs
	localTag, remoteTag string
	target              string   // remote target
	routes              []string // route set, in order
	cseq                int
}

// request sends an in-dialog request along the route set: to the first
// Route's address, which must be reachable on the endpoint's transport and
// address family (the point of double record-routing).
func (d *dialogSide) request(method string, cseq int) {
	d.ep.t.Helper()
	if len(d.routes) == 0 {
		d.ep.t.Fatalf("%s: empty route set", d.ep.name)
	}
	var u sip.Uri
	if err := sip.ParseUri(strings.Trim(d.routes[0], "<>"), &u); err != nil {
		d.ep.t.Fatal(err)
	}
	proto := sipmsg.ProtoUDP
	if tr, ok := u.UriParams.Get("transport"); ok {
		proto, _ = sipmsg.ParseProto(tr)
	}
	ip, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
	if err != nil {
		d.ep.t.Fatalf("%s: route %s: %v", d.ep.name, d.routes[0], err)
	}
	if proto != d.ep.proto || ip.Is4() != d.ep.addr.Addr().Is4() {
		d.ep.t.Fatalf("%s (%s %s) cannot use the first route %s", d.ep.name, d.ep.proto, d.ep.addr.Addr(), d.routes[0])
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\n%s\nMax-Forwards: 70\n", method, d.target, d.ep.via())
	for _, r := range d.routes {
		fmt.Fprintf(&b, "Route: %s\n", r)
	}
	fmt.Fprintf(&b, "From: <%s>;tag=%s\nTo: <%s>;tag=%s\nCall-ID: %s\nCSeq: %d %s\nContact: <%s>\nContent-Length: 0\n\n",
		d.local, d.localTag, d.remote, d.remoteTag, d.callID, cseq, method, d.ep.contact())
	d.ep.send(netip.AddrPortFrom(ip, uint16(port)), b.String())
}

// ok answers a request with 200, copying what RFC 3261 §8.2.6 says.
func (d *dialogSide) ok(m epMsg) {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\n")
	for _, v := range headers(m.text, "Via") {
		fmt.Fprintf(&b, "Via: %s\n", v)
	}
	if strings.HasPrefix(m.text, "INVITE ") {
		for _, v := range headers(m.text, "Record-Route") {
			fmt.Fprintf(&b, "Record-Route: %s\n", v)
		}
	}
	to := header(m.text, "To")
	if !strings.Contains(to, "tag=") {
		to += ";tag=" + d.localTag
	}
	fmt.Fprintf(&b, "From: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\nContact: <%s>\nContent-Length: 0\n\n",
		header(m.text, "From"), to, header(m.text, "Call-ID"), header(m.text, "CSeq"), d.ep.contact())
	d.ep.reply(m, b.String())
}

// exchange sends an in-dialog request from one side and completes it on
// the other (200, and the ACK for an INVITE), checking that it arrived
// with ser's two Route entries removed.
func exchange(t *testing.T, from, to *dialogSide, method string) {
	t.Helper()
	from.cseq++
	cseq := fmt.Sprintf("%d %s", from.cseq, method)
	from.request(method, from.cseq)
	got := to.ep.await(method+" ", cseq)
	if rs := headers(got.text, "Route"); len(rs) != 0 {
		t.Fatalf("%s reached %s with Route %q:\n%s", method, to.ep.name, rs, got.text)
	}
	if want := method + " " + to.ep.contact() + " "; !strings.HasPrefix(got.text, want) {
		t.Fatalf("%s reached %s as %q", method, to.ep.name, firstLine(got.text))
	}
	to.ok(got)
	from.ep.await("SIP/2.0 200", cseq)
	if method == "INVITE" {
		from.request("ACK", from.cseq)
		to.ep.await("ACK ", fmt.Sprintf("%d ACK", from.cseq))
	}
}

// serAddr returns ser's socket of the protocol and address family.
func serAddr(t *testing.T, srv *server, proto sipmsg.Proto, v6 bool) netip.AddrPort {
	t.Helper()
	for _, sk := range srv.inst.Server.Sockets() {
		if sk.Proto == proto && sk.IP.Is6() == v6 {
			return netip.AddrPortFrom(sk.IP, uint16(sk.Port))
		}
	}
	t.Fatalf("ser has no %s socket (IPv6 %v)", proto, v6)
	return netip.AddrPort{}
}

// callThrough registers callee, lets caller INVITE it through ser, checks
// the Record-Route headers the callee got (want, with %A / %B for ser's
// addresses facing the caller and the callee) and runs re-INVITEs both
// ways and a BYE from byeFrom.
func callThrough(t *testing.T, srv *server, caller, callee *endpoint, byeFromCallee bool, id string) {
	t.Helper()
	serA := serAddr(t, srv, caller.proto, caller.addr.Addr().Is6())
	serB := serAddr(t, srv, callee.proto, callee.addr.Addr().Is6())

	callee.send(serB, fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
%[2]s
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=r%[4]s
To: <sip:%[3]s@%[1]s>
Call-ID: reg-%[4]s
CSeq: 1 REGISTER
Contact: <%[5]s>
Expires: 600
Content-Length: 0

`, serB, callee.via(), callee.name, id, callee.contact()))
	callee.await("SIP/2.0 200", "1 REGISTER")

	ruri := "sip:" + callee.name + "@" + serA.String()
	a := &dialogSide{ep: caller, callID: "call-" + id, local: "sip:" + caller.name + "@example.com", remote: ruri,
		localTag: "a" + id, cseq: 1}
	caller.send(serA, fmt.Sprintf(`INVITE %[1]s SIP/2.0
%[2]s
Max-Forwards: 70
From: <%[3]s>;tag=%[4]s
To: <%[1]s>
Call-ID: %[5]s
CSeq: 1 INVITE
Contact: <%[6]s>
Content-Length: 0

`, ruri, caller.via(), a.local, a.localTag, a.callID, caller.contact()))

	inv := callee.await("INVITE ", "1 INVITE")
	t.Logf("INVITE at the callee:\n%s", inv.text)
	rrs := headers(inv.text, "Record-Route")
	want := []string{routeTo(serB, callee.proto), routeTo(serA, caller.proto)}
	if len(rrs) != 2 {
		t.Fatalf("callee got %d Record-Route headers, want 2:\n%s", len(rrs), inv.text)
	}
	for i, w := range want {
		if !strings.Contains(rrs[i], w+";r2=on") {
			t.Errorf("Record-Route %d = %s, want %s with ;r2=on", i, rrs[i], w)
		}
	}
	b := &dialogSide{ep: callee, callID: a.callID, local: ruri, remote: a.local, localTag: "b" + id,
		remoteTag: a.localTag, target: strings.Trim(header(inv.text, "Contact"), "<>"), routes: rrs}
	b.ok(inv)

	resp := caller.await("SIP/2.0 200", "1 INVITE")
	a.remoteTag = b.localTag
	a.target = strings.Trim(header(resp.text, "Contact"), "<>")
	for i := len(headers(resp.text, "Record-Route")) - 1; i >= 0; i-- {
		a.routes = append(a.routes, headers(resp.text, "Record-Route")[i])
	}
	a.request("ACK", 1)
	callee.await("ACK ", "1 ACK")

	exchange(t, a, b, "INVITE")
	exchange(t, b, a, "INVITE")
	if byeFromCallee {
		exchange(t, b, a, "BYE")
	} else {
		exchange(t, a, b, "BYE")
	}
}

// routeTo is the address part ser writes for its socket at ap.
func routeTo(ap netip.AddrPort, proto sipmsg.Proto) string {
	s := ap.String()
	if proto == sipmsg.ProtoTCP {
		s += ";transport=tcp"
	}
	return s
}

// TestDoubleRecordRouteUDPTCP: caller on UDP, callee on TCP and the other
// way round, ser on 127.0.0.1 UDP and TCP.
func TestDoubleRecordRouteUDPTCP(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	for i, tc := range []struct {
		caller, callee sipmsg.Proto
		byeFromCallee  bool
	}{
		{sipmsg.ProtoUDP, sipmsg.ProtoTCP, true},
		{sipmsg.ProtoUDP, sipmsg.ProtoTCP, false},
		{sipmsg.ProtoTCP, sipmsg.ProtoUDP, true},
		{sipmsg.ProtoTCP, sipmsg.ProtoUDP, false},
	} {
		t.Run(fmt.Sprintf("%s-%s-bye-from-callee-%v", tc.caller, tc.callee, tc.byeFromCallee), func(t *testing.T) {
			caller := newEndpoint(t, "alice", tc.caller, "127.0.0.1")
			callee := newEndpoint(t, fmt.Sprintf("bob%d", i), tc.callee, "127.0.0.1")
			callThrough(t, srv, caller, callee, tc.byeFromCallee, strconv.Itoa(i))
		})
	}
}

// TestDoubleRecordRouteIPv6: ser listens on 127.0.0.1 and [::1]; an IPv4
// caller calls an IPv6 callee and the other way round (UDP), and an IPv4
// UDP caller an IPv6 TCP callee.
func TestDoubleRecordRouteIPv6(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"), func(o *core.Options) {
		o.Listen = []core.ListenAddr{{Host: "127.0.0.1", PortSet: true}, {Host: "::1", PortSet: true}}
	})
	for i, tc := range []struct {
		callerIP, calleeIP string
		callee             sipmsg.Proto
		byeFromCallee      bool
	}{
		{"127.0.0.1", "::1", sipmsg.ProtoUDP, true},
		{"::1", "127.0.0.1", sipmsg.ProtoUDP, false},
		{"127.0.0.1", "::1", sipmsg.ProtoTCP, false},
	} {
		t.Run(fmt.Sprintf("%s-%s-%s", tc.callerIP, tc.calleeIP, tc.callee), func(t *testing.T) {
			caller := newEndpoint(t, "carol", sipmsg.ProtoUDP, tc.callerIP)
			callee := newEndpoint(t, fmt.Sprintf("dave%d", i), tc.callee, tc.calleeIP)
			callThrough(t, srv, caller, callee, tc.byeFromCallee, "v6-"+strconv.Itoa(i))
		})
	}
}

// TestListenIPv6 starts ser on a config that listens on IPv6 the ways
// SER's config allowed (listen=udp:[::1]:port, listen=[::1]:port for UDP
// and TCP) and checks that requests arrive on every socket and that
// forward() reaches an IPv6 destination.
func TestListenIPv6(t *testing.T) {
	p1, p2, p3 := freePortOn(t, "::1"), freePortOn(t, "::1"), freePortOn(t, "127.0.0.1")
	dest := newEndpoint(t, "dest", sipmsg.ProtoUDP, "::1")
	config := fmt.Sprintf(`fork=no
listen=udp:[::1]:%d
listen=[::1]:%d
listen=127.0.0.1:%d
loadmodule "sl.so"
route {
	if (uri =~ "^sip:fwd@") {
		forward([::1], %d);
		break;
	};
	if (af == INET6 && dst_ip == ::1) {
		sl_send_reply("200", "OK v6");
		break;
	};
	sl_send_reply("200", "OK v4");
}
`, p1, p2, p3, dest.addr.Port())
	log := &logBuffer{}
	inst, err := core.Load("ipv6.cfg", []byte(config), core.LoadOptions{
		Log:      slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Override: func(o *core.Options) { o.HTTP = "" },
	})
	if err != nil {
		t.Fatalf("config does not load:\n%v", err)
	}
	if err := inst.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		inst.Stop()
		if t.Failed() {
			t.Logf("ser log:\n%s", log.String())
		}
	})
	var got []string
	for _, sk := range inst.Server.Sockets() {
		got = append(got, sk.String())
	}
	want := fmt.Sprintf("udp:[::1]:%d udp:[::1]:%d tcp:[::1]:%d udp:127.0.0.1:%d tcp:127.0.0.1:%d", p1, p2, p2, p3, p3)
	if strings.Join(got, " ") != want {
		t.Fatalf("sockets %q, want %q", got, want)
	}
	for _, tc := range []struct {
		proto sipmsg.Proto
		port  int
	}{{sipmsg.ProtoUDP, p1}, {sipmsg.ProtoUDP, p2}, {sipmsg.ProtoTCP, p2}} {
		ua := newEndpoint(t, "u", tc.proto, "::1")
		to := netip.AddrPortFrom(netip.MustParseAddr("::1"), uint16(tc.port))
		ua.send(to, fmt.Sprintf("OPTIONS sip:ser@%s SIP/2.0\n%s\nMax-Forwards: 70\nFrom: <sip:u@example.com>;tag=1\nTo: <sip:ser@example.com>\nCall-ID: opt-%s-%d\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
			to, ua.via(), tc.proto, tc.port))
		if r := ua.await("SIP/2.0 200", "1 OPTIONS"); !strings.HasPrefix(r.text, "SIP/2.0 200 OK v6") {
			t.Errorf("%s to %s: %s", tc.proto, to, firstLine(r.text))
		}
	}
	ua := newEndpoint(t, "u", sipmsg.ProtoUDP, "127.0.0.1")
	ua.send(netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", p3)), "MESSAGE sip:fwd@example.com SIP/2.0\n"+ua.via()+"\nMax-Forwards: 70\nFrom: <sip:u@example.com>;tag=1\nTo: <sip:fwd@example.com>\nCall-ID: fwd-v6\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n")
	m := dest.await("MESSAGE ", "1 MESSAGE")
	if v := headers(m.text, "Via"); len(v) != 2 || !strings.HasPrefix(v[0], fmt.Sprintf("SIP/2.0/UDP [::1]:%d;", p1)) {
		t.Errorf("forwarded over IPv6 with Vias %q", v)
	}
}

// freePortOn returns a port that is free for UDP and TCP on ip.
func freePortOn(t *testing.T, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("no free port on %s", ip)
	return 0
}

// TestDoubleRecordRouteFailureRoute: a branch added in a failure route
// (serial forking) that leaves over another transport than the request
// came in on gets the double Record-Route too — the request there is
// rebuilt from the transaction's copy.
func TestDoubleRecordRouteFailureRoute(t *testing.T) {
	first := newEndpoint(t, "busy", sipmsg.ProtoUDP, "127.0.0.1")
	second := newEndpoint(t, "vm", sipmsg.ProtoTCP, "127.0.0.1")
	srv := startSer(t, fmt.Sprintf(`fork=no
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
route {
	if (loose_route()) {
		t_relay();
		break;
	};
	record_route();
	rewriteuri("%s");
	t_on_failure("1");
	t_relay();
}
failure_route[1] {
	rewriteuri("%s");
	t_relay();
}
`, first.contact(), second.contact()))
	caller := newEndpoint(t, "alice", sipmsg.ProtoUDP, "127.0.0.1")
	serA := serAddr(t, srv, sipmsg.ProtoUDP, false)
	caller.send(serA, fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
%[2]s
Max-Forwards: 70
From: <sip:alice@example.com>;tag=fr1
To: <sip:bob@%[1]s>
Call-ID: fr-call
CSeq: 1 INVITE
Contact: <%[3]s>
Content-Length: 0

`, serA, caller.via(), caller.contact()))
	inv := first.await("INVITE ", "1 INVITE")
	if rrs := headers(inv.text, "Record-Route"); len(rrs) != 1 || strings.Contains(rrs[0], "r2=on") {
		t.Fatalf("first branch (UDP in, UDP out) Record-Route %q", rrs)
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 486 Busy Here\n")
	for _, v := range headers(inv.text, "Via") {
		fmt.Fprintf(&b, "Via: %s\n", v)
	}
	fmt.Fprintf(&b, "From: %s\nTo: %s;tag=busy\nCall-ID: fr-call\nCSeq: 1 INVITE\nContent-Length: 0\n\n", header(inv.text, "From"), header(inv.text, "To"))
	first.reply(inv, b.String())
	inv2 := second.await("INVITE ", "1 INVITE")
	rrs := headers(inv2.text, "Record-Route")
	if len(rrs) != 2 || !strings.Contains(rrs[0], routeTo(serAddr(t, srv, sipmsg.ProtoTCP, false), sipmsg.ProtoTCP)+";r2=on") ||
		!strings.Contains(rrs[1], routeTo(serA, sipmsg.ProtoUDP)+";r2=on") {
		t.Fatalf("failure-route branch (UDP in, TCP out) Record-Route %q:\n%s", rrs, inv2.text)
	}
}
