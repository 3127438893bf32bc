package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// xlogCfg logs every request and the replies and failures of relayed
// INVITEs with xlog; OPTIONS are answered here, INVITEs go to %s.
const xlogCfg = `
debug=3
fork=no
children=2
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/tm.so"
loadmodule "/usr/lib/ser/modules/xlog.so"
route {
	xlog("L_NOTICE", "XLOG-REQ %%rm %%ru from %%fu;tag=%%ft to %%tu src %%is cseq %%cs ua=%%ua\n");
	xdbg("XDBG not shown at debug 3\n");
	if (method=="OPTIONS") { sl_send_reply("200", "OK"); break; };
	if (method=="INVITE") {
		rewritehostport("%s");
		t_on_reply("1");
		t_on_failure("1");
		t_relay();
	};
}
onreply_route[1] { xlog("L_INFO", "XLOG-REPLY %%rs %%rr to-tag %%tt\n"); }
failure_route[1] { xlog("L_ERR", "XLOG-FAILURE %%rm %%ru branch %%{via[-1]}\n"); }
`

// TestXlogSipsak runs the ser binary with xlog lines in its config and
// sends it an OPTIONS with sipsak and an INVITE (via a Go UA) that a SIPp
// UAS answers 486: each xlog line comes out in ser's log (stderr, -E)
// with the values of the message and its Call-ID as call_id; xdbg is
// filtered by debug=3.
func TestXlogSipsak(t *testing.T) {
	sipsak := testutil.RequireTool(t, "sipsak")
	uas, uasPort := startUAS(t, "tm_486_uas.xml", 1, "-key", "user", "callee")
	port := testutil.FreePort(t)
	sp := startSerBin(t, fmt.Sprintf(xlogCfg, fmt.Sprintf("127.0.0.1:%d", uasPort)), port)

	out, code := testutil.Run(t, 20*time.Second, "", sipsak, "-s", fmt.Sprintf("sip:xlogtest@127.0.0.1:%d", port), "-vv")
	if code != 0 {
		t.Fatalf("sipsak: exit %d\n%s", code, out)
	}
	// sipsak's Call-ID, as it printed the request.
	cid := regexp.MustCompile(`(?mi)^Call-ID: (\S+)`).FindStringSubmatch(out)
	if cid == nil {
		t.Fatalf("no Call-ID in sipsak's output:\n%s", out)
	}
	waitLog(t, sp, "XLOG-REQ OPTIONS sip:xlogtest@127.0.0.1:", " from sip:sipsak@127.0.0.1:", "call_id="+cid[1], "src 127.0.0.1 cseq ", "ua=sipsak")

	caller := newUA(t)
	sendInvite(caller, sp.srv.udpAddr(), "sip:callee@example.com", "xlog-invite-1")
	if r, _ := caller.recvFor("486"); !strings.HasPrefix(r, "SIP/2.0 486") {
		t.Fatalf("want 486: %s", r)
	}
	waitLog(t, sp, "XLOG-REQ INVITE sip:callee@example.com from sip:bob@example.org;tag=b-xlog-invite-1 to sip:callee@example.com src 127.0.0.1 cseq 1 ua=<null>", "call_id=xlog-invite-1")
	waitLog(t, sp, "XLOG-REPLY 486 Busy Here to-tag ", "call_id=xlog-invite-1", "level=INFO")
	waitLog(t, sp, fmt.Sprintf("XLOG-FAILURE INVITE sip:callee@127.0.0.1:%d branch SIP/2.0/UDP %s;branch=z9hG4bKxlog-invite-1;rport", uasPort, caller.hostport()), "call_id=xlog-invite-1", "level=ERROR")
	if strings.Contains(sp.p.Output(), "XDBG") {
		t.Errorf("xdbg logged above the debug level")
	}
	waitUAS(t, "uas", uas)
}

// waitLog waits until one line of the ser binary's output has every part.
func waitLog(t *testing.T, sp *serProc, parts ...string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; {
		for _, l := range strings.Split(sp.p.Output(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no log line with %q:\n%s", parts, sp.p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
