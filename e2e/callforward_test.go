package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/fifo"
	"ser/internal/testing/testutil"
)

// TestCallForwarding runs examples/callforward.cfg (avpops' call
// forwarding recipe) in the ser binary with fr_inv_timer shortened to
// 2 s, and provisions the forwards as an operator would: two with the DB
// command over the real FIFO, one over XML-RPC (fifo.execute with the DB
// command, from Granig's PHP client). SIPp phones then check that
// every call follows its forward:
//
//   - alice forwards unconditionally to carol (alice is not even
//     registered): carol answers;
//   - bob's phone answers 486: the failure route sends the call to dave
//     (fwdbusy), who answers;
//   - erin's phone rings and never answers: after fr_inv_timer the
//     failure route cancels it and sends the call to frank (fwdnoanswer).
//
// The caller's only final reply is the target's 200; each phone checks
// it got only its own INVITE (Request-URI user), the busy one its ACK,
// the ringing one tm's CANCEL. Finally alice's forward is deleted over
// XML-RPC, and the next call to her gets 404.
func TestCallForwarding(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	php := testutil.RequireTool(t, "php")
	b, err := os.ReadFile("../examples/callforward.cfg")
	if err != nil {
		t.Fatal(err)
	}
	const timer = `modparam("tm", "fr_inv_timer", 20)`
	if !strings.Contains(string(b), timer) {
		t.Fatalf("callforward.cfg lacks %s", timer)
	}
	p := startSerBinary(t, strings.Replace(string(b), timer, `modparam("tm", "fr_inv_timer", 2)`, 1))

	const calls = 2
	carol, pCarol := startUAS(t, "tm_answer_uas.xml", calls, "-key", "user", "carol")
	bobPhone, pBob := startUAS(t, "tm_486_uas.xml", calls, "-key", "user", "bob")
	dave, pDave := startUAS(t, "tm_answer_uas.xml", calls, "-key", "user", "dave")
	erinPhone, pErin := startUAS(t, "tm_ring_uas.xml", calls)
	frank, pFrank := startUAS(t, "tm_answer_uas.xml", calls, "-key", "user", "frank")
	register := func(user string, port int) {
		t.Helper()
		out, code := testutil.RunSIPp(t, &testutil.SIPp{
			Scenario: sippScenario("register.xml"), Remote: p.sipAddr, Calls: 1, Timeout: tmSIPpTimeout,
			Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("%s;127.0.0.1:%d", user, port)})},
		})
		if code != 0 {
			t.Fatalf("register %s: sipp exit %d:\n%s", user, code, sippReport(out))
		}
	}
	register("bob", pBob)
	register("erin", pErin)

	// Provisioning: the rows avpops reads, written with SER's DB command.
	row := func(op, user, attr, target string) []string {
		return []string{op, "usr_preferences", `username="` + user + `"`, `domain="example.com"`,
			`attribute="` + attr + `"`, `value="` + target + `"`, "type=0", "."}
	}
	ctx := context.Background()
	fc := &fifo.Client{Path: p.fifo, ReplyDir: p.dir + "/", Timeout: 5 * time.Second}
	for _, r := range [][]string{
		row("insert", "alice", "callfwd", fmt.Sprintf("sip:carol@127.0.0.1:%d", pCarol)),
		row("insert", "bob", "fwdbusy", fmt.Sprintf("sip:dave@127.0.0.1:%d", pDave)),
	} {
		if rep, err := fc.Execute(ctx, "DB", r); err != nil || rep.Code != 200 {
			t.Fatalf("DB %q over the FIFO: %v %+v", r, err, rep)
		}
	}
	// Granig's PHP client (xmlrpc/testdata/granig.php), with the URL,
	// command and parameters substituted.
	granig, err := os.ReadFile("../xmlrpc/testdata/granig.php")
	if err != nil {
		t.Fatal(err)
	}
	xmlrpcDB := func(lines ...string) {
		t.Helper()
		params := "array('" + strings.Join(lines, "', '") + "')"
		src := strings.NewReplacer("http://my.server:5080/xmlrpc", p.url(), `"ul_show_contact"`, `"DB"`,
			`array("location", "012345")`, params).Replace(string(granig))
		path := filepath.Join(t.TempDir(), "provision.php")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := testutil.Run(t, 20*time.Second, "", php, path)
		var res struct {
			Fault    bool           `json:"fault"`
			Response map[string]any `json:"response"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Fault || res.Response["code"] != float64(200) {
			t.Fatalf("DB %q over XML-RPC: php exit %d: %s", lines, code, out)
		}
	}
	xmlrpcDB(row("insert", "erin", "fwdnoanswer", fmt.Sprintf("sip:frank@127.0.0.1:%d", pFrank))...)

	uases := map[string]*testutil.Proc{"carol": carol, "bob's phone": bobPhone, "dave": dave, "erin's phone": erinPhone, "frank": frank}
	call := func(user string) {
		t.Helper()
		out, code := testutil.RunSIPp(t, &testutil.SIPp{
			Scenario: sippScenario("callfwd_uac.xml"), Remote: p.sipAddr, Calls: calls, Rate: 10,
			Timeout: tmSIPpTimeout, Extra: []string{"-s", user},
		})
		if code != 0 {
			var b strings.Builder
			for name, u := range uases {
				fmt.Fprintf(&b, "\n--- %s:\n%s", name, sippReport(u.Output()))
			}
			t.Fatalf("calls to %s: sipp exit %d:\n%s%s", user, code, sippReport(out), b.String())
		}
	}
	call("alice")
	waitUAS(t, "carol", carol)
	call("bob")
	waitUAS(t, "bob's phone", bobPhone)
	waitUAS(t, "dave", dave)
	call("erin")
	waitUAS(t, "erin's phone", erinPhone)
	waitUAS(t, "frank", frank)

	// Removing the forward: alice (not registered) is not found again.
	xmlrpcDB("delete", "usr_preferences", `username="alice"`, `attribute="callfwd"`, ".")
	u := newUA(t)
	u.send(p.udpAddr(), fmt.Sprintf(`INVITE sip:alice@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKcf-gone;rport
Max-Forwards: 70
From: <sip:caller@%[2]s>;tag=cf1
To: <sip:alice@%[1]s>
Call-ID: cf-gone
CSeq: 1 INVITE
Contact: <sip:caller@%[2]s>
Content-Length: 0

`, p.sipAddr, u.hostport()))
	if r, _ := u.recvFor("SIP/2.0 4"); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Errorf("call to alice after her forward was deleted: %s", firstLine(r))
	}
}
