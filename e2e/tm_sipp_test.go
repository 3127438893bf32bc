package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// The transaction flows of tm_test.go driven by SIPp on both ends: each
// scenario (testdata/sipp/tm_*.xml) checks the protocol details itself
// (expected replies and requests only, ereg check_it on headers, branch
// and tag comparisons) and fails its calls otherwise; the tests check the
// exit codes and ser's t_stats.

// tmSIPpTimeout bounds every SIPp run of these tests.
const tmSIPpTimeout = 10 * time.Second

// startUAS starts a SIPp callee for calls calls on a free port and
// returns it with its port; extra are more SIPp options (-key …).
func startUAS(t *testing.T, scenario string, calls int, extra ...string) (*testutil.Proc, int) {
	t.Helper()
	port := testutil.FreePort(t)
	p := testutil.StartSIPp(t, &testutil.SIPp{
		Scenario: sippScenario(scenario), Port: port, Calls: calls, Timeout: tmSIPpTimeout, Extra: extra,
	})
	return p, port
}

// runUAC runs a SIPp caller against the server to completion and fails
// the test (with the callees' outputs) unless every call succeeded.
func runUAC(t *testing.T, srv *server, scenario string, calls int, uases map[string]*testutil.Proc, extra ...string) {
	t.Helper()
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario(scenario), Remote: srv.addr(), Calls: calls, Rate: 10,
		Timeout: tmSIPpTimeout, Extra: extra,
	})
	if code != 0 {
		var b strings.Builder
		for name, p := range uases {
			fmt.Fprintf(&b, "\n--- %s:\n%s", name, sippReport(p.Output()))
		}
		t.Fatalf("%s: sipp exit %d:\n%s%s", scenario, code, sippReport(out), b.String())
	}
}

// waitUAS waits for a SIPp callee to finish its calls and fails the test
// unless all succeeded.
func waitUAS(t *testing.T, name string, p *testutil.Proc) {
	t.Helper()
	if c := p.Wait(tmSIPpTimeout); c != 0 {
		t.Fatalf("%s: sipp exit %d:\n%s", name, c, sippReport(p.Output()))
	}
}

// sippEvent matches SIPp's event lines (failed regexps, unexpected
// messages, timeouts), printed with a timestamp before its screens.
var sippEvent = regexp.MustCompile(`^\d{4}-\d\d-\d\d\t`)

// sippReport returns SIPp's event lines and the end of its last screen.
func sippReport(out string) string {
	var ev []string
	for _, l := range strings.Split(out, "\n") {
		if sippEvent.MatchString(l) {
			ev = append(ev, l)
		}
	}
	if len(ev) > 20 {
		ev = ev[:20]
	}
	return strings.Join(ev, "\n") + "\n" + tail(out)
}

// wantStats checks t_stats for each of the given fragments. tm counts a
// 2xx-completed transaction just after relaying the 2xx, so the SIPp
// peers may be done a moment before the counters are: it polls for up to
// two seconds before failing.
func wantStats(t *testing.T, srv *server, want ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		st := fifoCmd(t, srv, "t_stats")
		var missing []string
		for _, w := range want {
			if !strings.Contains(st, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("t_stats lacks %q:\n%s", missing, st)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIPpCancel cancels ringing calls through the Hello World config:
// the SIPp caller gets 180, sends CANCEL, gets 200 for it and the callee's
// 487, and ACKs; the SIPp callee gets tm's CANCEL (branch and CSeq number
// of the INVITE), answers 200 and 487, and gets tm's hop-by-hop ACK —
// and never the caller's ACK, which tm absorbs.
func TestSIPpCancel(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	const calls = 5
	uas, port := startUAS(t, "tm_ring_uas.xml", calls)
	registerSIPp(t, srv, "service", fmt.Sprintf("127.0.0.1:%d", port))
	runUAC(t, srv, "tm_cancel_uac.xml", calls, map[string]*testutil.Proc{"uas": uas})
	waitUAS(t, "uas", uas)
	// Each call: the INVITE (487) and the CANCEL (200 canceling, a local
	// reply) are transactions; REGISTER is stateless, ACK absorbed.
	wantStats(t, srv, fmt.Sprintf("Total: %d ", 2*calls), fmt.Sprintf("Replied localy: %d ", calls),
		fmt.Sprintf("4xx: %d,", calls), fmt.Sprintf("2xx: %d ", calls))
}

// TestSIPpNoAnswer408 calls a SIPp callee that rings and never answers,
// with the Hello World config plus modparam("tm","fr_inv_timer",2): the
// caller gets tm's 408 about 2 s after the 180 (the scenario fails it
// before 1.5 s and after 4 s) and ACKs it; the callee gets tm's CANCEL
// (noisy_ctimer) and, after its 487, the hop-by-hop ACK; the 487 does not
// reach the caller.
func TestSIPpNoAnswer408(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	const lr = `modparam("rr", "enable_full_lr", 1)`
	cfg := readCfg(t, "helloworld.cfg")
	if !strings.Contains(cfg, lr) {
		t.Fatalf("helloworld.cfg lacks %s", lr)
	}
	srv := startSer(t, strings.Replace(cfg, lr, lr+"\n"+`modparam("tm", "fr_inv_timer", 2)`, 1))
	const calls = 2
	uas, port := startUAS(t, "tm_ring_uas.xml", calls)
	registerSIPp(t, srv, "service", fmt.Sprintf("127.0.0.1:%d", port))
	runUAC(t, srv, "tm_408_uac.xml", calls, map[string]*testutil.Proc{"uas": uas})
	waitUAS(t, "uas", uas)
	wantStats(t, srv, fmt.Sprintf("Total: %d ", calls), fmt.Sprintf("Replied localy: %d ", calls),
		fmt.Sprintf("4xx: %d,", calls), "2xx: 0 ")
}

// TestSIPpParallelFork registers two SIPp callees as the same user: both
// ring, A answers 200 ms later and its 200 is the only final reply the
// caller gets (a 487 would fail its calls); B gets tm's CANCEL, answers
// 200 and 487 and gets the hop-by-hop ACK.
func TestSIPpParallelFork(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	const calls = 3
	a, portA := startUAS(t, "tm_answer_uas.xml", calls, "-key", "user", "service")
	b, portB := startUAS(t, "tm_ring_uas.xml", calls)
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: srv.addr(), Calls: 2, Timeout: tmSIPpTimeout,
		Extra: []string{"-inf", usersCSV(t, []string{
			fmt.Sprintf("service;127.0.0.1:%d", portA), fmt.Sprintf("service;127.0.0.1:%d", portB),
		})},
	})
	if code != 0 {
		t.Fatalf("register: sipp exit %d:\n%s", code, sippReport(out))
	}
	runUAC(t, srv, "tm_fork_uac.xml", calls, map[string]*testutil.Proc{"A (answers)": a, "B (cancelled)": b})
	waitUAS(t, "A (answers)", a)
	waitUAS(t, "B (cancelled)", b)
	// INVITE and BYE per call, both 2xx; the ACK is stateless.
	wantStats(t, srv, fmt.Sprintf("Total: %d ", 2*calls), fmt.Sprintf("2xx: %d ", 2*calls), "4xx: 0,")
}

// TestSIPpSerialForkONR runs the admin guide's onr example (reply_route /
// t_on_negative) with its four destinations on SIPp sinks and the timers
// shortened (fr_timer 1 s, fr_inv_timer 2 s): nobody rejects 404 at once
// and parallel stays silent (tried in parallel, fr_timer ends it), then
// reply_route[1] tries nonsense (486), then reply_route[2] tries foo, who
// answers. Each sink checks it got exactly its own INVITE (Request-URI
// user); the caller's only final reply is foo's 200.
func TestSIPpSerialForkONR(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	const calls = 2
	nobody, pNobody := startUAS(t, "tm_404_uas.xml", calls, "-key", "user", "nobody")
	parallel, pParallel := startUAS(t, "tm_silent_uas.xml", calls, "-key", "user", "parallel")
	nonsense, pNonsense := startUAS(t, "tm_486_uas.xml", calls, "-key", "user", "nonsense")
	foo, pFoo := startUAS(t, "tm_answer_uas.xml", calls, "-key", "user", "foo")
	cfg := readCfg(t, "onr.cfg")
	repl := []string{
		"sip:nobody@iptel.org", fmt.Sprintf("sip:nobody@127.0.0.1:%d", pNobody),
		"sip:parallel@iptel.org:9", fmt.Sprintf("sip:parallel@127.0.0.1:%d", pParallel),
		"sip:nonsense@iptel.org", fmt.Sprintf("sip:nonsense@127.0.0.1:%d", pNonsense),
		"sip:foo@iptel.org", fmt.Sprintf("sip:foo@127.0.0.1:%d", pFoo),
		`modparam("tm", "fr_inv_timer", 15 )`, `modparam("tm", "fr_inv_timer", 2 )`,
		`modparam("tm", "fr_timer", 10 )`, `modparam("tm", "fr_timer", 1 )`,
	}
	for i := 0; i < len(repl); i += 2 {
		if !strings.Contains(cfg, repl[i]) {
			t.Fatalf("onr.cfg lacks %s", repl[i])
		}
	}
	srv := startSer(t, strings.NewReplacer(repl...).Replace(cfg))
	uases := map[string]*testutil.Proc{"nobody": nobody, "parallel": parallel, "nonsense": nonsense, "foo": foo}
	runUAC(t, srv, "tm_onr_uac.xml", calls, uases, "-s", "anyone")
	for _, name := range []string{"nobody", "parallel", "nonsense", "foo"} {
		waitUAS(t, name, uases[name])
	}
	// One transaction per call (ACK and BYE go straight to foo).
	wantStats(t, srv, fmt.Sprintf("Total: %d ", calls), fmt.Sprintf("2xx: %d ", calls), "4xx: 0,")
}

// TestSIPpStatefulUAS runs the admin guide's stateful UA example
// (uas.cfg): sip:a@ gets "409 Bizzar Error", and the same INVITE sent
// again gets the very same 409 (To-tag and bytes); sip:b@ gets "699 I
// don't want to chat with you". Both are ACKed.
func TestSIPpStatefulUAS(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, readCfg(t, "uas.cfg"))
	const calls = 3
	// -nr: the second 409 is identical to the first, which SIPp's
	// retransmission detection would answer with the INVITE again.
	runUAC(t, srv, "tm_uas_409.xml", calls, nil, "-nr")
	runUAC(t, srv, "tm_uas_699.xml", calls, nil)
	wantStats(t, srv, fmt.Sprintf("Total: %d ", 2*calls), fmt.Sprintf("Replied localy: %d ", 2*calls),
		fmt.Sprintf("6xx: %d,", calls), fmt.Sprintf("4xx: %d,", calls))
}
