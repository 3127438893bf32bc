package tm

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// testTimers are short timers so that timeouts happen within a test.
var testTimers = Timers{
	FR: 400 * time.Millisecond, FRInv: 700 * time.Millisecond, Wait: 150 * time.Millisecond,
	T1: 60 * time.Millisecond, T1p2: 120 * time.Millisecond, T1p3: 240 * time.Millisecond, T2: 240 * time.Millisecond,
}

// logBuf collects the module's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// netCore is a module.Core over one real UDP socket on 127.0.0.1: it
// runs a test "script" for every request received (in order, like one
// core worker), offers replies to tm first and relays the others
// statelessly by Via. Everything else comes from the modtest fake.
type netCore struct {
	*modtest.Core
	tb   testing.TB
	conn *net.UDPConn
	sock *sipmsg.Socket
	tm   *TM
	env  *module.Env
	log  *logBuf

	scriptMu sync.Mutex
	script   func(m *sipmsg.Msg)

	stateless atomic.Int32
	wg        sync.WaitGroup
}

func newNetCore(tb testing.TB, params map[string]any) *netCore {
	tb.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	sock := &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: port, Name: "127.0.0.1"}
	mc := modtest.NewCore()
	mc.Socks = []*sipmsg.Socket{sock}
	nc := &netCore{Core: mc, tb: tb, conn: conn, sock: sock, log: &logBuf{}}
	nc.env = &module.Env{
		Log:      slog.New(slog.NewTextHandler(nc.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RPC:      rpc.NewRegistry(),
		Core:     nc,
		Instance: func(string) any { return nil },
	}
	inst, err := modtest.LoadEnv(Exports, nc.env, params)
	if err != nil {
		tb.Fatal(err)
	}
	nc.tm = inst.(*TM)
	nc.tm.SetTimers(testTimers)
	nc.wg.Add(1)
	go nc.loop()
	tb.Cleanup(func() {
		nc.tm.Stop()
		conn.Close()
		nc.wg.Wait()
		if tb.Failed() {
			tb.Logf("tm log:\n%s", nc.log.String())
		}
	})
	return nc
}

// addr is the proxy's address.
func (nc *netCore) addr() netip.AddrPort {
	return netip.AddrPortFrom(nc.sock.IP, uint16(nc.sock.Port))
}

// freshEnv is the core's environment with a new command registry (for
// loading another instance).
func (nc *netCore) freshEnv() *module.Env {
	e := *nc.env
	e.RPC = rpc.NewRegistry()
	return &e
}

// bind binds a tm script function as the interpreter would.
func (nc *netCore) bind(name string, args ...any) module.Handler {
	nc.tb.Helper()
	h, err := modtest.BindErr(Exports, nc.tm, nc.env, name, args...)
	if err != nil {
		nc.tb.Fatal(err)
	}
	return h
}

func (nc *netCore) setScript(f func(m *sipmsg.Msg)) {
	nc.scriptMu.Lock()
	nc.script = f
	nc.scriptMu.Unlock()
}

func (nc *netCore) loop() {
	defer nc.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, src, err := nc.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		msg, err := sipmsg.Parse(raw)
		if err != nil {
			continue
		}
		rcv := sipmsg.RcvInfo{Src: src, Sock: nc.sock, Proto: sipmsg.ProtoUDP}
		switch v := msg.(type) {
		case *sip.Request:
			m := sipmsg.NewRequest(v, raw, rcv)
			nc.scriptMu.Lock()
			f := nc.script
			nc.scriptMu.Unlock()
			if f != nil {
				f(m)
			}
		case *sip.Response:
			m := sipmsg.NewReply(v, raw, rcv)
			if !nc.tm.HandleReply(m) {
				nc.forwardReply(m)
			}
		}
	}
}

// forwardReply relays a reply statelessly: our Via off, to the next one.
func (nc *netCore) forwardReply(m *sipmsg.Msg) {
	nc.stateless.Add(1)
	resp := m.Resp
	resp.RemoveHeader("Via")
	next := resp.Via()
	if next == nil {
		return
	}
	dst, err := nc.ReplyDest(sipmsg.RcvInfo{Sock: nc.sock}, next)
	if err != nil {
		return
	}
	nc.conn.WriteToUDPAddrPort([]byte(resp.String()), dst.Addr)
}

// Send transmits over the UDP socket.
func (nc *netCore) Send(dst sipmsg.Dest, data []byte) error {
	_, err := nc.conn.WriteToUDPAddrPort(data, dst.Addr)
	return err
}

// SendReply sends to the top Via's address.
func (nc *netCore) SendReply(rcv sipmsg.RcvInfo, resp *sip.Response) error {
	via := resp.Via()
	if via == nil {
		return fmt.Errorf("no via")
	}
	dst, err := nc.ReplyDest(rcv, via)
	if err != nil {
		return err
	}
	return nc.Send(dst, []byte(resp.String()))
}

// Forward relays statelessly with a Via of ours.
func (nc *netCore) Forward(m *sipmsg.Msg, dst sipmsg.Dest) error {
	return nc.Send(dst, nc.RequestBytes(m, nc.sock, "z9hG4bKstateless"+fmt.Sprint(time.Now().UnixNano())))
}

// ua is a test user agent on its own UDP socket.
type ua struct {
	tb   testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
	name string
	in   chan rcvd
}

type rcvd struct {
	msg sip.Message
	raw []byte
}

func newUA(tb testing.TB, name string) *ua {
	tb.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	u := &ua{tb: tb, conn: conn, name: name, in: make(chan rcvd, 256),
		addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				close(u.in)
				return
			}
			raw := append([]byte(nil), buf[:n]...)
			msg, err := sipmsg.Parse(raw)
			if err != nil {
				continue
			}
			select {
			case u.in <- rcvd{msg, raw}:
			default:
			}
		}
	}()
	tb.Cleanup(func() { conn.Close(); <-done })
	return u
}

// uri is a SIP URI addressing this UA.
func (u *ua) uri(user string) string { return fmt.Sprintf("sip:%s@%s", user, u.addr) }

func (u *ua) send(to netip.AddrPort, text string) {
	u.tb.Helper()
	if _, err := u.conn.WriteToUDPAddrPort([]byte(modtest.CRLF(text)), to); err != nil {
		u.tb.Fatal(err)
	}
}

// next returns the next message within d, or nil.
func (u *ua) next(d time.Duration) *rcvd {
	select {
	case r, ok := <-u.in:
		if !ok {
			return nil
		}
		return &r
	case <-time.After(d):
		return nil
	}
}

// expect waits for a message matching pred (others are skipped).
func (u *ua) expect(what string, d time.Duration, pred func(sip.Message) bool) *rcvd {
	u.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			u.tb.Fatalf("%s: no %s within %v", u.name, what, d)
		}
		r := u.next(left)
		if r == nil {
			u.tb.Fatalf("%s: no %s within %v", u.name, what, d)
		}
		if pred(r.msg) {
			return r
		}
	}
}

func (u *ua) expectReply(code int, d time.Duration) *sip.Response {
	u.tb.Helper()
	r := u.expect(fmt.Sprintf("%d reply", code), d, func(m sip.Message) bool {
		resp, ok := m.(*sip.Response)
		return ok && resp.StatusCode == code
	})
	return r.msg.(*sip.Response)
}

func (u *ua) expectRequest(method string, d time.Duration) *sip.Request {
	u.tb.Helper()
	r := u.expect(method, d, func(m sip.Message) bool {
		req, ok := m.(*sip.Request)
		return ok && string(req.Method) == method
	})
	return r.msg.(*sip.Request)
}

// quiet fails when a message matching pred arrives within d.
func (u *ua) quiet(what string, d time.Duration, pred func(sip.Message) bool) {
	u.tb.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		r := u.next(left)
		if r == nil {
			return
		}
		if pred(r.msg) {
			u.tb.Fatalf("%s: unexpected %s:\n%s", u.name, what, r.raw)
		}
	}
}

// settle lets packets in flight arrive, then discards everything.
func (u *ua) settle() {
	time.Sleep(40 * time.Millisecond)
	u.drain()
}

// drain discards what arrived so far.
func (u *ua) drain() {
	for {
		select {
		case <-u.in:
		default:
			return
		}
	}
}

// reply answers req (sent to us by the proxy) with code; toTag is added
// to To unless the request's To has one.
func (u *ua) reply(req *sip.Request, code int, reason, toTag string, extra ...string) {
	u.tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range req.GetHeaders("Via") {
		b.WriteString("Via: " + v.Value() + "\r\n")
	}
	b.WriteString("From: " + req.From().Value() + "\r\n")
	to := req.To().Value()
	if _, has := req.To().Params.Get("tag"); !has && code > 100 && toTag != "" {
		to += ";tag=" + toTag
	}
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Call-ID: " + req.CallID().Value() + "\r\n")
	b.WriteString("CSeq: " + req.CSeq().Value() + "\r\n")
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	via := req.Via()
	to2 := netip.AddrPortFrom(netip.MustParseAddr(via.Host), uint16(via.Port))
	if _, err := u.conn.WriteToUDPAddrPort([]byte(b.String()), to2); err != nil {
		u.tb.Fatal(err)
	}
}

// call describes a request a test UA sends.
type call struct {
	method, ruri, callID, branch string
	cseq                         int
	from                         *ua
	extra                        []string
}

func (c call) text() string {
	cseq := c.cseq
	if cseq == 0 {
		cseq = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", c.method, c.ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s\r\n", c.from.addr, c.branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:alice@%s>;tag=a1\r\n", c.from.addr)
	to := "To: <" + c.ruri + ">"
	for _, e := range c.extra {
		if strings.HasPrefix(e, "To:") {
			to = e
		}
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\n", c.callID)
	m := c.method
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, m)
	fmt.Fprintf(&b, "Contact: <sip:alice@%s>\r\n", c.from.addr)
	for _, e := range c.extra {
		if !strings.HasPrefix(e, "To:") {
			b.WriteString(e + "\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

const wait = 2 * time.Second

// waitEmpty waits until the transaction table is empty.
func waitEmpty(tb testing.TB, t *TM, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for t.Count() != 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("transaction table not empty: %d left, stats %+v", t.Count(), t.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
