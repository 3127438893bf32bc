package e2e

import (
	"fmt"
	"strings"
	"testing"

	"ser/internal/testing/testutil"
)

// TestAVPModuleForwardOnBusy runs the SER 0.9-era iptel avp module's
// names with real clients: the request route stores the forwarding target
// (set_sattr) and a limit (set_iattr, tested with avp_exists) and relays
// the call to a SIPp callee that answers 486; the failure route, which
// sees the transaction's attributes, writes the target into the R-URI
// with attr2uri — the only way the call can reach the second SIPp UAS,
// which checks the Diversion header add_diversion wrote from the original
// R-URI, saved beforehand with uri2attr and printed with print_sattr.
func TestAVPModuleForwardOnBusy(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	busy, busyPort := startUAS(t, "tm_486_uas.xml", 1, "-key", "user", "callee")
	fwd, fwdPort := startUAS(t, "diversion_uas.xml", 1, "-key", "div", "<sip:callee@example.com>;reason=user-busy")
	srv := startSer(t, fmt.Sprintf(`
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/avp/avp.so"
loadmodule "modules/diversion/diversion.so"
route {
	set_sattr("fwd", "sip:target@127.0.0.1:%d");
	set_iattr("limit", "5");
	uri2attr("orig");
	if (!avp_exists("limit", "5") || avp_exists("limit", "6")) {
		sl_send_reply("500", "avp_exists");
		break;
	};
	rewritehostport("127.0.0.1:%d");
	t_on_failure("1");
	t_relay();
}
failure_route[1] {
	if (t_check_status("486") && is_sattr_set("fwd")) {
		print_sattr("orig");
		add_diversion("user-busy");
		attr2uri("fwd");
		t_relay();
	};
}
`, fwdPort, busyPort))
	caller := newUA(t)
	sendInvite(caller, srv.udpAddr(), "sip:callee@example.com", "avp-1")
	if r, _ := caller.recvFor("480"); !strings.HasPrefix(r, "SIP/2.0 480") {
		t.Fatalf("want the forwarding target's 480: %s", r)
	}
	waitUAS(t, "busy callee", busy)
	waitUAS(t, "forwarding target", fwd)
	if log := srv.log.String(); !strings.Contains(log, "attr=orig value=sip:callee@example.com") {
		t.Errorf("print_sattr(\"orig\") did not log the original R-URI:\n%s", log)
	}
}
