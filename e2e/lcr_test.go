package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

// lcrGateway is a PSTN gateway stand-in: a UDP socket answering every
// INVITE with a fixed status and reporting the Request-URI it got.
type lcrGateway struct {
	name   string
	conn   *net.UDPConn
	port   int
	status atomic.Value // string
}

// lcrHit is one INVITE a gateway received.
type lcrHit struct{ gw, ruri string }

func startLCRGateway(t *testing.T, name, status string, hits chan<- lcrHit, wg *sync.WaitGroup) *lcrGateway {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	g := &lcrGateway{name: name, conn: c, port: c.LocalAddr().(*net.UDPAddr).Port}
	g.status.Store(status)
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			msg := string(buf[:n])
			if !strings.HasPrefix(msg, "INVITE ") {
				continue // ACK of our negative reply
			}
			ruri := strings.Fields(firstLine(msg))[1]
			// Record the try before answering: the answer makes ser try
			// the next gateway, whose hit must come after this one.
			hits <- lcrHit{g.name, ruri}
			c.WriteToUDP([]byte(replyTo(msg, g.status.Load().(string), "tag="+g.name)), from)
		}
	}()
	return g
}

// TestLCRFailover puts the seed's six gateways (Inode's LCR-Capability
// example) on 127.0.0.1 ports and routes phone calls with load_gws("1"),
// next_gw() and a failure route that tries the next trunk: sipgw6
// (priority 1, prefix 01) first, then sipgw1/3/4/5 (priority 2, no
// prefix) in random order, then sipgw2 (priority 3, prefix 01).
func TestLCRFailover(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "lcr.db")
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/lcr/lcr.so"
modparam("lcr", "db_url", "`+dbURL+`")
route {
	if (method=="OPTIONS") {
		if (from_gw()) {
			sl_send_reply("200", "From a gateway");
		} else {
			sl_send_reply("404", "Not a gateway");
		};
		break;
	};
	if (!load_gws("1")) {
		sl_send_reply("500", "Server Internal Error - Cannot load gateways");
		break;
	};
	if (!next_gw()) {
		sl_send_reply("503", "Service not available - No gateways");
		break;
	};
	t_on_failure("1");
	t_relay();
}
failure_route[1] {
	if (!next_gw()) {
		t_reply("503", "Service not available - No more gateways");
		break;
	};
	t_on_failure("1");
	t_relay();
}
`)
	caller := newUA(t)
	options := func(branch string) string {
		caller.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:ping@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=%[3]s;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=o
To: <sip:ping@%[1]s>
Call-ID: %[3]s
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), caller.hostport(), branch))
		r, _ := caller.recv()
		return firstLine(r)
	}
	invite := func(callID string) string {
		caller.send(srv.udpAddr(), fmt.Sprintf(`INVITE sip:4930123@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[3]s;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=%[3]s
To: <sip:4930123@%[1]s>
Call-ID: %[3]s
CSeq: 1 INVITE
Contact: <sip:caller@%[2]s>
Content-Length: 0

`, srv.addr(), caller.hostport(), callID))
		for {
			r, _ := caller.recv()
			if fl := firstLine(r); !strings.Contains(fl, " 100 ") {
				return fl
			}
		}
	}

	// No gateways loaded yet.
	if fl := options("z9hG4bKopt1"); fl != "SIP/2.0 404 Not a gateway" {
		t.Fatalf("from_gw before loading: %s", fl)
	}
	if fl := invite("lcr-empty"); fl != "SIP/2.0 503 Service not available - No gateways" {
		t.Fatalf("call without gateways: %s", fl)
	}

	hits := make(chan lcrHit, 64)
	var wg sync.WaitGroup
	gws := map[string]*lcrGateway{}
	for n := 1; n <= 6; n++ {
		name := fmt.Sprintf("sipgw%d", n)
		status := "503 Service Unavailable"
		if n == 2 {
			status = "200 OK"
		}
		gws[name] = startLCRGateway(t, name, status, hits, &wg)
	}
	t.Cleanup(func() {
		for _, g := range gws {
			g.conn.Close()
		}
		wg.Wait()
	})

	// The seed's tables, written while the server runs, then lcr_reload.
	st, err := srv.inst.Server.DB(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	grp, err := st.AddGatewayGroup(ctx, "inode")
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 6; n++ {
		name := fmt.Sprintf("sipgw%d", n)
		g := store.Gateway{Name: name, GroupID: grp, IP: netip.MustParseAddr("127.0.0.1"), Port: gws[name].port}
		switch n {
		case 6:
			g.Trunks = []store.Trunk{{Cap: 1, Prefix: "01", Priority: 1}, {Cap: 2, Prefix: "02", Priority: 1}}
		case 2:
			g.Trunks = []store.Trunk{{Cap: 1, Prefix: "01", Priority: 3}, {Cap: 2, Prefix: "02", Priority: 1}}
		default:
			g.Trunks = []store.Trunk{{Cap: 1, Priority: 2}}
		}
		if err := st.AddGateway(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddLCRRule(ctx, store.LCRRule{Prefix: "49", FromURI: "sip:%@example.com", GroupID: grp, Priority: 1}); err != nil {
		t.Fatal(err)
	}
	fifo := func(cmd string) string {
		return srv.inst.Server.RPC().Execute(ctx, cmd, rpc.Lines(nil), rpc.FIFO).Text
	}
	if r := fifo("lcr_reload"); r != "200 OK\n" {
		t.Fatalf("lcr_reload: %q", r)
	}
	var dump []string
	for n := 1; n <= 6; n++ {
		dump = append(dump, fmt.Sprintf("sip:127.0.0.1:%d", gws[fmt.Sprintf("sipgw%d", n)].port))
	}
	if r, want := fifo("lcr_dump"), "200 OK\n"+strings.Join(dump, "\n")+"\n"; r != want {
		t.Errorf("lcr_dump:\n%s\nwant\n%s", r, want)
	}
	if fl := options("z9hG4bKopt2"); fl != "SIP/2.0 200 From a gateway" {
		t.Errorf("from_gw after loading: %s", fl)
	}

	// A call: five gateways fail with 503, sipgw2 answers.
	if fl := invite("lcr-call-1"); fl != "SIP/2.0 200 OK" {
		t.Fatalf("call: %s", fl)
	}
	var got []lcrHit
	for len(got) < 6 {
		select {
		case h := <-hits:
			got = append(got, h)
		case <-time.After(3 * time.Second):
			t.Fatalf("gateways tried: %v", got)
		}
	}
	uri := func(gw, user string) string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, gws[gw].port) }
	if got[0] != (lcrHit{"sipgw6", uri("sipgw6", "014930123")}) {
		t.Errorf("first try %v, want sipgw6 with prefix 01", got[0])
	}
	var mid []string
	for _, h := range got[1:5] {
		mid = append(mid, h.gw)
		if h.ruri != uri(h.gw, "4930123") {
			t.Errorf("%s got %s", h.gw, h.ruri)
		}
	}
	sort.Strings(mid)
	if strings.Join(mid, " ") != "sipgw1 sipgw3 sipgw4 sipgw5" {
		t.Errorf("priority-2 tries %v", got[1:5])
	}
	if got[5] != (lcrHit{"sipgw2", uri("sipgw2", "014930123")}) {
		t.Errorf("last try %v, want sipgw2 with prefix 01", got[5])
	}

	// Every gateway fails: the failure route gives up with its own 503.
	gws["sipgw2"].status.Store("486 Busy Here")
	if fl := invite("lcr-call-2"); fl != "SIP/2.0 503 Service not available - No more gateways" {
		t.Errorf("call with all gateways failing: %s", fl)
	}
	for i := 0; i < 6; i++ {
		select {
		case <-hits:
		case <-time.After(3 * time.Second):
			t.Fatalf("only %d gateways tried on the second call", i)
		}
	}
}
