package tm

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// twriteReader is the external application's end: a FIFO or a unix
// datagram socket in a temporary directory.
type twriteReader struct {
	path string
	read func(d time.Duration) (string, error)
}

func newFIFOReader(t *testing.T) *twriteReader {
	path := filepath.Join(t.TempDir(), "vm_fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// The application keeps the FIFO open for reading (and writing, so
	// that a read waits for data rather than seeing end of file); the
	// writer's non-blocking open then succeeds.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	buf := make([]byte, 65536)
	return &twriteReader{path: path, read: func(d time.Duration) (string, error) {
		f.SetReadDeadline(time.Now().Add(d))
		n, err := f.Read(buf)
		return string(buf[:n]), err
	}}
}

func newUnixReader(t *testing.T) *twriteReader {
	path := filepath.Join(t.TempDir(), "vm_sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	buf := make([]byte, 65536)
	return &twriteReader{path: path, read: func(d time.Duration) (string, error) {
		c.SetReadDeadline(time.Now().Add(d))
		n, _, err := c.ReadFromUnix(buf)
		return string(buf[:n]), err
	}}
}

// twriteInvite is an INVITE through a loose-routing proxy, with a body.
func twriteInvite(caller *ua, nc *netCore, body string) string {
	return "INVITE sip:bob@" + nc.addr().String() + ";user=phone SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + caller.addr.String() + ";branch=z9hG4bKtw1\r\n" +
		"Record-Route: <sip:p1.example.com;lr>\r\n" +
		"Record-Route: <sip:p2.example.com;lr>\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: tw-1@example.com\r\n" +
		"CSeq: 17 INVITE\r\n" +
		"Contact: <sip:alice@" + caller.addr.String() + ">\r\n" +
		"Subject: hello\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// TestTWrite hands an INVITE to a FIFO and to a unix socket reader and
// checks SER's twenty lines to the byte; the application's t_reply ends
// the transaction.
func TestTWrite(t *testing.T) {
	for _, tc := range []struct {
		fn     string
		reader func(*testing.T) *twriteReader
	}{
		{"t_write_req", newFIFOReader},
		{"t_write_unix", newUnixReader},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			nc := newNetCore(t, map[string]any{"tw_append": "extra: subj=hdr[Subject]; hdr[Call-ID]; email=avp[s:email]; avp[i:5]; avp[s:unset]; msg[body]"})
			r := tc.reader(t)
			caller := newUA(t, "caller")
			newtran, write := nc.bind("t_newtran"), nc.bind(tc.fn, r.path, "voicemail/extra")
			type result struct {
				n  int
				id string
			}
			ret := make(chan result, 1)
			nc.setScript(func(m *sipmsg.Msg) {
				m.SetFlag(1)
				m.SetFlag(4)
				m.SetURI("sip:vm-bob@voicemail.example.com")
				m.AddAVP(sipmsg.StrName("email"), sipmsg.StrValue("bob@example.com"))
				m.AddAVP(sipmsg.IntName(5), sipmsg.IntValue(42))
				newtran(m)
				n, _ := write(m)
				id, _ := nc.tm.TransID(m)
				ret <- result{n, id}
			})
			body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"
			caller.send(nc.addr(), twriteInvite(caller, nc, body))
			got, err := r.read(wait)
			if err != nil {
				t.Fatal(err)
			}
			res := <-ret
			if res.n != 1 {
				t.Fatalf("%s returned %d", tc.fn, res.n)
			}
			id := res.id
			want := strings.Join([]string{
				"0.3",
				"sip_request.voicemail",
				"INVITE",
				"vm-bob",
				"voicemail.example.com",
				"127.0.0.1",
				strconv.Itoa(nc.sock.Port),
				"sip:bob@" + nc.addr().String() + ";user=phone",
				"sip:alice@" + caller.addr.String(),
				"\"Alice\" <sip:alice@example.com>;tag=a1",
				"<sip:bob@example.com>",
				"tw-1@example.com",
				"a1",
				"",
				"17",
				id,
				"<sip:p1.example.com;lr>,<sip:p2.example.com;lr>",
				"sip:p1.example.com;lr",
				"P-MsgFlags: 21\nsubj: hello\nCall-ID: tw-1@example.com\nemail: bob@example.com\n5: 42\n.",
				body,
			}, "\n") + "\n"
			if got != want {
				t.Errorf("lines\n got %q\nwant %q", got, want)
			}
			// The application answers over the FIFO/unix socket (t_reply).
			bucket, label, _ := parseTransID(id)
			if err := nc.tm.ReplyTo(bucket, label, 486, "Busy Here", module.ReplyOpts{}); err != nil {
				t.Fatal(err)
			}
			caller.expectReply(486, wait)
			caller.quiet("408 after the reply", 2*testTimers.FR, isCode(408))
		})
	}
}

// TestTWriteTimeout: nobody answers the handed-off request, so the blind
// branch's fr_timer answers 408 and the failure route runs for it.
func TestTWriteTimeout(t *testing.T) {
	nc := newNetCore(t, nil)
	r := newUnixReader(t)
	caller := newUA(t, "caller")
	var status intLog
	check := nc.bind("t_check_status", "^408$")
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int {
		n, _ := check(m)
		status.add(n)
		return 1
	}
	newtran, onFail, write := nc.bind("t_newtran"), nc.bind("t_on_failure", "1"), nc.bind("t_write_unix", r.path, "vm")
	nc.setScript(func(m *sipmsg.Msg) {
		newtran(m)
		onFail(m)
		write(m)
	})
	opts := call{method: "OPTIONS", ruri: "sip:bob@" + nc.addr().String(), callID: "tw-2", branch: "z9hG4bKtw2", from: caller}
	caller.send(nc.addr(), opts.text())
	got, err := r.read(wait)
	if err != nil {
		t.Fatal(err)
	}
	// No Record-Route: no route set, no next hop; no body for OPTIONS.
	lines := strings.Split(got, "\n")
	if len(lines) != 22 || lines[1] != "sip_request.vm" || lines[2] != "OPTIONS" || lines[6] != strconv.Itoa(nc.sock.Port) ||
		lines[16] != "." || lines[17] != "." || lines[18] != "P-MsgFlags: 0" || lines[19] != "." || lines[20] != "." || lines[21] != "" {
		t.Errorf("lines %q", lines)
	}
	caller.expectReply(408, testTimers.FR+wait)
	if got := status.get(); len(got) != 1 || got[0] != 1 {
		t.Errorf("t_check_status in the failure route: %v", got)
	}
	waitEmpty(t, nc.tm, wait)
}

// TestTWriteErrors: no reader, no transaction, bad arguments.
func TestTWriteErrors(t *testing.T) {
	nc := newNetCore(t, map[string]any{"tw_append": "a: hdr[Subject]"})
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	caller := newUA(t, "caller")
	newtran := nc.bind("t_newtran")
	res := make(chan [2]int, 1)
	noReader, noSock := nc.bind("t_write_req", fifo, "vm"), nc.bind("t_write_unix", filepath.Join(dir, "none"), "vm")
	noTxn := nc.bind("t_write_req", fifo, "vm")
	nc.setScript(func(m *sipmsg.Msg) {
		a, _ := noTxn(m)
		newtran(m)
		b, _ := noReader(m)
		c, _ := noSock(m)
		if b != c {
			b = 99
		}
		res <- [2]int{a, b}
	})
	caller.send(nc.addr(), call{method: "MESSAGE", ruri: "sip:b@x", callID: "tw-3", branch: "z9hG4bKtw3", from: caller}.text())
	if got := <-res; got != [2]int{-1, -1} {
		t.Errorf("without transaction / reader: %v", got)
	}
	if !strings.Contains(nc.log.String(), "nobody listening on FIFO") {
		t.Errorf("log: %s", nc.log.String())
	}
	for _, args := range [][]any{
		{"", "vm"}, {fifo, ""}, {fifo, "vm/"}, {fifo, "/a"}, {fifo, "vm/nosuch"},
	} {
		if _, err := modtest.BindErr(Exports, nc.tm, nc.env, "t_write_req", args...); err == nil {
			t.Errorf("t_write_req%v accepted", args)
		}
	}
	for _, v := range []string{"x", "x:", "x: avp[$a]", "x: msg[hdrs]", "x: foo[y]", "x: hdr[]"} {
		if _, err := parseTwAppend(v); err == nil {
			t.Errorf("tw_append %q accepted", v)
		}
	}
	if err := setTwAppend(nc.tm, module.Value{S: "A: hdr[To]"}); err == nil {
		t.Error("duplicate tw_append name accepted")
	}
}

// TestCheckStatus: t_check_status looks at the reply in an onreply route,
// the winning reply in a failure route and the last reply sent in a
// request route; t_lookup_request finds a retransmission's transaction.
func TestCheckStatus(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	var (
		mu   sync.Mutex
		seen []string
	)
	add := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	note := func(where string, h module.Handler) func(m *sipmsg.Msg) {
		return func(m *sipmsg.Msg) {
			n, _ := h(m)
			add(fmt.Sprintf("%s:%d", where, n))
		}
	}
	busy := note("failure 486", nc.bind("t_check_status", "486|600"))
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int { busy(m); return 1 }
	ringing := note("onreply 18x", nc.bind("t_check_status", "18[0-9]"))
	onFail := nc.bind("t_on_failure", "1")
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
		ringing(m)
		onFail(m) // allowed in an onreply route (SER 0.9.6)
		return 1
	}
	relay, onReply := nc.bind("t_relay"), nc.bind("t_on_reply", "1")
	lookup, sent4xx := nc.bind("t_lookup_request"), note("request 4xx", nc.bind("t_check_status", "^4"))
	nc.setScript(func(m *sipmsg.Msg) {
		if n, _ := lookup(m); n == 1 {
			add("retransmission")
			sent4xx(m)
			return
		}
		sent4xx(m) // no transaction yet: false
		onReply(m)
		relay(m)
	})
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "cs-1", branch: "z9hG4bKcs1", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "tb")
	caller.expectReply(180, wait)
	callee.reply(req, 486, "Busy Here", "tb")
	caller.expectReply(486, wait)
	caller.send(nc.addr(), inv.text()) // retransmission after the final reply
	caller.expectReply(486, wait)
	want := "request 4xx:-1 onreply 18x:1 onreply 18x:-1 failure 486:1 retransmission request 4xx:1"
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := modtest.BindErr(Exports, nc.tm, nc.env, "t_check_status", "(4"); err == nil {
		t.Error("bad regular expression accepted")
	}
}

// TestOnFailureZeroInOnReply is SER's serial_183.cfg: once the callee
// rings, the onreply route disarms the failure route with t_on_failure("0")
// and the callee's 486 goes to the caller.
func TestOnFailureZeroInOnReply(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	var failures intLog
	nc.Routes[routeKey(module.Failure, 1)] = func(m *sipmsg.Msg) int { failures.add(1); return 1 }
	disarm := nc.bind("t_on_failure", "0")
	nc.Routes[routeKey(module.OnReply, 1)] = func(m *sipmsg.Msg) int {
		if m.Resp.StatusCode == 180 {
			disarm(m)
		}
		return 1
	}
	onFail, onReply, relay := nc.bind("t_on_failure", "1"), nc.bind("t_on_reply", "1"), nc.bind("t_relay")
	nc.setScript(func(m *sipmsg.Msg) {
		onFail(m)
		onReply(m)
		relay(m)
	})
	inv := call{method: "INVITE", ruri: callee.uri("bob"), callID: "zero-1", branch: "z9hG4bKz1", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	callee.reply(req, 180, "Ringing", "tb")
	caller.expectReply(180, wait)
	callee.reply(req, 486, "Busy Here", "tb")
	caller.expectReply(486, wait)
	if n := len(failures.get()); n != 0 {
		t.Errorf("failure route ran %d times after t_on_failure(\"0\")", n)
	}
	if _, err := modtest.BindErr(Exports, nc.tm, nc.env, "t_on_failure", "-1"); err == nil {
		t.Error("negative route number accepted")
	}
}

// TestForwardNonACK: t_forward_nonack forwards inside the transaction
// t_newtran made (no 100 of its own), refuses without a transaction and
// for ACK; a CANCEL through t_newtran + t_forward_nonack_uri cancels the
// INVITE.
func TestForwardNonACK(t *testing.T) {
	nc := newNetCore(t, nil)
	caller, callee := newUA(t, "caller"), newUA(t, "callee")
	newtran := nc.bind("t_newtran")
	fwd := nc.bind("t_forward_nonack", "127.0.0.1", strconv.Itoa(int(callee.addr.Port())))
	fwdURI := nc.bind("t_forward_nonack_uri")
	var rets intLog
	nc.setScript(func(m *sipmsg.Msg) {
		if m.Req.IsAck() {
			n, _ := fwd(m) // no transaction: refused
			rets.add(n)
			return
		}
		if n, _ := fwd(m); n != -1 {
			t.Errorf("t_forward_nonack before t_newtran = %d", n)
		}
		newtran(m)
		var n int
		if m.Req.IsCancel() {
			n, _ = fwdURI(m)
		} else {
			n, _ = fwd(m)
		}
		rets.add(n)
	})
	inv := call{method: "INVITE", ruri: "sip:bob@elsewhere.example.com", callID: "fn-1", branch: "z9hG4bKfn1", from: caller}
	caller.send(nc.addr(), inv.text())
	req := callee.expectRequest("INVITE", wait)
	caller.quiet("100 from t_forward_nonack", 100*time.Millisecond, isCode(100))
	callee.reply(req, 180, "Ringing", "tf")
	caller.expectReply(180, wait)
	cancel := inv
	cancel.method = "CANCEL"
	caller.send(nc.addr(), cancel.text())
	caller.expect("200 for CANCEL", wait, func(msg sip.Message) bool {
		r, ok := msg.(*sip.Response)
		return ok && r.StatusCode == 200 && r.CSeq().MethodName == sip.CANCEL
	})
	callee.expectRequest("CANCEL", wait)
	callee.reply(req, 487, "Request Terminated", "tf")
	r487 := caller.expectReply(487, wait)
	tag, _ := r487.To().Params.Get("tag")
	ack := inv
	ack.method = "ACK"
	ack.extra = []string{"To: <" + inv.ruri + ">;tag=" + tag}
	caller.send(nc.addr(), ack.text())
	deadline := time.Now().Add(wait)
	for len(rets.get()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := rets.get(); len(got) != 3 || got[0] != 1 || got[1] != 1 || got[2] != -1 {
		t.Errorf("returns %v (INVITE, CANCEL, ACK)", got)
	}
}

// TestRestartFROnEachReply: a callee that keeps sending 180 Ringing keeps
// an INVITE branch alive by default (fr_inv_timer restarts on each
// provisional); with restart_fr_on_each_reply=0 only the first 180 starts
// fr_inv_timer, so the branch is cancelled and the caller gets 408 while
// the 180s still come.
func TestRestartFROnEachReply(t *testing.T) {
	for _, restart := range []int{1, 0} {
		t.Run(strconv.Itoa(restart), func(t *testing.T) {
			nc := newNetCore(t, map[string]any{"restart_fr_on_each_reply": restart})
			caller, callee := newUA(t, "caller"), newUA(t, "callee")
			relay := nc.bind("t_relay")
			nc.setScript(func(m *sipmsg.Msg) { relay(m) })
			caller.send(nc.addr(), call{method: "INVITE", ruri: callee.uri("bob"), callID: "fr-" + strconv.Itoa(restart), branch: "z9hG4bKfr" + strconv.Itoa(restart), from: caller}.text())
			req := callee.expectRequest("INVITE", wait)
			// Ring every 100 ms (fr_inv_timer is 700 ms) until a CANCEL
			// comes, for at most 4·fr_inv_timer.
			cancelled := false
			for end := time.Now().Add(4 * testTimers.FRInv); time.Now().Before(end) && !cancelled; {
				callee.reply(req, 180, "Ringing", "tr")
				if r := callee.next(100 * time.Millisecond); r != nil {
					if q, ok := r.msg.(*sip.Request); ok && q.Method == sip.CANCEL {
						cancelled = true
					}
				}
			}
			if cancelled != (restart == 0) {
				t.Fatalf("restart_fr_on_each_reply=%d: cancelled %v", restart, cancelled)
			}
			if cancelled {
				caller.expectReply(408, wait)
			}
		})
	}
}

// TestPre3261Matching: an RFC 2543 request (no z9hG4bK branch) sent again
// with another Request-URI or top Via matches its transaction only when
// ruri_matching / via1_matching is 0.
func TestPre3261Matching(t *testing.T) {
	for _, tc := range []struct {
		params      map[string]any
		uri, via    bool // what the second request changes
		wantMatched bool
	}{
		{nil, true, false, false},
		{map[string]any{"ruri_matching": 0}, true, false, true},
		{nil, false, true, false},
		{map[string]any{"via1_matching": 0}, false, true, true},
		{map[string]any{"ruri_matching": 0}, false, true, false},
	} {
		t.Run(fmt.Sprint(tc.params, tc.uri, tc.via), func(t *testing.T) {
			nc := newNetCore(t, tc.params)
			caller := newUA(t, "caller")
			lookup, newtran, reply := nc.bind("t_lookup_request"), nc.bind("t_newtran"), nc.bind("t_reply", "486", "Busy")
			var found intLog
			nc.setScript(func(m *sipmsg.Msg) {
				n, _ := lookup(m)
				found.add(n)
				if n != 1 && m.Req.Method != sip.ACK {
					newtran(m)
					reply(m)
				}
			})
			first := call{method: "MESSAGE", ruri: "sip:bob@a.example.com", callID: "old-1", branch: "1234", from: caller}
			caller.send(nc.addr(), first.text())
			caller.expectReply(486, wait)
			second := first
			if tc.uri {
				second.ruri = "sip:bob@b.example.com"
			}
			if tc.via {
				second.branch = "5678"
			}
			caller.send(nc.addr(), second.text())
			deadline := time.Now().Add(wait)
			for len(found.get()) < 2 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := found.get(); len(got) != 2 || got[0] != -1 || (got[1] == 1) != tc.wantMatched {
				t.Errorf("t_lookup_request: %v, want second matched %v", got, tc.wantMatched)
			}
		})
	}
}

// TestInertParams: SER 0.9.6's tm modparams that change nothing here are
// accepted and said so at init.
func TestInertParams(t *testing.T) {
	nc := newNetCore(t, map[string]any{"delete_timer": 2, "uac_from": "sip:a@b", "fr_timer_avp": "i:24", "fr_inv_timer_avp": "i:25"})
	for _, p := range []string{"delete_timer", "uac_from", "fr_timer_avp"} {
		if !strings.Contains(nc.log.String(), "param=\""+p+":") {
			t.Errorf("%s not logged as without effect:\n%s", p, nc.log.String())
		}
	}
}
