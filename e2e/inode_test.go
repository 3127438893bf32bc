package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/store"
	"ser/internal/testing/mariadb"
	"ser/internal/testing/testutil"
)

// exampleCfg reads examples/cluster/<name> and applies replacements (old,
// new pairs), failing when an old string is not in the file, so the
// examples and the tests cannot drift apart.
func exampleCfg(t *testing.T, name string, pairs ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "cluster", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s has no %q", name, pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// statsValue extracts "code: N" from sl_stats output.
func statsValue(out, code string) int {
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == code+":" {
			n, _ := strconv.Atoi(f[i+1])
			return n
		}
	}
	return -1
}

// TestInodeCachelessSplit runs Inode's cacheless topology from
// examples/cluster: a stateless outbound proxy (dispatcher) sends
// REGISTERs round-robin to two registrars that write contacts to a
// MariaDB primary (usrloc db_mode 3), and calls to two proxies that read
// them from a MariaDB replica. The registrars share the digest secret, so
// a REGISTER challenged by one is accepted by the other (topology 3). A
// third proxy is added at run time by changing only the outbound proxy's
// list; a registrar is killed and every AOR registered before stays
// reachable while registrations go on. The outbound proxy puts itself on
// the REGISTERs' Path (add_path_received), the registrars store it, and
// every call reaches the phone through the outbound proxy, from its
// address (the only one a phone behind NAT accepts), by the stored path.
func TestInodeCachelessSplit(t *testing.T) {
	primary, replica := mariadb.StartReplicated(t)
	ctx := context.Background()
	st, err := store.Open(ctx, primary.URL("ser"))
	if err != nil {
		t.Fatal(err)
	}
	const users = 20
	for i := 0; i < users; i++ {
		if err := st.AddSubscriber(ctx, store.Subscriber{Username: fmt.Sprintf("u%d", i), Domain: "example.com", Password: fmt.Sprintf("pw%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddSubscriber(ctx, store.Subscriber{Username: "service", Domain: "example.com", Password: "svcpw"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	replica.CatchUp(t)

	common := []string{"fork=yes", "fork=no", "log_stderror=no", "log_stderror=yes"}
	registrar := func() *server {
		return startSer(t, exampleCfg(t, "inode-registrar.cfg", append(common,
			`db_url="mysql://ser:heslo@10.0.0.30/ser?readTimeout=2s"`, fmt.Sprintf("db_url=%q", primary.URL("ser")+"?readTimeout=2s"))...))
	}
	r1, r2 := registrar(), registrar()
	// The proxies need the outbound proxy's address as an alias: reserve
	// its port first.
	lbPort := freeUDPPort(t)
	lbAddr := fmt.Sprintf("127.0.0.1:%d", lbPort)
	proxy := func() *server {
		return startSer(t, exampleCfg(t, "inode-proxy.cfg", append(common,
			"mysql://serro:47serro11@10.0.0.31/ser?readTimeout=2s", replica.ROURL("ser")+"?readTimeout=2s",
			"alias=10.0.0.10:5060", "alias="+lbAddr)...))
	}
	p1, p2 := proxy(), proxy()
	list := filepath.Join(t.TempDir(), "dispatcher.list")
	writeList := func(proxies ...*server) {
		var b strings.Builder
		fmt.Fprintf(&b, "1 sip:%s\n1 sip:%s\n", r1.addr(), r2.addr())
		for _, p := range proxies {
			fmt.Fprintf(&b, "2 sip:%s\n", p.addr())
		}
		if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeList(p1, p2)
	lb := startSer(t, exampleCfg(t, "inode-lb.cfg", append(common,
		`"/etc/ser/dispatcher.list"`, strconv.Quote(list),
		`modparam("dispatcher", "ds_ping_interval", 10)`, `modparam("dispatcher", "ds_ping_interval", 1)`,
		"mysql://serro:47serro11@10.0.0.31/ser?readTimeout=2s", replica.ROURL("ser")+"?readTimeout=2s")...),
		func(o *core.Options) { setPort(o, lbPort) })

	phone := newUA(t)
	lbNode := &node{t: t, ip: "127.0.0.1", port: lbPort}
	for i := 0; i < users/2; i++ {
		// The first users' phone looks as if behind NAT (a private
		// address in Via and Contact).
		registerAuthAs(t, phone, lbNode, fmt.Sprintf("u%d", i), fmt.Sprintf("pw%d", i), "192.168.1.2:5060")
	}
	// Round-robin sent each challenge and its answer to different
	// registrars: the answers were accepted with the other's nonce.
	// (sl counts a reply just after sending it.)
	var s1, s2 string
	waitFor(t, func() bool {
		s1, s2 = fifoCmd(t, r1, "sl_stats"), fifoCmd(t, r2, "sl_stats")
		return statsValue(s1, "200")+statsValue(s2, "200") == users/2
	})
	// A registrar that accepted more answers than it sent challenges took
	// nonces the other one issued.
	if statsValue(s1, "200") <= statsValue(s1, "401") && statsValue(s2, "200") <= statsValue(s2, "401") {
		t.Fatalf("registrars did not accept each other's nonces:\nr1:\n%s\nr2:\n%s", s1, s2)
	}
	replica.CatchUp(t)

	// The registrars stored the outbound proxy's Path entry with each
	// contact, with the NATed phone's real address as received.
	checkPath(t, primary.URL("ser"), "u0", fmt.Sprintf("<sip:%s;lr;received=sip:%s>", lbAddr, phone.hostport()), "sip:"+phone.hostport())

	// Calls through the outbound proxy: a proxy finds the contact on the
	// replica and relays the call along the contact's path, through the
	// outbound proxy, to the phone.
	caller := newUA(t)
	call := func(user, callID string) {
		t.Helper()
		caller.send(lb.udpAddr(), fmt.Sprintf(`INVITE sip:%[1]s@%[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=z9hG4bK%[4]s;rport
Max-Forwards: 70
From: <sip:caller@example.com>;tag=c-%[4]s
To: <sip:%[1]s@example.com>
Call-ID: %[4]s
CSeq: 1 INVITE
Contact: <sip:caller@%[3]s>
Content-Length: 0

`, user, lbAddr, caller.hostport(), callID))
		inv, from := phone.recvFor("INVITE")
		if !strings.Contains(firstLine(inv), "sip:"+user+"@") {
			t.Fatalf("call to %s reached %s", user, firstLine(inv))
		}
		if from.Port != lbPort || len(headers(inv, "Route")) != 0 {
			t.Fatalf("call to %s reached the phone from %s (not through the outbound proxy at %s) with Route %q:\n%s",
				user, from, lbAddr, headers(inv, "Route"), inv)
		}
		phone.send(from, replyTo(inv, "200 OK", "tag=phone"))
		if r, _ := caller.recvFor("200 OK"); header(r, "Call-ID") != callID {
			t.Fatalf("200 for the wrong call:\n%s", r)
		}
	}
	for i := 0; i < users/2; i++ {
		call(fmt.Sprintf("u%d", i), fmt.Sprintf("inode-a-%d", i))
	}
	// SIPp traffic: a SIPp uas registers (digest, through the outbound
	// proxy) and a SIPp uac calls it, INVITE to BYE, record-routed through
	// a proxy.
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("uas_rr.xml"), Port: uasPort, Calls: 20})
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("auth_register.xml"), Remote: lbAddr, Calls: 1,
		Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("service;127.0.0.1:%d", uasPort)}), "-au", "service", "-ap", "svcpw"},
	})
	if code != 0 {
		t.Fatalf("SIPp REGISTER through the outbound proxy (exit %d):\n%s", code, tail(out))
	}
	replica.CatchUp(t)
	out, code = testutil.RunSIPp(t, &testutil.SIPp{Scenario: sippScenario("uac_rr.xml"), Remote: lbAddr, Calls: 20, Rate: 20})
	if code != 0 {
		t.Fatalf("SIPp calls through the cluster (exit %d):\n%s", code, tail(out))
	}
	if c := uas.Wait(15 * time.Second); c != 0 {
		t.Fatalf("SIPp uas (exit %d):\n%s", c, tail(uas.Output()))
	}

	relayed := func(p *server) int {
		return statsValue(strings.NewReplacer(",", " ").Replace(fifoCmd(t, p, "t_stats")), "2xx")
	}
	if relayed(p1) == 0 || relayed(p2) == 0 {
		t.Fatalf("calls not spread over both proxies: p1 %d, p2 %d", relayed(p1), relayed(p2))
	}

	// A third proxy at run time: only the outbound proxy's list changes.
	p3 := proxy()
	writeList(p1, p2, p3)
	if out := fifoCmd(t, lb, "ds_reload"); !strings.HasPrefix(out, "200") {
		t.Fatalf("ds_reload: %s", out)
	}
	for i := 0; i < 20; i++ {
		call(fmt.Sprintf("u%d", i%(users/2)), fmt.Sprintf("inode-b-%d", i))
	}
	if relayed(p3) == 0 {
		t.Fatal("the added proxy got no call")
	}

	// A registrar dies: the outbound proxy's probes mark it down and the
	// other one takes every REGISTER; nobody registered before is lost.
	r1.inst.Stop()
	var dsl string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if dsl = fifoCmd(t, lb, "ds_list"); strings.Contains(dsl, r1.addr()+" flags=IP") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the outbound proxy never marked the dead registrar down:\n%s", dsl)
		}
	}
	for i := users / 2; i < users; i++ {
		registerAuth(t, phone, lbNode, fmt.Sprintf("u%d", i), fmt.Sprintf("pw%d", i))
	}
	replica.CatchUp(t)
	// A phone not behind NAT: the Path entry has no received address.
	checkPath(t, primary.URL("ser"), fmt.Sprintf("u%d", users/2), fmt.Sprintf("<sip:%s;lr>", lbAddr), "")
	for i := 0; i < users; i++ {
		call(fmt.Sprintf("u%d", i), fmt.Sprintf("inode-c-%d", i))
	}
}

// checkPath reads user's contact from the location table at url and
// checks its stored path and received address.
func checkPath(t *testing.T, url, user, wantPath, wantRcv string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Contacts(ctx, "location", user, "")
	if err != nil || len(cs) != 1 || cs[0].Path != wantPath || cs[0].Received != wantRcv {
		t.Fatalf("%s's stored contact %+v (%v), want path %s, received %q", user, cs, err, wantPath, wantRcv)
	}
}

// freeUDPPort picks a free port for a server that must know its address
// before it starts.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		p := 20000 + int(time.Now().UnixNano()%40000)
		if portFree("127.0.0.1", p) {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}
