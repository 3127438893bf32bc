package modtest

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

func TestIsMyself(t *testing.T) {
	c := NewCore()
	c.Aliases = []string{"iptel.org", "proxy.example.com:5070"}
	tests := []struct {
		name  string
		host  string
		port  int
		proto sipmsg.Proto
		want  bool
	}{
		{name: "socket ip default port", host: "127.0.0.1", want: true},
		{name: "socket ip explicit port", host: "127.0.0.1", port: 5060, want: true},
		{name: "socket ip over tcp", host: "127.0.0.1", proto: sipmsg.ProtoTCP, want: true},
		{name: "socket ip wrong port", host: "127.0.0.1", port: 5070},
		{name: "no tls socket", host: "127.0.0.1", proto: sipmsg.ProtoTLS},
		{name: "alias any port", host: "IPTEL.org", port: 9, want: true},
		{name: "alias with port", host: "proxy.example.com", port: 5070, want: true},
		{name: "alias wrong port", host: "proxy.example.com"},
		{name: "stranger", host: "192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.IsMyself(tc.host, tc.port, tc.proto); got != tc.want {
				t.Errorf("IsMyself(%q, %d, %v) = %v, want %v", tc.host, tc.port, tc.proto, got, tc.want)
			}
		})
	}
}

func TestRequestBuilder(t *testing.T) {
	m := Request{Method: "OPTIONS", Headers: []string{"Accept: application/sdp"}, ContentType: "application/sdp", Body: SDP}.Msg(t)
	if m.Method() != "OPTIONS" || m.URIString() != "sip:bob@example.com" {
		t.Fatalf("method %q uri %q", m.Method(), m.URIString())
	}
	if got := m.Header("Accept"); got != "application/sdp" {
		t.Errorf("Accept = %q", got)
	}
	if string(m.Req.Body()) != SDP {
		t.Errorf("body = %q", m.Req.Body())
	}
	if m.Rcv.Sock != UDPSocket || m.Rcv.Src != DefaultSrc {
		t.Errorf("rcv = %+v", m.Rcv)
	}
	tcp := Request{}.Msg(t, OverTCP(), From("198.51.100.7:40000"))
	if tcp.Rcv.Proto != sipmsg.ProtoTCP || tcp.Rcv.ConnID == 0 || tcp.Rcv.Src.String() != "198.51.100.7:40000" {
		t.Errorf("tcp rcv = %+v", tcp.Rcv)
	}
}

func TestParseReply(t *testing.T) {
	m := Parse(t, `SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1
To: <sip:bob@example.com>;tag=x
From: <sip:alice@example.com>;tag=y
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

`)
	if m.IsRequest() || m.Resp.StatusCode != 180 || m.Method() != "INVITE" {
		t.Fatalf("parsed %+v", m.Resp)
	}
}

func TestBuildAndRecordReply(t *testing.T) {
	c := NewCore()
	m := Request{}.Msg(t)
	m.ReplyHeaders = []string{"P-Test: 1"}
	resp := c.BuildReply(m, 302, "Moved", module.ReplyOpts{ToTag: "abc", Headers: []string{"Contact: <sip:x@y>"}})
	if err := c.SendReply(m.Rcv, resp); err != nil {
		t.Fatal(err)
	}
	got := string(c.LastReply(t).Bytes)
	for _, want := range []string{"SIP/2.0 302 Moved\r\n", ";tag=abc\r\n", "\r\nContact: <sip:x@y>\r\nP-Test: 1\r\nServer: "} {
		if !strings.Contains(got, want) {
			t.Errorf("reply lacks %q:\n%s", want, got)
		}
	}
	c.Err = ErrInjected
	if err := c.SendReply(m.Rcv, resp); err != ErrInjected {
		t.Errorf("SendReply with Err set = %v", err)
	}
	if n := len(c.Replies()); n != 1 {
		t.Errorf("%d replies recorded, want 1", n)
	}
}

func TestForwardAndResolve(t *testing.T) {
	c := NewCore()
	c.Hosts["gw.example.com"] = UDPSocket.IP
	var u sip.Uri
	if err := sip.ParseUri("sip:gw.example.com;transport=tcp", &u); err != nil {
		t.Fatal(err)
	}
	d, err := c.Resolve(&u)
	if err != nil || d.Proto != sipmsg.ProtoTCP || d.Addr.Port() != 5060 {
		t.Fatalf("Resolve = %+v, %v", d, err)
	}
	m := Request{}.Msg(t)
	if err := c.Forward(m, d); err != nil {
		t.Fatal(err)
	}
	f := c.Forwards()
	if len(f) != 1 || f[0].Dst != d || !strings.HasPrefix(string(f[0].Bytes), "INVITE sip:bob@example.com SIP/2.0\r\n") {
		t.Fatalf("forwards = %+v", f)
	}
	if _, err := c.ResolveHost("unknown.invalid", 0, sipmsg.ProtoUDP); err == nil {
		t.Error("unknown host resolved")
	}
}

func TestValues(t *testing.T) {
	vs := Values(5, "x", module.Value{S: "raw"})
	if !vs[0].IsInt || vs[0].N != 5 || vs[1].S != "x" || !vs[1].Quoted || vs[2].S != "raw" {
		t.Errorf("Values = %+v", vs)
	}
}

func TestRequestBytes(t *testing.T) {
	c := NewCore()
	m := Request{}.Msg(t)
	before := string(m.Bytes())
	got := string(c.RequestBytes(m, TCPSocket, "z9hG4bKabc"))
	if !strings.HasPrefix(got, "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKabc\r\nVia: SIP/2.0/UDP 192.0.2.10:5060") {
		t.Errorf("RequestBytes:\n%s", got)
	}
	if string(m.Bytes()) != before {
		t.Error("RequestBytes changed the message")
	}
}
