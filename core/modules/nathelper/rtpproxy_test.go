package nathelper

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// fakeProxy is an rtpproxy speaking the control protocol over UDP or a
// unix socket; answer gives the answer to each command (without cookie).
type fakeProxy struct {
	sock   string // rtpproxy_sock value
	answer func(cmd string) string
	mu     sync.Mutex
	cmds   []string
}

func (f *fakeProxy) got(cmd string) string {
	f.mu.Lock()
	f.cmds = append(f.cmds, cmd)
	f.mu.Unlock()
	if f.answer == nil {
		return defaultAnswer(cmd)
	}
	return f.answer(cmd)
}

// Commands returns the commands received so far.
func (f *fakeProxy) Commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// defaultAnswer answers like rtpproxy: the version, the capability, a
// port and address per offer/answer, 0 for a delete.
func defaultAnswer(cmd string) string {
	switch {
	case cmd == "V":
		return "20040107"
	case strings.HasPrefix(cmd, "VF "):
		return "1"
	case strings.HasPrefix(cmd, "U"):
		return "35000 203.0.113.99"
	case strings.HasPrefix(cmd, "L"):
		return "35002 203.0.113.99"
	}
	return "0"
}

func udpProxy(t *testing.T, answer func(string) string) *fakeProxy {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeProxy{sock: "udp:" + c.LocalAddr().String(), answer: answer}
	go func() {
		buf := make([]byte, 1024)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			cookie, cmd, _ := strings.Cut(string(buf[:n]), " ")
			ans := f.got(cmd)
			if ans != "" {
				_, _ = c.WriteTo([]byte(cookie+" "+ans+"\n"), from)
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return f
}

func unixProxy(t *testing.T) *fakeProxy {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rtpproxy.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeProxy{sock: "unix:" + path}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte(f.got(strings.TrimSpace(line)) + "\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return f
}

// loadRTP loads nathelper with rtpproxy_sock and further params, and
// starts it (the version check).
func loadRTP(t *testing.T, sock string, params map[string]any) (*NATHelper, *module.Env) {
	t.Helper()
	p := map[string]any{"rtpproxy_sock": sock, "rtpproxy_tout": 1, "rtpproxy_retr": 2}
	for k, v := range params {
		p[k] = v
	}
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), p)
	return inst.(*NATHelper), env
}

func start(t *testing.T, n *NATHelper) {
	t.Helper()
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
}

const offerSDP = "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"

func invite(t *testing.T, body string) *sipmsg.Msg {
	t.Helper()
	return modtest.Request{
		Via:         []string{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport"},
		CallID:      "call-1@10.0.0.5",
		ContentType: "application/sdp",
		Body:        body,
	}.Msg(t, modtest.From("198.51.100.7:40312"))
}

func reply200(t *testing.T, body string) *sipmsg.Msg {
	t.Helper()
	return modtest.Parse(t, modtest.CRLF("SIP/2.0 200 OK\n"+
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\n"+
		"From: Alice <sip:alice@example.com>;tag=1928301774\n"+
		"To: Bob <sip:bob@example.com>;tag=b0b\n"+
		"Call-ID: call-1@10.0.0.5\nCSeq: 1 INVITE\n"+
		"Content-Type: application/sdp\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\n\n")+body, modtest.From("198.51.100.8:5060"))
}

func body(m *sipmsg.Msg) string { return string(m.Message().Body()) }

func contentLength(t *testing.T, m *sipmsg.Msg) {
	t.Helper()
	if cl := m.Message().ContentLength(); cl == nil || int(*cl) != len(m.Message().Body()) {
		t.Fatalf("Content-Length %v for a body of %d bytes", cl, len(m.Message().Body()))
	}
}

func TestParseRTPProxySock(t *testing.T) {
	nodes, err := parseRTPProxySock("unix:/var/run/rtpproxy.sock=4  udp:1.2.3.4:3456=3 udp:5.6.7.8 udp6:[::1]:7000 /tmp/x.sock")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		network, addr string
		weight        int
	}{{"unix", "/var/run/rtpproxy.sock", 4}, {"udp", "1.2.3.4:3456", 3}, {"udp", "5.6.7.8:22222", 1}, {"udp6", "[::1]:7000", 1}, {"unix", "/tmp/x.sock", 1}}
	if len(nodes) != len(want) {
		t.Fatalf("%d nodes", len(nodes))
	}
	for i, w := range want {
		if n := nodes[i]; n.network != w.network || n.addr != w.addr || n.weight != w.weight {
			t.Errorf("node %d: %+v, want %+v", i, n, w)
		}
	}
	for _, bad := range []string{"", "  ", "udp:1.2.3.4:notaport", "udp:1.2.3.4:70000", "unix:", "udp::5000", "udp:1.2.3.4=x"} {
		if _, err := parseRTPProxySock(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestForceOptions(t *testing.T) {
	o, err := parseForceOpts("aiEflrN12")
	if err != nil {
		t.Fatal(err)
	}
	if o.proxyFlags != "AIE" || !o.asymmetric || !o.force || !o.lookup || !o.real || o.node != 12 {
		t.Fatalf("%+v", o)
	}
	for _, bad := range []string{"x", "N", "aN"} {
		if _, err := parseForceOpts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	n, env := loadRTP(t, "udp:127.0.0.1:1 udp:127.0.0.1:2", nil)
	for _, args := range [][]any{{"z"}, {"N2"}, {"", "not-an-ip"}} {
		if _, err := modtest.BindErr(Exports, n, env, "force_rtp_proxy", args...); err == nil {
			t.Errorf("force_rtp_proxy%v accepted", args)
		}
	}
	if _, err := modtest.BindErr(Exports, n, env, "unforce_rtp_proxy", 2); err == nil {
		t.Error("unforce_rtp_proxy(2) accepted with 2 proxies")
	}
	for name, v := range map[string]any{"rtpproxy_retr": 0, "rtpproxy_tout": 0, "rtpproxy_disable_tout": -2, "rtpproxy_sock": "udp:x:y"} {
		if _, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), map[string]any{name: v}); err == nil {
			t.Errorf("modparam %s=%v accepted", name, v)
		}
	}
}

// TestForceOfferAnswer is the classic call: the INVITE's SDP gets the
// proxy's address and port (U), the 200's too (L), then the BYE deletes
// the session (D).
func TestForceOfferAnswer(t *testing.T) {
	for _, kind := range []string{"udp", "unix"} {
		t.Run(kind, func(t *testing.T) {
			var f *fakeProxy
			if kind == "udp" {
				f = udpProxy(t, nil)
			} else {
				f = unixProxy(t)
			}
			n, env := loadRTP(t, f.sock, nil)
			force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
			unforce := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy")
			start(t, n)

			inv := invite(t, offerSDP)
			if r, _ := force(inv); r != 1 {
				t.Fatalf("force_rtp_proxy on the INVITE: %d", r)
			}
			want := "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 203.0.113.99\r\nt=0 0\r\nm=audio 35000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=nortpproxy:yes\r\n"
			if got := body(inv); got != want {
				t.Fatalf("offer:\n%q\nwant\n%q", got, want)
			}
			contentLength(t, inv)

			ok := reply200(t, "v=0\r\no=bob 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n")
			if r, _ := force(ok); r != 1 {
				t.Fatalf("force_rtp_proxy on the 200: %d", r)
			}
			if got := body(ok); !strings.Contains(got, "c=IN IP4 203.0.113.99\r\n") || !strings.Contains(got, "m=audio 35002 RTP/AVP 0\r\n") || !strings.HasSuffix(got, "a=nortpproxy:yes\r\n") {
				t.Fatalf("answer:\n%s", got)
			}
			bye := modtest.Request{Method: "BYE", To: "Bob <sip:bob@example.com>;tag=b0b", CallID: "call-1@10.0.0.5"}.Msg(t)
			if r, _ := unforce(bye); r != 1 {
				t.Fatalf("unforce_rtp_proxy: %d", r)
			}
			cmds := f.Commands()
			wantCmds := []string{"V", "VF 20050322",
				"U call-1@10.0.0.5 198.51.100.7 4000 1928301774;1",
				"L call-1@10.0.0.5 198.51.100.8 6000 1928301774;1 b0b;1",
				"D call-1@10.0.0.5 1928301774 b0b"}
			if strings.Join(cmds, "|") != strings.Join(wantCmds, "|") {
				t.Fatalf("commands:\n%q\nwant\n%q", cmds, wantCmds)
			}
		})
	}
}

func TestForceOptionsOnTheWire(t *testing.T) {
	f := udpProxy(t, nil)
	n, env := loadRTP(t, f.sock, nil)
	real := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "r")
	asym := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "aie")
	lookup := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "l")
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "f")
	plain := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")

	if r, _ := real(invite(t, offerSDP)); r != 1 {
		t.Fatal("r")
	}
	if r, _ := asym(invite(t, offerSDP)); r != 1 {
		t.Fatal("aie")
	}
	// l: a re-INVITE within the dialog looks the session up, tags
	// swapped (it comes from the callee).
	reinv := modtest.Request{To: "Bob <sip:bob@example.com>;tag=b0b", CallID: "call-1@10.0.0.5", ContentType: "application/sdp", Body: offerSDP}.Msg(t)
	if r, _ := lookup(reinv); r != 1 {
		t.Fatal("l")
	}
	if r, _ := lookup(invite(t, offerSDP)); r != -1 {
		t.Fatal("l without To tag must fail")
	}
	// Already relayed: left alone unless f.
	proxied := offerSDP + "a=nortpproxy:yes\r\n"
	if r, _ := plain(invite(t, proxied)); r != -1 {
		t.Fatal("a=nortpproxy:yes ignored")
	}
	m := invite(t, proxied)
	if r, _ := force(m); r != 1 {
		t.Fatal("f")
	}
	if strings.Count(body(m), "a=nortpproxy:yes") != 1 {
		t.Fatalf("nortpproxy doubled:\n%s", body(m))
	}
	// Not an INVITE nor a reply; no SDP.
	if r, _ := plain(modtest.Request{Method: "MESSAGE", ContentType: "application/sdp", Body: offerSDP}.Msg(t)); r != -1 {
		t.Fatal("MESSAGE")
	}
	if r, _ := plain(modtest.Request{}.Msg(t)); r != -1 {
		t.Fatal("no body")
	}
	want := []string{
		"U call-1@10.0.0.5 10.0.0.5 4000 1928301774;1",
		"UAIE call-1@10.0.0.5 10.0.0.5 4000 1928301774;1",
		"L call-1@10.0.0.5 192.0.2.10 4000 b0b;1 1928301774;1",
	}
	cmds := f.Commands()
	if len(cmds) < 3 || strings.Join(cmds[:3], "|") != strings.Join(want, "|") {
		t.Fatalf("commands %q", cmds)
	}
}

// TestForceSDPShapes: several media streams with a session-level c=,
// a stream on hold, IPv6, a non-RTP stream.
func TestForceSDPShapes(t *testing.T) {
	f := udpProxy(t, func(cmd string) string {
		if strings.HasPrefix(cmd, "U") && strings.Contains(cmd, ";2") {
			return "35010 203.0.113.99"
		}
		if strings.HasPrefix(cmd, "U6") {
			return "35020 2001:db8::99 6"
		}
		return defaultAnswer(cmd)
	})
	n, env := loadRTP(t, f.sock, nil)
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")

	two := "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 31\r\n"
	m := invite(t, two)
	if r, _ := force(m); r != 1 {
		t.Fatal("two streams")
	}
	want := "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 203.0.113.99\r\nt=0 0\r\nm=audio 35000 RTP/AVP 0\r\nm=video 35010 RTP/AVP 31\r\na=nortpproxy:yes\r\n"
	if body(m) != want {
		t.Fatalf("two streams:\n%q", body(m))
	}

	hold := invite(t, "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	if r, _ := force(hold); r != 1 {
		t.Fatal("hold")
	}
	if got := body(hold); !strings.Contains(got, "c=IN IP4 0.0.0.0\r\n") || !strings.Contains(got, "m=audio 35000 ") || !strings.HasSuffix(got, "a=nortpproxy:yes\r\n") {
		t.Fatalf("hold:\n%q", got)
	}

	v6 := invite(t, "v=0\r\no=a 1 1 IN IP6 fd00::5\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 fd00::5\r\n")
	if r, _ := force(v6); r != 1 {
		t.Fatal("v6")
	}
	if got := body(v6); !strings.Contains(got, "c=IN IP6 2001:db8::99\r\n") {
		t.Fatalf("v6:\n%q", got)
	}

	for name, b := range map[string]string{
		"no c=":     "v=0\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"no m=":     "v=0\r\nc=IN IP4 10.0.0.5\r\n",
		"no v=":     "c=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 0\r\n",
		"TCP media": "v=0\r\nc=IN IP4 10.0.0.5\r\nm=message 4000 TCP/MSRP *\r\n",
	} {
		if r, _ := force(invite(t, b)); r != -1 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDeadProxy: an RTP proxy that does not answer costs at most
// rtpproxy_retr × rtpproxy_tout, the function is false, and the proxy
// is left alone until rtpproxy_disable_tout has passed.
func TestDeadProxy(t *testing.T) {
	silent := udpProxy(t, func(string) string { return "" })
	n, env := loadRTP(t, silent.sock, map[string]any{"rtpproxy_retr": 2, "rtpproxy_tout": 1, "rtpproxy_disable_tout": 60})
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
	unforce := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy")
	now := time.Now()
	n.rtp.now = func() time.Time { return now }
	start(t, n) // V unanswered twice: disabled
	if got := len(silent.Commands()); got != 2 {
		t.Fatalf("%d version queries, want 2 (rtpproxy_retr)", got)
	}
	if st := n.RTPProxyStates(); len(st) != 1 || !st[0].Disabled || st[0].Recheck != 60*time.Second {
		t.Fatalf("state after a failed start: %+v", st)
	}
	if r, _ := force(invite(t, offerSDP)); r != -1 {
		t.Fatal("force_rtp_proxy true with a dead proxy")
	}
	if r, _ := unforce(invite(t, offerSDP)); r != -1 {
		t.Fatal("unforce_rtp_proxy true with a dead proxy")
	}
	if got := len(silent.Commands()); got != 2 {
		t.Fatalf("a disabled proxy was asked again: %q", silent.Commands())
	}
	// After rtpproxy_disable_tout the proxy is tested again.
	now = now.Add(61 * time.Second)
	if r, _ := force(invite(t, offerSDP)); r != -1 {
		t.Fatal("force_rtp_proxy true with a dead proxy")
	}
	if got := silent.Commands(); len(got) != 4 || got[2] != "V" {
		t.Fatalf("recheck: %q", got)
	}

	// No one listens at all: the ICMP error fails at once.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close()
	n2, env2 := loadRTP(t, "udp:"+addr, nil)
	force2 := modtest.Bind(t, Exports, n2, env2, "force_rtp_proxy")
	if r, _ := force2(invite(t, offerSDP)); r != -1 {
		t.Fatal("force_rtp_proxy true without a proxy")
	}
	n3, env3 := loadRTP(t, "unix:"+filepath.Join(t.TempDir(), "none.sock"), nil)
	if r, _ := modtest.Bind(t, Exports, n3, env3, "force_rtp_proxy")(invite(t, offerSDP)); r != -1 {
		t.Fatal("force_rtp_proxy true without a unix proxy")
	}
}

// TestProxyErrors: a wrong version disables the proxy; an error answer
// makes the function false; rtpproxy_disable switches the functions off.
func TestProxyErrors(t *testing.T) {
	old := udpProxy(t, func(cmd string) string {
		if cmd == "V" {
			return "20030101"
		}
		return defaultAnswer(cmd)
	})
	n, env := loadRTP(t, old.sock, nil)
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
	start(t, n)
	if r, _ := force(invite(t, offerSDP)); r != -1 {
		t.Fatal("an RTP proxy of the wrong version was used")
	}

	failing := udpProxy(t, func(cmd string) string {
		if strings.HasPrefix(cmd, "U") {
			return "E8"
		}
		return defaultAnswer(cmd)
	})
	n, env = loadRTP(t, failing.sock, nil)
	force = modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
	m := invite(t, offerSDP)
	if r, _ := force(m); r != -1 || body(m) != modtest.CRLF(offerSDP) {
		t.Fatalf("E8 answer: %d, body\n%s", r, body(m))
	}

	f := udpProxy(t, nil)
	n, env = loadRTP(t, f.sock, map[string]any{"rtpproxy_disable": 1})
	start(t, n)
	if r, _ := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")(invite(t, offerSDP)); r != -1 {
		t.Fatal("rtpproxy_disable: force_rtp_proxy true")
	}
	if r, _ := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy")(invite(t, offerSDP)); r != -1 {
		t.Fatal("rtpproxy_disable: unforce_rtp_proxy true")
	}
	if len(f.Commands()) != 0 {
		t.Fatalf("rtpproxy_disable: commands sent %q", f.Commands())
	}
}

// TestSelectNode: the weights share the calls by Call-ID, N picks one,
// a dead proxy's share goes to the others.
func TestSelectNode(t *testing.T) {
	a, b := udpProxy(t, nil), udpProxy(t, nil)
	n, env := loadRTP(t, a.sock+"=1 "+b.sock+"=3", map[string]any{"rtpproxy_retr": 1})
	start(t, n)
	counts := map[string]int{}
	for i := 0; i < 256; i++ {
		node, err := n.rtp.selectNode(string(rune('a'+i%26))+strconv.Itoa(i), -1)
		if err != nil {
			t.Fatal(err)
		}
		counts[node.url]++
	}
	if counts[a.sock] == 0 || counts[b.sock] <= counts[a.sock] {
		t.Fatalf("shares %v", counts)
	}
	// The same Call-ID always reaches the same proxy.
	x, _ := n.rtp.selectNode("same-call", -1)
	for i := 0; i < 5; i++ {
		if y, _ := n.rtp.selectNode("same-call", -1); y != x {
			t.Fatal("a call moved between proxies")
		}
	}
	forceN1 := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "N1")
	before := len(b.Commands())
	if r, _ := forceN1(invite(t, offerSDP)); r != 1 || len(b.Commands()) != before+1 {
		t.Fatal("N1 did not use the second proxy")
	}
	unforce0 := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy", 0)
	if r, _ := unforce0(invite(t, offerSDP)); r != 1 || !strings.HasPrefix(a.Commands()[len(a.Commands())-1], "D ") {
		t.Fatal("unforce_rtp_proxy(0) did not use the first proxy")
	}
	n.rtp.disable(n.rtp.nodes[1])
	for i := 0; i < 20; i++ {
		if node, err := n.rtp.selectNode(strconv.Itoa(i), -1); err != nil || node != n.rtp.nodes[0] {
			t.Fatalf("with the second proxy disabled: %v %v", node, err)
		}
	}
}

// TestSDPLineEnds: a body with LF line ends (or none at the end) keeps
// them; the appended mark follows the body's style.
func TestSDPLineEnds(t *testing.T) {
	s := parseSDP([]byte("v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/AVP 0"))
	s.lines[2].text = setMediaPort(s.lines[2].text, 35000)
	s.appendLine(noRTPProxy)
	if got := string(s.bytes()); got != "v=0\nc=IN IP4 10.0.0.5\nm=audio 35000 RTP/AVP 0\na=nortpproxy:yes\n" {
		t.Fatalf("%q", got)
	}
	if got := setMediaPort("m=audio  4000/2  RTP/AVP 0 8", 5); got != "m=audio 5  RTP/AVP 0 8" {
		t.Fatalf("%q", got)
	}
}

// TestRTPProxyCommands: nh_show_rtpp lists the proxies and their state,
// nh_enable_rtpp switches one off (no command reaches it, its share goes
// to the others, no recheck brings it back) and on again.
func TestRTPProxyCommands(t *testing.T) {
	a, b := udpProxy(t, nil), udpProxy(t, nil)
	n, env := loadRTP(t, a.sock+" "+b.sock+"=2", map[string]any{"rtpproxy_disable_tout": 0})
	forceN0 := modtest.Bind(t, Exports, n, env, "force_rtp_proxy", "N0")
	start(t, n)
	run := func(cmd string, params ...string) string {
		return env.RPC.Execute(context.Background(), cmd, rpc.Lines(params), rpc.FIFO).Text
	}
	want := "200 OK\n" + a.sock + ":: set=0\n\tindex:: 0\n\tdisabled:: 0\n\tweight:: 1\n\trecheck_ticks:: 0\n" +
		b.sock + ":: set=0\n\tindex:: 1\n\tdisabled:: 0\n\tweight:: 2\n\trecheck_ticks:: 0\n"
	if got := run("nh_show_rtpp"); got != want {
		t.Fatalf("nh_show_rtpp:\n%q\nwant\n%q", got, want)
	}
	for _, tc := range []struct {
		params []string
		reply  string
	}{
		{nil, "400 Too few or too many arguments\n"},
		{[]string{a.sock}, "400 Too few or too many arguments\n"},
		{[]string{a.sock, "x"}, "400 Bad parameter\n"},
		{[]string{"udp:192.0.2.1:9", "0"}, "404 RTP proxy not found\n"},
		{[]string{a.sock, "0"}, "200 OK\n"},
	} {
		if got := run("nh_enable_rtpp", tc.params...); got != tc.reply {
			t.Fatalf("nh_enable_rtpp %v: %q", tc.params, got)
		}
	}
	before := len(a.Commands())
	if r, _ := forceN0(invite(t, offerSDP)); r != -1 {
		t.Fatal("a switched-off proxy was used")
	}
	for i := 0; i < 20; i++ {
		if node, err := n.rtp.selectNode(strconv.Itoa(i), -1); err != nil || node != n.rtp.nodes[1] {
			t.Fatalf("call %d went to %v (%v)", i, node, err)
		}
	}
	if len(a.Commands()) != before {
		t.Fatalf("a switched-off proxy got %q", a.Commands()[before:])
	}
	if got := run("nh_show_rtpp"); !strings.Contains(got, "index:: 0\n\tdisabled:: 1\n\tweight:: 1\n\trecheck_ticks:: -1\n") {
		t.Fatalf("nh_show_rtpp after switching off:\n%s", got)
	}
	run("nh_enable_rtpp", a.sock, "1")
	if r, _ := forceN0(invite(t, offerSDP)); r != 1 {
		t.Fatal("the proxy switched on again is not used")
	}
	if v := n.RTPProxyStates(); len(v) != 2 || v[0].Disabled {
		t.Fatalf("states %+v", v)
	}
}

// TestRTPProxyDisable: with rtpproxy_disable set, the RTP proxy is never
// asked (no version check at start, no command per call) and
// force_rtp_proxy / unforce_rtp_proxy are false, leaving the SDP alone.
func TestRTPProxyDisable(t *testing.T) {
	proxy := udpProxy(t, func(string) string { return "0" })
	n, env := loadRTP(t, proxy.sock, map[string]any{"rtpproxy_disable": 1})
	start(t, n)
	force := modtest.Bind(t, Exports, n, env, "force_rtp_proxy")
	unforce := modtest.Bind(t, Exports, n, env, "unforce_rtp_proxy")
	m := invite(t, offerSDP)
	if r, _ := force(m); r != -1 {
		t.Error("force_rtp_proxy true with rtpproxy_disable")
	}
	if body(m) != offerSDP {
		t.Errorf("SDP changed with rtpproxy_disable:\n%s", body(m))
	}
	if r, _ := unforce(invite(t, offerSDP)); r != -1 {
		t.Error("unforce_rtp_proxy true with rtpproxy_disable")
	}
	if got := proxy.Commands(); len(got) != 0 {
		t.Errorf("the proxy was asked %q", got)
	}
}
