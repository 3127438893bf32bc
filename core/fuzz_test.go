package core

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
)

// FuzzProcess feeds arbitrary bytes through the server's message path:
// parsing, the sanity checks, the 400 builder, a script that reads and
// rewrites the message, local replies and stateless forwarding. Nothing may
// panic (process recovers panics and counts them; the fuzzer checks the
// counter).
func FuzzProcess(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/torture/*/*")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(invite(5999, "sip:bob@example.com")))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	var srv *Server
	srv = newTestServer(f, routerFunc(func(m *sipmsg.Msg) int {
		_ = m.URIString()
		_ = m.Bytes()
		if m.Req.Method == "REGISTER" {
			srv.BuildReply(m, 200, "OK", module.ReplyOpts{Headers: []string{"Contact: <sip:x@y>;expires=60"}})
			return 1
		}
		if err := m.SetURI("sip:other@127.0.0.1:9"); err != nil {
			return -1
		}
		srv.BuildReply(m, 404, "Not Found", module.ReplyOpts{})
		dst, err := srv.ResolveHost("127.0.0.1", 9, sipmsg.ProtoUDP)
		if err == nil {
			_ = srv.RequestBytes(m, srv.SocketFor(dst), StatelessBranch(m))
		}
		return 1
	}))
	rcv := sipmsg.RcvInfo{Src: netip.MustParseAddrPort("127.0.0.1:9"), Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP}
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := srv.Stats.Panics.Load()
		srv.process(raw, rcv)
		if srv.Stats.Panics.Load() > before {
			t.Fatalf("processing panicked on %q", raw)
		}
	})
}

// TestTorture runs the RFC 4475 torture messages through the server:
// nothing panics, and the invalid ones that are requests are answered 400
// or dropped rather than routed.
func TestTorture(t *testing.T) {
	var routed int
	var srv *Server
	srv = newTestServer(t, routerFunc(func(m *sipmsg.Msg) int { routed++; return 1 }))
	rcv := sipmsg.RcvInfo{Src: netip.MustParseAddrPort("127.0.0.1:9"), Sock: srv.Sockets()[0], Proto: sipmsg.ProtoUDP}
	files, _ := filepath.Glob("testdata/torture/*/*")
	if len(files) < 20 {
		t.Fatalf("torture messages missing: %d files", len(files))
	}
	for _, p := range files {
		if filepath.Ext(p) == ".md" {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			srv.process(raw, rcv)
		})
	}
	if n := srv.Stats.Panics.Load(); n != 0 {
		t.Fatalf("%d torture messages made processing panic", n)
	}
	if srv.Stats.Malformed.Total() == 0 || routed == 0 {
		t.Fatalf("malformed=%d routed=%d: torture set not exercised", srv.Stats.Malformed.Total(), routed)
	}
}
