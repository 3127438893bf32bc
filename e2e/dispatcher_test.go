package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dsNode stands in for a registrar or proxy behind the load balancer: a
// UDP socket on 127.0.0.1 that answers every request (OPTIONS probes
// included) with a fixed status ("" = never answers) and reports the
// other requests it gets. It can be stopped and started again on the
// same port.
type dsNode struct {
	t      *testing.T
	name   string
	port   int
	status atomic.Value // string
	hits   chan<- dsHit
	probes atomic.Int64

	mu   sync.Mutex
	conn *net.UDPConn
	wg   sync.WaitGroup
}

// dsHit is one request a node received.
type dsHit struct {
	node, method, ruri, callID, msg string
}

func startDSNode(t *testing.T, name, status string, hits chan<- dsHit) *dsNode {
	t.Helper()
	n := &dsNode{t: t, name: name, hits: hits}
	n.status.Store(status)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	n.port = c.LocalAddr().(*net.UDPAddr).Port
	n.run(c)
	t.Cleanup(n.stop)
	return n
}

// uri is the node's destination URI.
func (n *dsNode) uri() string { return "sip:127.0.0.1:" + strconv.Itoa(n.port) }

func (n *dsNode) run(c *net.UDPConn) {
	n.mu.Lock()
	n.conn = c
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		buf := make([]byte, 65536)
		for {
			k, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			msg := string(buf[:k])
			if strings.HasPrefix(msg, "SIP/2.0 ") {
				continue
			}
			f := strings.Fields(firstLine(msg))
			if len(f) < 2 {
				continue
			}
			method := f[0]
			if method == "OPTIONS" {
				n.probes.Add(1)
			} else {
				select {
				case n.hits <- dsHit{node: n.name, method: method, ruri: f[1], callID: header(msg, "Call-ID"), msg: msg}:
				default:
				}
			}
			if st := n.status.Load().(string); st != "" && method != "ACK" {
				c.WriteToUDP([]byte(replyTo(msg, st, "tag="+n.name)), from)
			}
		}
	}()
}

// stop closes the socket: the node is gone.
func (n *dsNode) stop() {
	n.mu.Lock()
	c := n.conn
	n.conn = nil
	n.mu.Unlock()
	if c != nil {
		c.Close()
		n.wg.Wait()
	}
}

// restart listens on the node's port again.
func (n *dsNode) restart() {
	n.t.Helper()
	var (
		c   *net.UDPConn
		err error
	)
	for i := 0; i < 50; i++ {
		if c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: n.port}); err == nil {
			n.run(c)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.t.Fatalf("node %s cannot listen on its port again: %v", n.name, err)
}

// nextHit waits for the next request a node reports.
func nextHit(t *testing.T, hits <-chan dsHit) dsHit {
	t.Helper()
	select {
	case h := <-hits:
		return h
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached a destination")
	}
	return dsHit{}
}

// dsList writes a dispatcher list file.
func dsList(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dispatcher.list")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitDSList polls ds_list until it contains every wanted line.
func waitDSList(t *testing.T, srv *server, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got = fifoCmd(t, srv, "ds_list")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(got, w)
		}
		if ok {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ds_list never showed %q:\n%s", want, got)
	return ""
}

// dsRequest sends a request through the load balancer and returns its
// final reply's first line.
func dsRequest(t *testing.T, u *ua, srv *server, method, user, callID string, cseq int) string {
	t.Helper()
	ruri := "sip:" + user + "@" + srv.addr()
	if method == "REGISTER" {
		ruri = "sip:" + srv.addr()
	}
	u.send(srv.udpAddr(), fmt.Sprintf(`%[1]s %[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=z9hG4bK-%[4]s-%[5]d;rport
Max-Forwards: 70
From: <sip:%[6]s@example.com>;tag=f-%[4]s
To: <sip:%[6]s@example.com>
Call-ID: %[4]s
CSeq: %[5]d %[1]s
Contact: <sip:%[6]s@%[3]s>
Content-Length: 0

`, method, ruri, u.hostport(), callID, cseq, user))
	for {
		r, _ := u.recv()
		if fl := firstLine(r); !strings.Contains(fl, " 100 ") {
			return fl
		}
	}
}

// TestDispatcherStatelessLB is the outbound proxy of Inode's cacheless
// architecture as a stateless load balancer: REGISTERs go to the
// registrar set hashed over the From user (one user always reaches the
// same registrar, whatever the Call-ID), other requests to the proxy set
// hashed over the Call-ID (a dialog stays on one proxy); the R-URI is
// left as it is, the destination is only the next hop.
func TestDispatcherStatelessLB(t *testing.T) {
	hits := make(chan dsHit, 256)
	r1, r2 := startDSNode(t, "r1", "200 OK", hits), startDSNode(t, "r2", "200 OK", hits)
	p1, p2 := startDSNode(t, "p1", "200 OK", hits), startDSNode(t, "p2", "200 OK", hits)
	list := dsList(t, "# registrars", "1 "+r1.uri(), "1 "+r2.uri(), "# proxies", "2 "+p1.uri(), "2 "+p2.uri())
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/dispatcher/dispatcher.so"
modparam("dispatcher", "list_file", "`+list+`")
modparam("dispatcher", "flags", 1)
modparam("dispatcher", "ds_ping_interval", 0)
route {
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
	want := "200 OK\nSET_NO:: 2\nSET:: 1\n" +
		"\tURI:: " + r1.uri() + " flags=AX priority=0\n\tURI:: " + r2.uri() + " flags=AX priority=0\n" +
		"SET:: 2\n\tURI:: " + p1.uri() + " flags=AX priority=0\n\tURI:: " + p2.uri() + " flags=AX priority=0\n"
	if got := fifoCmd(t, srv, "ds_list"); got != want {
		t.Fatalf("ds_list\n got %q\nwant %q", got, want)
	}

	u := newUA(t)
	registrarOf := map[string]string{}
	for i := 0; i < 8; i++ {
		user := fmt.Sprintf("user%d", i)
		for k := 0; k < 2; k++ {
			cid := fmt.Sprintf("reg-%s-%d", user, k)
			if fl := dsRequest(t, u, srv, "REGISTER", user, cid, 1); fl != "SIP/2.0 200 OK" {
				t.Fatalf("REGISTER %s: %s", cid, fl)
			}
			h := nextHit(t, hits)
			if h.method != "REGISTER" || h.callID != cid || h.node[0] != 'r' {
				t.Fatalf("REGISTER %s reached %+v", cid, h)
			}
			if prev, ok := registrarOf[user]; ok && prev != h.node {
				t.Fatalf("%s registered at %s, then at %s", user, prev, h.node)
			}
			registrarOf[user] = h.node
			if top := headers(h.msg, "Via")[0]; !strings.Contains(top, srv.addr()) {
				t.Fatalf("top Via is not the load balancer's: %s", top)
			}
		}
	}
	used := map[string]int{}
	for _, n := range registrarOf {
		used[n]++
	}
	if len(used) != 2 {
		t.Fatalf("registrations hashed to %v", used)
	}

	proxyOf := map[string]int{}
	for i := 0; i < 10; i++ {
		cid := fmt.Sprintf("call-%d@lb-test", i)
		if fl := dsRequest(t, u, srv, "INVITE", "bob", cid, 1); fl != "SIP/2.0 200 OK" {
			t.Fatalf("INVITE %s: %s", cid, fl)
		}
		inv := nextHit(t, hits)
		if inv.method != "INVITE" || inv.node[0] != 'p' {
			t.Fatalf("INVITE reached %+v", inv)
		}
		if inv.ruri != "sip:bob@"+srv.addr() {
			t.Fatalf("R-URI changed to %s", inv.ruri)
		}
		if fl := dsRequest(t, u, srv, "BYE", "bob", cid, 2); fl != "SIP/2.0 200 OK" {
			t.Fatalf("BYE %s: %s", cid, fl)
		}
		if bye := nextHit(t, hits); bye.method != "BYE" || bye.node != inv.node {
			t.Fatalf("INVITE went to %s, its BYE to %+v", inv.node, bye)
		}
		proxyOf[inv.node]++
	}
	if len(proxyOf) != 2 {
		t.Fatalf("calls hashed to %v", proxyOf)
	}
}

// TestDispatcherFailover relays calls statefully to the proxy set in
// priority order (algorithm 8): the first proxy answers 503, the second
// does not answer at all (fr_timer), the third takes the call. The
// failure route marks each failed proxy inactive and ds_next_dst goes on
// with the next one; the next call goes straight to the third.
func TestDispatcherFailover(t *testing.T) {
	hits := make(chan dsHit, 256)
	p1 := startDSNode(t, "p1", "503 Service Unavailable", hits)
	p2 := startDSNode(t, "p2", "", hits)
	p3 := startDSNode(t, "p3", "200 OK", hits)
	list := dsList(t, "2 "+p1.uri()+" 0 30", "2 "+p2.uri()+" 0 20", "2 "+p3.uri()+" 0 10")
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/dispatcher/dispatcher.so"
modparam("tm", "fr_timer", 1)
modparam("dispatcher", "list_file", "`+list+`")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", 0)
route {
	if (!ds_select_dst("2", "8")) {
		sl_send_reply("503", "No destination available");
		break;
	};
	t_on_failure("1");
	t_relay();
}
failure_route[1] {
	ds_mark_dst("ip");
	if (!ds_next_dst()) {
		t_reply("503", "No more destinations");
		break;
	};
	t_on_failure("1");
	t_relay();
}
`)
	u := newUA(t)
	start := time.Now()
	if fl := dsRequest(t, u, srv, "INVITE", "bob", "failover-1", 1); fl != "SIP/2.0 200 OK" {
		t.Fatalf("call: %s", fl)
	}
	var order []string
	for len(order) < 3 {
		h := nextHit(t, hits)
		if h.method != "INVITE" || h.callID != "failover-1" {
			continue
		}
		if len(order) == 0 || order[len(order)-1] != h.node { // p2 gets retransmissions
			order = append(order, h.node)
		}
	}
	if strings.Join(order, " ") != "p1 p2 p3" {
		t.Fatalf("tried %v, want p1 p2 p3", order)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("the silent proxy was given up after %v, before fr_timer", d)
	}
	got := fifoCmd(t, srv, "ds_list")
	for _, w := range []string{p1.uri() + " flags=IP priority=30", p2.uri() + " flags=IP priority=20", p3.uri() + " flags=AX priority=10"} {
		if !strings.Contains(got, w) {
			t.Fatalf("ds_list lacks %q:\n%s", w, got)
		}
	}

	// The failed proxies are skipped now.
	if fl := dsRequest(t, u, srv, "INVITE", "bob", "failover-2", 1); fl != "SIP/2.0 200 OK" {
		t.Fatalf("second call: %s", fl)
	}
	if h := nextHit(t, hits); h.node != "p3" || h.callID != "failover-2" {
		t.Fatalf("second call reached %+v", h)
	}

	// With the last one failing too the caller gets the failure route's 503.
	p3.status.Store("500 Server Error")
	if got := fifoCmd(t, srv, "ds_set_state", "a", "2", p1.uri()); got != "200 OK\n" {
		t.Fatalf("ds_set_state: %q", got)
	}
	p1.status.Store("486 Busy Here")
	if fl := dsRequest(t, u, srv, "INVITE", "bob", "failover-3", 1); fl != "SIP/2.0 503 No more destinations" {
		t.Fatalf("third call: %s", fl)
	}
	// And with every destination down ds_select_dst fails at once.
	if fl := dsRequest(t, u, srv, "INVITE", "bob", "failover-4", 1); fl != "SIP/2.0 503 No destination available" {
		t.Fatalf("fourth call: %s", fl)
	}
}

// TestDispatcherProbing probes two destinations every second with
// OPTIONS through tm: a destination that stops answering is marked
// inactive and skipped, and active again once it answers.
func TestDispatcherProbing(t *testing.T) {
	hits := make(chan dsHit, 256)
	n1, n2 := startDSNode(t, "n1", "200 OK", hits), startDSNode(t, "n2", "200 OK", hits)
	list := dsList(t, "1 "+n1.uri(), "1 "+n2.uri())
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/dispatcher/dispatcher.so"
modparam("tm", "fr_timer", 1)
modparam("dispatcher", "list_file", "`+list+`")
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_ping_from", "sip:lb@127.0.0.1")
route {
	if (!ds_select_dst("1", "4")) {
		sl_send_reply("503", "No destination available");
		break;
	};
	forward();
}
`)
	waitDSList(t, srv, n1.uri()+" flags=AP", n2.uri()+" flags=AP")
	if n1.probes.Load() == 0 || n2.probes.Load() == 0 {
		t.Fatal("no OPTIONS probe counted")
	}
	u := newUA(t)
	spread := func(tag string) map[string]int {
		got := map[string]int{}
		for i := 0; i < 4; i++ {
			cid := fmt.Sprintf("%s-%d", tag, i)
			if fl := dsRequest(t, u, srv, "MESSAGE", "bob", cid, 1); fl != "SIP/2.0 200 OK" {
				t.Fatalf("MESSAGE %s: %s", cid, fl)
			}
			got[nextHit(t, hits).node]++
		}
		return got
	}
	if got := spread("up"); got["n1"] != 2 || got["n2"] != 2 {
		t.Fatalf("round robin over two live destinations: %v", got)
	}

	n2.stop()
	waitDSList(t, srv, n1.uri()+" flags=AP", n2.uri()+" flags=IP")
	if got := spread("down"); got["n1"] != 4 {
		t.Fatalf("with n2 down: %v", got)
	}

	n2.restart()
	waitDSList(t, srv, n2.uri()+" flags=AP")
	if got := spread("again"); got["n1"] != 2 || got["n2"] != 2 {
		t.Fatalf("after n2 is back: %v", got)
	}
}
