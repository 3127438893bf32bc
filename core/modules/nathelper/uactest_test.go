package nathelper

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/modules/registrar"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// natReq is a request from a client at 10.0.0.5:5060 behind a NAT: its
// Via, Contact and SDP say 10.0.0.5, the packet comes from src.
func natReq(t *testing.T, src string, headers ...string) *sipmsg.Msg {
	t.Helper()
	return modtest.Request{
		Via:         []string{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat;rport"},
		Headers:     append([]string{"Contact: <sip:alice@10.0.0.5:5060;transport=udp>;expires=60"}, headers...),
		ContentType: "application/sdp",
		Body:        "v=0\no=alice 1 1 IN IP4 10.0.0.5\ns=-\nc=IN IP4 10.0.0.5\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
	}.Msg(t, modtest.From(src))
}

// publicReq is a request from a client with a public address that
// matches its Via, Contact and SDP.
func publicReq(t *testing.T) *sipmsg.Msg {
	t.Helper()
	return modtest.Request{
		Via:         []string{"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKpub"},
		Headers:     []string{"Contact: <sip:bob@192.0.2.10:5060>"},
		ContentType: "application/sdp",
		Body:        "v=0\no=bob 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
	}.Msg(t, modtest.From("192.0.2.10:5060"))
}

func TestUACTest(t *testing.T) {
	behind := natReq(t, "203.0.113.5:40312")
	public := publicReq(t)
	// A client with a private address whose NAT keeps the port: only the
	// private-address tests find it.
	samePort := natReq(t, "203.0.113.5:5060")
	// A client on the same private network as the server: Via and
	// source agree, the address is private.
	lan := modtest.Request{Via: []string{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKlan"},
		Headers: []string{"Contact: <sip:c@192.168.1.20>"}}.Msg(t, modtest.From("192.168.1.20:5060"))
	noPortVia := modtest.Request{Via: []string{"SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKnp"}}.Msg(t, modtest.From("192.0.2.10:5060"))
	viaName := modtest.Request{Via: []string{"SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bKn"}}.Msg(t, modtest.From("192.0.2.10:5060"))
	tests := []struct {
		name  string
		m     *sipmsg.Msg
		flags int
		want  bool
	}{
		{"contact 1918", behind, TestContact1918, true},
		{"received", behind, TestReceived, true},
		{"via 1918", behind, TestVia1918, true},
		{"sdp 1918", behind, TestSDP1918, true},
		{"rport", behind, TestRport, true},
		{"public: contact", public, TestContact1918, false},
		{"public: received", public, TestReceived, false},
		{"public: via", public, TestVia1918, false},
		{"public: sdp", public, TestSDP1918, false},
		{"public: rport", public, TestRport, false},
		{"public: all", public, 31, false},
		{"same port: rport", samePort, TestRport, false},
		{"same port: received", samePort, TestReceived, true},
		{"lan: received+rport", lan, TestReceived | TestRport, false},
		{"lan: contact", lan, TestContact1918, true},
		{"via without port is 5060", noPortVia, TestRport | TestReceived, false},
		{"via host name differs", viaName, TestReceived, true},
		{"no sdp", lan, TestSDP1918, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UACTest(tc.m, tc.flags); got != tc.want {
				t.Fatalf("nat_uac_test(%d) = %v", tc.flags, got)
			}
		})
	}
	for _, h := range []string{"172.15.255.1", "172.32.0.1", "11.0.0.1", "192.169.0.1", "pc.example.com"} {
		if is1918(h) {
			t.Errorf("%s counted as RFC 1918", h)
		}
	}
	for _, h := range []string{"10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.0.1"} {
		if !is1918(h) {
			t.Errorf("%s not counted as RFC 1918", h)
		}
	}
}

func TestFixNatedContact(t *testing.T) {
	m := natReq(t, "203.0.113.5:40312")
	if !FixContact(m) {
		t.Fatal("fix_nated_contact failed")
	}
	if c := m.Header("Contact"); c != "<sip:alice@203.0.113.5:40312;transport=udp>;expires=60" {
		t.Fatalf("Contact: %s", c)
	}
	if !strings.Contains(string(m.Bytes()), "Contact: <sip:alice@203.0.113.5:40312;transport=udp>;expires=60\r\n") {
		t.Fatalf("serialised message lacks the new Contact:\n%s", m.Bytes())
	}
	// A reply from a NATed callee.
	resp := modtest.Parse(t, "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\nContact: <sip:c@192.168.1.7>\nContent-Length: 0\n\n",
		modtest.From("[2001:db8::7]:5062"))
	if !FixContact(resp) || resp.Header("Contact") != "<sip:c@[2001:db8::7]:5062>" {
		t.Fatalf("reply Contact: %s", resp.Header("Contact"))
	}
	for name, m := range map[string]*sipmsg.Msg{
		"no contact": modtest.Request{}.Msg(t),
		"star":       modtest.Request{Method: "REGISTER", Headers: []string{"Contact: *"}}.Msg(t),
	} {
		if FixContact(m) {
			t.Errorf("%s: fix_nated_contact succeeded", name)
		}
	}
}

func TestFixNatedRegister(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	h := modtest.Bind(t, Exports, inst, env, "fix_nated_register")
	reg := modtest.Request{Method: "REGISTER", URI: "sip:example.com"}.Msg(t)
	if r, _ := h(reg); r != 1 || !registrar.NATed(reg) {
		t.Fatalf("fix_nated_register on a REGISTER: %d, marked %v", r, registrar.NATed(reg))
	}
	inv := modtest.Request{}.Msg(t)
	if r, _ := h(inv); r != -1 || registrar.NATed(inv) {
		t.Fatalf("fix_nated_register on an INVITE: %d", r)
	}
}

func TestFixNatedSDP(t *testing.T) {
	tests := []struct {
		name  string
		flags int
		body  string
	}{
		{"media address", SDPFixMediaIP, "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"},
		{"direction", SDPAddDirection, "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=direction:active\r\n"},
		{"all", 7, "v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=direction:active\r\na=nortpproxy:yes\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := natReq(t, "203.0.113.5:40312")
			if !FixSDP(m, tc.flags) {
				t.Fatal("fix_nated_sdp failed")
			}
			if got := string(m.Req.Body()); got != tc.body {
				t.Fatalf("body\n got %q\nwant %q", got, tc.body)
			}
			if cl := m.Header("Content-Length"); cl != strconv.Itoa(len(tc.body)) {
				t.Fatalf("Content-Length %s for %d bytes", cl, len(tc.body))
			}
		})
	}
	if FixSDP(modtest.Request{}.Msg(t), SDPFixMediaIP) {
		t.Fatal("fix_nated_sdp without a body succeeded")
	}
	// Media lines too; IPv6 source.
	m := modtest.Request{ContentType: "application/sdp", Body: "v=0\nc=IN IP4 10.0.0.5\nm=audio 1 RTP/AVP 0\nc=IN IP4 10.0.0.6/127\n"}.Msg(t, modtest.From("[2001:db8::5]:5060"))
	FixSDP(m, SDPFixMediaIP)
	if got := string(m.Req.Body()); got != "v=0\r\nc=IN IP6 2001:db8::5\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP6 2001:db8::5\r\n" {
		t.Fatalf("IPv6 body %q", got)
	}
}

func TestFixupErrors(t *testing.T) {
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
	tests := []struct {
		fname string
		arg   any
		want  string
	}{
		{"nat_uac_test", 0, "nat_uac_test: flags 0: want a combination"},
		{"nat_uac_test", 32, "flags 32"},
		{"nat_uac_test", "x", "nat_uac_test: flags:"},
		{"fix_nated_sdp", 8, "fix_nated_sdp: flags 8"},
	}
	for _, tc := range tests {
		if _, err := modtest.BindErr(Exports, inst, env, tc.fname, tc.arg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s(%v): %v, want %q", tc.fname, tc.arg, err, tc.want)
		}
	}
	h := modtest.Bind(t, Exports, inst, env, "nat_uac_test", "19")
	if r, _ := h(natReq(t, "203.0.113.5:40312")); r != 1 {
		t.Fatalf("nat_uac_test(\"19\") = %d", r)
	}
	if r, _ := h(publicReq(t)); r != -1 {
		t.Fatalf("nat_uac_test(\"19\") on a public client = %d", r)
	}
}

// TestAddRcvParam: every Contact gets received="<source address>"; the
// message serialises and parses back with the parameter intact, and a
// registrar reading it stores that address.
func TestAddRcvParam(t *testing.T) {
	m := modtest.Request{Method: "REGISTER", Headers: []string{
		"Contact: <sip:alice@10.0.0.5:5060>;expires=60, <sip:alice@10.0.0.5:5062>",
	}}.Msg(t, modtest.From("203.0.113.5:40312"))
	if !AddRcvParam(m) {
		t.Fatal("add_rcv_param false")
	}
	back := modtest.Parse(t, string(m.Bytes()))
	n := 0
	for _, h := range back.Message().GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		if v, _ := c.Params.Get("received"); v != `"sip:203.0.113.5:40312"` {
			t.Errorf("contact %s: received %q\n%s", c.Address.String(), v, m.Bytes())
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d contacts:\n%s", n, m.Bytes())
	}
	tcp := modtest.Request{Method: "REGISTER", Headers: []string{"Contact: <sip:bob@10.0.0.6;transport=tcp>"}}.Msg(t, modtest.OverTCP())
	AddRcvParam(tcp)
	if !strings.Contains(string(tcp.Bytes()), `;received="sip:192.0.2.10:5060;transport=tcp"`) {
		t.Fatalf("TCP:\n%s", tcp.Bytes())
	}
	if AddRcvParam(modtest.Request{Method: "REGISTER", Headers: []string{"Contact: *"}}.Msg(t)) || AddRcvParam(modtest.Request{}.Msg(t)) {
		t.Fatal("add_rcv_param true without a Contact")
	}
}
