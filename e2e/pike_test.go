package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/sipmsg"
	"ser/internal/testing/testutil"
)

// TestPikeSIPpFlood floods the server with OPTIONS from SIPp on 127.0.0.1
// and on [::1]: pike_check_req() blocks each source after its limit (the
// flood's calls fail, ser logs the alarm with the address), while a UA on
// 127.0.0.2 still gets its answers; print_ip_tree shows the addresses.
func TestPikeSIPpFlood(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, `
loadmodule "sl.so"
loadmodule "pike.so"
modparam("pike", "sampling_time_unit", 10)
modparam("pike", "reqs_density_per_unit", 10)
route {
	if (!pike_check_req()) { drop; };
	sl_send_reply("200", "OK");
}
`, func(o *core.Options) {
		o.Listen = append(o.Listen, core.ListenAddr{Host: "::1", Port: 0, PortSet: true})
	})
	var port6 int
	for _, sk := range srv.inst.Server.Sockets() {
		switch {
		case sk.Proto != sipmsg.ProtoUDP:
		case sk.IP.Is6():
			port6 = sk.Port
		default:
			srv.port = sk.Port
		}
	}
	if port6 == 0 {
		t.Fatal("no IPv6 socket")
	}

	flood := func(local, remote string) {
		t.Helper()
		out, _ := testutil.RunSIPp(t, &testutil.SIPp{
			Scenario: "testdata/sipp/options_uac.xml", Remote: remote, Calls: 200, Rate: 400,
			Timeout: 30 * time.Second, Extra: []string{"-i", local},
		})
		ok, failed, found := testutil.SIPpCalls(out)
		if !found || ok < 10 || failed < 100 {
			t.Fatalf("flood from %s: %d answered, %d failed (want at least 10 answered, most dropped)\n%s", local, ok, failed, out)
		}
	}
	flood("127.0.0.1", srv.addr())
	flood("::1", fmt.Sprintf("[::1]:%d", port6))

	// Another address is not affected.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	defer c.Close()
	other := &ua{t: t, conn: c, port: c.LocalAddr().(*net.UDPAddr).Port}
	for i := 0; i < 5; i++ {
		other.send(srv.udpAddr(), fmt.Sprintf("OPTIONS sip:%[1]s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.2:%[2]d;branch=z9hG4bKpike%[3]d\nMax-Forwards: 70\nFrom: <sip:other@127.0.0.2>;tag=o%[3]d\nTo: <sip:%[1]s>\nCall-ID: pike-other-%[3]d\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n", srv.addr(), other.port, i))
		if r, _ := other.recv(); !strings.HasPrefix(r, "SIP/2.0 200") {
			t.Fatalf("127.0.0.2: %s", r)
		}
	}
	log := srv.log.String()
	for _, want := range []string{"ALARM - TOO MANY HITS on 127.0.0.1 !!", "ALARM - TOO MANY HITS on 0:0:0:0:0:0:0:1 !!"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "TOO MANY HITS on 127.0.0.2") {
		t.Error("127.0.0.2 was blocked")
	}
	tree := fifoCmd(t, srv, "print_ip_tree")
	if !strings.Contains(tree, "brh=127 byte=2 ") || !strings.Contains(tree, "brh=127 byte=1 ") {
		t.Errorf("print_ip_tree:\n%s", tree)
	}
}
