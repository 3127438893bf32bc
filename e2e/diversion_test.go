package e2e

import (
	"fmt"
	"strings"
	"testing"

	"ser/internal/testing/testutil"
)

// TestDiversionForwardOnBusy is the classic forward-on-busy: the callee
// (a SIPp UAS) answers 486, the failure route adds a Diversion header
// with add_diversion("user-busy") and relays the call to the forwarding
// target, a second SIPp UAS that checks the header it receives.
func TestDiversionForwardOnBusy(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	busy, busyPort := startUAS(t, "tm_486_uas.xml", 1, "-key", "user", "callee")
	want := "<sip:callee@example.com>;reason=user-busy;privacy=full"
	fwd, fwdPort := startUAS(t, "diversion_uas.xml", 1, "-key", "div", want)
	srv := startSer(t, fmt.Sprintf(`
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "diversion.so"
modparam("diversion", "suffix", ";privacy=full")
route {
	rewritehostport("127.0.0.1:%d");
	t_on_failure("1");
	t_relay();
}
failure_route[1] {
	if (t_check_status("486")) {
		add_diversion("user-busy");
		rewritehostport("127.0.0.1:%d");
		t_relay();
	};
}
`, busyPort, fwdPort))
	caller := newUA(t)
	sendInvite(caller, srv.udpAddr(), "sip:callee@example.com", "diversion-1")
	if r, _ := caller.recvFor("480"); !strings.HasPrefix(r, "SIP/2.0 480") {
		t.Fatalf("want the forwarding target's 480: %s", r)
	}
	waitUAS(t, "busy callee", busy)
	waitUAS(t, "forwarding target", fwd)
}
