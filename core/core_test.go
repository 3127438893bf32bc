package core

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/counter"
	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		name, in string
		want     ListenAddr
		err      bool
	}{
		{"ip only", "127.0.0.1", ListenAddr{Host: "127.0.0.1"}, false},
		{"ip port", "127.0.0.1:5070", ListenAddr{Host: "127.0.0.1", Port: 5070, PortSet: true}, false},
		{"proto ip port", "udp:127.0.0.1:5070", ListenAddr{Proto: sipmsg.ProtoUDP, Host: "127.0.0.1", Port: 5070, PortSet: true}, false},
		{"proto ip", "tcp:10.0.0.1", ListenAddr{Proto: sipmsg.ProtoTCP, Host: "10.0.0.1"}, false},
		{"ipv6", "udp:[::1]:5062", ListenAddr{Proto: sipmsg.ProtoUDP, Host: "::1", Port: 5062, PortSet: true}, false},
		{"host name", "foo.bar", ListenAddr{Host: "foo.bar"}, false},
		{"bad port", "1.2.3.4:99999", ListenAddr{}, true},
		{"unclosed bracket", "[::1", ListenAddr{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListen(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	o := DefaultOptions()
	if !o.Fork || o.Children != 8 || o.Port != 5060 || !o.SipWarning || !o.ServerSig || o.FIFOMode != 0o660 {
		t.Fatalf("defaults wrong: %+v", o)
	}
	must := func(name string, v OptValue) {
		t.Helper()
		if err := o.Set(name, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	must("fork", OptValue{Text: "no", IsNum: true, N: 0})
	must("children", OptValue{Text: "4", IsNum: true, N: 4})
	must("fifo_mode", OptValue{Text: "0666", IsNum: true, N: 666})
	must("listen", OptValue{Text: "udp:127.0.0.1:5070"})
	must("alias", OptValue{Text: "foo.bar", Quoted: true})
	if o.Fork || o.Children != 4 || o.FIFOMode != 0o666 || len(o.Listen) != 1 || len(o.Aliases) != 1 {
		t.Fatalf("set wrong: %+v", o)
	}
	if err := o.Set("nonsense", OptValue{Text: "1"}); err == nil || !strings.Contains(err.Error(), "unknown option") {
		t.Fatalf("unknown option accepted: %v", err)
	}
	if err := o.Set("children", OptValue{Text: "many"}); err == nil {
		t.Fatal("non-numeric children accepted")
	}
	must("mem_log", OptValue{Text: "1", IsNum: true, N: 1})
	if len(o.Ignored) != 1 {
		t.Fatalf("ignored options not reported: %v", o.Ignored)
	}
	must("log_facility", OptValue{Text: "LOG_LOCAL0"})
	must("log_facility", OptValue{Text: "local7", Quoted: true})
	if o.LogFacility != "local7" {
		t.Fatalf("log_facility = %q", o.LogFacility)
	}
	if err := o.Set("log_facility", OptValue{Text: "LOG_NOWHERE"}); err == nil || !strings.Contains(err.Error(), "unknown syslog facility") {
		t.Fatalf("bad facility accepted: %v", err)
	}
	must("log_format", OptValue{Text: "JSON"})
	if o.LogFormat != LogJSON {
		t.Fatalf("log_format = %q", o.LogFormat)
	}
	if err := o.Set("log_format", OptValue{Text: "xml"}); err == nil || !strings.Contains(err.Error(), "unknown log format") {
		t.Fatalf("bad log_format accepted: %v", err)
	}
	must("advertised_port", OptValue{Text: "5999", IsNum: true, N: 5999})
	must("syn_branch", OptValue{Text: "no", IsNum: true, N: 0})
	if len(o.Ignored) != 2 || !strings.HasPrefix(o.Ignored[1], "syn_branch: ") {
		t.Fatalf("syn_branch not reported as without effect: %v", o.Ignored)
	}
	if o.DBFileMode != 0o600 || o.StorePlaintextPasswords {
		t.Fatalf("database defaults: mode %#o, plain-text passwords %v", o.DBFileMode, o.StorePlaintextPasswords)
	}
	must("db_file_mode", OptValue{Text: "0640", IsNum: true, N: 640})
	must("store_plaintext_passwords", OptValue{Text: "yes", IsNum: true, N: 1})
	if o.DBFileMode != 0o640 || !o.StorePlaintextPasswords {
		t.Fatalf("database options: mode %#o, plain-text passwords %v", o.DBFileMode, o.StorePlaintextPasswords)
	}
	for _, bad := range []string{"0644", "0400", "9"} {
		if err := o.Set("db_file_mode", OptValue{Text: bad, IsNum: true}); err == nil {
			t.Errorf("db_file_mode=%s accepted", bad)
		}
	}
}

// routerFunc adapts a function to Router.
type routerFunc func(m *sipmsg.Msg) int

func (f routerFunc) Run(kind module.Route, n int, m *sipmsg.Msg) int { return f(m) }
func (f routerFunc) HasRoute(kind module.Route, n int) bool          { return n == 0 }

// newTestServer starts a server on 127.0.0.1 (UDP+TCP, free port).
func newTestServer(t testing.TB, r Router, opts ...func(*Options)) *Server {
	t.Helper()
	return newTestServerFn(t, func(*Server) Router { return r }, opts...)
}

// newTestServerFn is newTestServer for routers that use the server: mk
// gets it before the workers start.
func newTestServerFn(t testing.TB, mk func(*Server) Router, opts ...func(*Options)) *Server {
	t.Helper()
	o := DefaultOptions()
	o.Fork = false
	o.Listen = []ListenAddr{{Host: "127.0.0.1", Port: 0, PortSet: true}}
	for _, f := range opts {
		f(o)
	}
	s, err := New(Config{Options: o})
	if err != nil {
		t.Fatal(err)
	}
	s.SetRouter(mk(s))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func udpPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readMsg(t *testing.T, c *net.UDPConn) string {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no message: %v", err)
	}
	return string(buf[:n])
}

func port(s *Server, p sipmsg.Proto) int {
	for _, sk := range s.Sockets() {
		if sk.Proto == p {
			return sk.Port
		}
	}
	return 0
}

func invite(uacPort int, ruri string) string {
	return "INVITE " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:" + itoa(uacPort) + ";branch=z9hG4bKabc;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:alice@example.com>;tag=1928\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: a84b4c76e66710@pc33\r\n" +
		"CSeq: 314159 INVITE\r\n" +
		"Contact: <sip:alice@127.0.0.1:" + itoa(uacPort) + ">\r\n" +
		"Content-Length: 0\r\n\r\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestStatelessRoundTrip forwards an INVITE statelessly to a UAS and routes
// its reply back by Via, over real UDP sockets.
func TestStatelessRoundTrip(t *testing.T) {
	uac, uas := udpPeer(t), udpPeer(t)
	uasPort := uas.LocalAddr().(*net.UDPAddr).Port
	srv := newTestServerFn(t, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			dst, err := srv.ResolveHost("127.0.0.1", uasPort, sipmsg.ProtoUDP)
			if err != nil {
				t.Error(err)
				return -1
			}
			if err := srv.Forward(m, dst); err != nil {
				t.Error(err)
			}
			return 1
		})
	})
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)}
	uacPort := uac.LocalAddr().(*net.UDPAddr).Port
	req := invite(uacPort, "sip:bob@example.com")
	uac.WriteToUDP([]byte(req), srvAddr)

	got := readMsg(t, uas)
	parsed, err := sipmsg.Parse([]byte(got))
	if err != nil {
		t.Fatalf("forwarded request does not parse: %v\n%s", err, got)
	}
	vias := parsed.GetHeaders("Via")
	if len(vias) != 2 {
		t.Fatalf("want 2 Vias, got %d:\n%s", len(vias), got)
	}
	ours := vias[0].(*sip.ViaHeader)
	if ours.Port != srvAddr.Port || !strings.HasPrefix(mustParam(ours, "branch"), MagicCookie) {
		t.Fatalf("our Via wrong: %s", ours.Value())
	}
	prev := vias[1].(*sip.ViaHeader)
	if rp, _ := prev.Params.Get("rport"); rp != itoa(uacPort) {
		t.Fatalf("rport not filled: %s", prev.Value())
	}
	// Retransmission gets the same branch.
	uac.WriteToUDP([]byte(req), srvAddr)
	again, _ := sipmsg.Parse([]byte(readMsg(t, uas)))
	if b := mustParam(again.Via(), "branch"); b != mustParam(ours, "branch") {
		t.Fatalf("branch not deterministic: %s vs %s", b, mustParam(ours, "branch"))
	}

	// The UAS answers 180 to the top Via; the server relays it to the UAC.
	r := parsed.(*sip.Request)
	resp := sip.NewResponseFromRequest(r, 180, "Ringing", nil)
	uas.WriteToUDP([]byte(resp.String()), srvAddr)
	back := readMsg(t, uac)
	if !strings.HasPrefix(back, "SIP/2.0 180 Ringing") {
		t.Fatalf("reply not relayed: %s", back)
	}
	bp, _ := sipmsg.Parse([]byte(back))
	if n := len(bp.GetHeaders("Via")); n != 1 {
		t.Fatalf("our Via not removed (%d Vias):\n%s", n, back)
	}
	// The counter is bumped after the send returns, so the UAC may read
	// the reply before the worker gets there.
	waitCounter(t, srv.Stats.FwdReplies.Total, 1)
}

// waitCounter waits up to two seconds for c to reach want and fails if it
// ends anywhere else.
func waitCounter(t *testing.T, c func() uint64, want uint64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for c() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := c(); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
}

func mustParam(v *sip.ViaHeader, k string) string { s, _ := v.Params.Get(k); return s }

// TestLocalReply checks BuildReply/SendReply: stable To-tag, Server and
// Warning headers, reply sent to the rport address.
func TestLocalReply(t *testing.T) {
	uac := udpPeer(t)
	srv := newTestServerFn(t, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			resp := srv.BuildReply(m, 404, "Not Found", module.ReplyOpts{})
			if err := srv.SendReply(m.Rcv, resp); err != nil {
				t.Error(err)
			}
			return 1
		})
	})
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)}
	// The Via names a port nobody listens on: rport must win.
	req := strings.Replace(invite(9, "sip:bob@example.com"), "127.0.0.1:9;", "192.0.2.1:9;", 1)
	uac.WriteToUDP([]byte(req), srvAddr)
	first := readMsg(t, uac)
	uac.WriteToUDP([]byte(req), srvAddr)
	second := readMsg(t, uac)
	if first != second {
		t.Fatalf("retransmission got a different reply:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{"SIP/2.0 404 Not Found", "received=127.0.0.1", "rport=", ";tag=", "Server: Sip EXpress router", "Warning: 392 ", "via_cnt==1", "Content-Length: 0"} {
		if !strings.Contains(first, want) {
			t.Errorf("reply lacks %q:\n%s", want, first)
		}
	}
}

// TestMalformed sends garbage and a broken request: the request gets 400,
// garbage is dropped and counted, the server keeps serving.
func TestMalformed(t *testing.T) {
	uac := udpPeer(t)
	srv := newTestServer(t, routerFunc(func(m *sipmsg.Msg) int { return 1 }))
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)}
	uac.WriteToUDP([]byte("\x00\x01garbage that is not SIP\r\n\r\n"), srvAddr)
	bad := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\nCSeq: notanumber INVITE\r\nContent-Length: 0\r\n\r\n"
	uac.WriteToUDP([]byte(bad), srvAddr)
	got := readMsg(t, uac)
	if !strings.HasPrefix(got, "SIP/2.0 400 Bad Request") || !strings.Contains(got, "Call-ID: x") {
		t.Fatalf("want 400, got:\n%s", got)
	}
	waitCounter(t, srv.Stats.Malformed.Total, 2)
	waitCounter(t, srv.Stats.Dropped.Total, 1)
	// By method and transport: the INVITE was answered, the garbage
	// (no method known) dropped.
	if n := srv.Stats.Malformed.Get(counter.MethodIndex("INVITE"), sipmsg.ProtoUDP); n != 1 {
		t.Errorf("malformed INVITE/udp = %d", n)
	}
	if n := srv.Stats.Dropped.Get(counter.Other, sipmsg.ProtoUDP); n != 1 {
		t.Errorf("dropped other/udp = %d", n)
	}
}

// TestTCPReplyOnSameConnection sends a request over TCP and expects the
// reply back on the same connection.
func TestTCPReplyOnSameConnection(t *testing.T) {
	srv := newTestServerFn(t, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			srv.SendReply(m.Rcv, srv.BuildReply(m, 200, "OK", module.ReplyOpts{}))
			return 1
		})
	})
	c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port(srv, sipmsg.ProtoTCP)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := strings.Replace(invite(5999, "sip:bob@example.com"), "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
	// Two messages in one write must be framed apart.
	c.Write([]byte(req + req))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 8192)
	var got string
	for strings.Count(got, "SIP/2.0 200 OK") < 2 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got += string(buf[:n])
	}
}

func TestIsMyself(t *testing.T) {
	srv := newTestServer(t, routerFunc(func(m *sipmsg.Msg) int { return 1 }), func(o *Options) {
		o.Aliases = []ListenAddr{{Host: "foo.bar"}, {Host: "sales.foo.bar", Port: 5070, PortSet: true}}
	})
	p := port(srv, sipmsg.ProtoUDP)
	tests := []struct {
		host string
		port int
		want bool
	}{
		{"127.0.0.1", p, true},
		{"127.0.0.1", 0, p == 5060},
		{"127.0.0.2", p, false},
		{"foo.bar", 0, true},
		{"FOO.BAR", 1234, true},
		{"sales.foo.bar", 5070, true},
		{"sales.foo.bar", 5071, false},
		{"other.bar", 0, false},
	}
	for _, tc := range tests {
		if got := srv.IsMyself(tc.host, tc.port, sipmsg.ProtoNone); got != tc.want {
			t.Errorf("IsMyself(%s, %d) = %v, want %v", tc.host, tc.port, got, tc.want)
		}
	}
}

func TestHashCallID(t *testing.T) {
	a := hashCallID([]byte("INVITE x SIP/2.0\r\nCall-ID: abc\r\n\r\n"))
	b := hashCallID([]byte("BYE x SIP/2.0\r\ni:  abc \r\n\r\n"))
	if a != b || a == 0 {
		t.Fatalf("compact and full Call-ID hash differently: %d %d", a, b)
	}
}

// TestCoreStats checks the core_stats command's counters.
func TestCoreStats(t *testing.T) {
	srv := newTestServer(t, routerFunc(func(m *sipmsg.Msg) int { return 1 }))
	reg := rpc.NewRegistry()
	if err := srv.registerStats(reg); err != nil {
		t.Fatal(err)
	}
	srv.process([]byte("garbage\r\n\r\n"), sipmsg.RcvInfo{Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP})
	out := reg.Execute(context.Background(), "core_stats", nil, rpc.FIFO).Text
	for _, want := range []string{"200 ok\n", "malformed: 1\n", "dropped: 1\n", "tcp_dropped: 0\n", "tcp_connections: 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("core_stats lacks %q:\n%s", want, out)
		}
	}
}

// TestForceRport: after force_rport() a reply goes to the source port even
// though the client's Via has no rport parameter.
func TestForceRport(t *testing.T) {
	uac := udpPeer(t)
	srv := newTestServerFn(t, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			m.SetForceRport()
			srv.SendReply(m.Rcv, srv.BuildReply(m, 200, "OK", module.ReplyOpts{}))
			return 1
		})
	})
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)}
	// The Via names 10.0.0.5:5060 without rport (a client behind NAT).
	req := strings.Replace(invite(9, "sip:bob@example.com"), "127.0.0.1:9;branch=z9hG4bKabc;rport", "10.0.0.5:5060;branch=z9hG4bKabc", 1)
	uac.WriteToUDP([]byte(req), srvAddr)
	got := readMsg(t, uac)
	want := "rport=" + itoa(uac.LocalAddr().(*net.UDPAddr).Port)
	if !strings.Contains(got, want) || !strings.Contains(got, "received=127.0.0.1") {
		t.Fatalf("reply lacks %s / received:\n%s", want, got)
	}
}

// TestAdvertised forwards with advertised_address/advertised_port set: our
// Via carries them, the server counts them as itself, and a reply to that
// Via is relayed back.
func TestAdvertised(t *testing.T) {
	uac, uas := udpPeer(t), udpPeer(t)
	uasPort := uas.LocalAddr().(*net.UDPAddr).Port
	srv := newTestServerFn(t, func(srv *Server) Router {
		return routerFunc(func(m *sipmsg.Msg) int {
			dst, err := srv.ResolveHost("127.0.0.1", uasPort, sipmsg.ProtoUDP)
			if err == nil {
				err = srv.Forward(m, dst)
			}
			if err != nil {
				t.Error(err)
			}
			return 1
		})
	}, func(o *Options) { o.Advertised = "proxy.example.net"; o.AdvPort = 5999 })
	if !srv.IsMyself("proxy.example.net", 5999, sipmsg.ProtoUDP) || srv.IsMyself("proxy.example.net", 5998, sipmsg.ProtoUDP) {
		t.Fatal("advertised address/port not recognised as myself")
	}
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)}
	uac.WriteToUDP([]byte(invite(uac.LocalAddr().(*net.UDPAddr).Port, "sip:bob@example.com")), srvAddr)
	got := readMsg(t, uas)
	if !strings.Contains(got, "Via: SIP/2.0/UDP proxy.example.net:5999;branch=") {
		t.Fatalf("Via does not carry the advertised address and port:\n%s", got)
	}
	parsed, err := sipmsg.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	resp := sip.NewResponseFromRequest(parsed.(*sip.Request), 183, "Session Progress", nil)
	uas.WriteToUDP([]byte(resp.String()), srvAddr)
	if back := readMsg(t, uac); !strings.HasPrefix(back, "SIP/2.0 183 ") {
		t.Fatalf("reply to the advertised Via not relayed: %s", back)
	}
}

// TestReceivedDNS checks the dns and rev_dns options: a Via naming the
// sender by a host name that resolves to (or reverse-resolves from) the
// source address gets no received= parameter; without the options it does.
func TestReceivedDNS(t *testing.T) {
	names, err := net.LookupAddr("127.0.0.1")
	if err != nil || len(names) == 0 {
		t.Skipf("127.0.0.1 has no reverse name here: %v", err)
	}
	ips, err := net.LookupHost("localhost")
	if err != nil || !slices.Contains(ips, "127.0.0.1") {
		t.Skipf("localhost does not resolve to 127.0.0.1 here: %v %v", ips, err)
	}
	revName := strings.TrimSuffix(names[0], ".")
	for _, tc := range []struct {
		name      string
		via       string
		dns, rev  bool
		wantRecvd bool
	}{
		{"no checks", "localhost", false, false, true},
		{"dns", "localhost", true, false, false},
		{"dns mismatch", "example.invalid", true, false, true},
		{"rev_dns", revName, false, true, false},
		{"rev_dns mismatch", "other.invalid", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uac := udpPeer(t)
			srv := newTestServerFn(t, func(srv *Server) Router {
				return routerFunc(func(m *sipmsg.Msg) int {
					srv.SendReply(m.Rcv, srv.BuildReply(m, 404, "Not Found", module.ReplyOpts{}))
					return 1
				})
			}, func(o *Options) { o.DNS, o.RevDNS = tc.dns, tc.rev })
			p := uac.LocalAddr().(*net.UDPAddr).Port
			req := strings.Replace(invite(p, "sip:bob@example.com"), "127.0.0.1:"+itoa(p)+";branch=z9hG4bKabc;rport",
				tc.via+":"+itoa(p)+";branch=z9hG4bKabc", 1)
			uac.WriteToUDP([]byte(req), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port(srv, sipmsg.ProtoUDP)})
			resp := readMsg(t, uac)
			if got := strings.Contains(resp, "received=127.0.0.1"); got != tc.wantRecvd {
				t.Fatalf("received= present = %v, want %v:\n%s", got, tc.wantRecvd, resp)
			}
		})
	}
}

// TestReady: Ready (/ready) is nil while the sockets receive and every
// open database answers, and names the reason otherwise.
func TestReady(t *testing.T) {
	srv := newTestServer(t, routerFunc(func(m *sipmsg.Msg) int { return 1 }))
	ctx := context.Background()
	if _, err := srv.DB("sqlite://" + t.TempDir() + "/ser.db"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Ready(ctx); err != nil {
		t.Fatalf("ready: %v", err)
	}
	if dbs := srv.Databases(); len(dbs) != 1 || dbs[0].Store == nil {
		t.Fatalf("databases %+v", dbs)
	}
	srv.Shutdown()
	if err := srv.Ready(ctx); err == nil || err.Error() != "shutting down" {
		t.Fatalf("after a shutdown request: %v", err)
	}
	srv.Stop()
	if err := srv.Ready(ctx); err == nil || err.Error() != "SIP listeners are not up" {
		t.Fatalf("stopped: %v", err)
	}
}
