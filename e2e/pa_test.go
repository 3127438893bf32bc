package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/internal/testing/testutil"
)

// paCfg is a presence server: REGISTER goes to usrloc and pa, SUBSCRIBE
// and PUBLISH to pa, the rest is relayed. %s is pa's database.
const paCfg = `
debug=3
fork=no
log_stderror=yes

loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "pa.so"

modparam("usrloc", "db_mode", 0)
modparam("pa", "use_db", 1)
modparam("pa", "db_url", "%s")
modparam("pa", "timer_interval", 1)

route {
	if (uri==myself) {
		if (method=="SUBSCRIBE") {
			if (t_newtran()) {
				handle_subscription("registrar");
			};
			break;
		};
		if (method=="PUBLISH") {
			if (t_newtran()) {
				handle_publish("registrar");
			};
			break;
		};
		if (method=="REGISTER") {
			save("location");
			pa_handle_registration("registrar");
			break;
		};
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
	};
	if (!t_relay()) {
		sl_reply_error();
	};
}
`

// waitOutput waits until a process's output contains want.
func waitOutput(t *testing.T, sp *softphone, want string) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(sp.proc.Output(), want) {
			return
		}
	}
	t.Fatalf("baresip %s: no %q in its output:\n%s", sp.name, want, tail(sp.proc.Output()))
}

// TestPABaresipPresence: alice's baresip watches bob (a contact with
// presence=p2p, its presence module SUBSCRIBEs through ser) while bob is
// not registered (first NOTIFY: closed); bob's baresip registers
// (pa_handle_registration: open) and later quits, unregistering (closed).
// alice's baresip reports bob going online and offline from the NOTIFYs
// pa sends.
func TestPABaresipPresence(t *testing.T) {
	testutil.RequireTool(t, "baresip")
	srv := startSer(t, fmt.Sprintf(paCfg, "sqlite://"+filepath.Join(t.TempDir(), "pa.db")))
	bobURI := "sip:bob@" + srv.addr()
	alice := startSoftphoneWith(t, srv, "alice", "", false, "module_app\t\tcontact.so\nmodule_app\t\tpresence.so\n",
		fmt.Sprintf("\"Bob\" <%s>;presence=p2p\n", bobURI))
	waitRegistered(t, srv, "alice")
	waitFor(t, func() bool { return strings.Contains(srv.log.String(), "NOTIFY answered") })

	bob := startSoftphone(t, srv, "bob", "", true)
	waitRegistered(t, srv, "bob")
	// baresip prints the states with colour codes between the words.
	waitOutput(t, alice, "<"+bobURI+"> changed status from \x1b[31mOffline\x1b[;m to \x1b[32mOnline")

	bob.command("quit", "")
	waitOutput(t, alice, "<"+bobURI+"> changed status from \x1b[32mOnline\x1b[;m to \x1b[31mOffline")
	bob.proc.Wait(10 * time.Second)
}

// paUA is a raw SIP user agent for the pa tests.
type paUA struct {
	*ua
	srv  *server
	cseq int
}

func (u *paUA) request(method, uri, from, fromTag, to, toTag, callID string, extra []string, body string) string {
	u.t.Helper()
	u.cseq++
	if uri == "" {
		uri = "sip:bob@" + u.srv.addr()
	}
	to = "<" + to + ">"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	msg := fmt.Sprintf("%s %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport\nMax-Forwards: 70\nFrom: <%s>;tag=%s\nTo: %s\nCall-ID: %s\nCSeq: %d %s\nContact: <sip:w@%s>\n",
		method, uri, u.hostport(), callID, u.cseq, from, fromTag, to, callID, u.cseq, method, u.hostport())
	for _, h := range extra {
		msg += h + "\n"
	}
	msg += "Content-Length: %CL%\n\n" + body
	u.send(u.srv.udpAddr(), msg)
	r, _ := u.recvFor("SIP/2.0 ")
	return r
}

// notify waits for a NOTIFY, answers it with code and returns it.
func (u *paUA) notify(code int) string {
	u.t.Helper()
	n, from := u.recvFor("NOTIFY ")
	u.answer(n, from, code)
	return n
}

// answer replies to the request n from from.
func (u *paUA) answer(n string, from *net.UDPAddr, code int) {
	u.t.Helper()
	resp := fmt.Sprintf("SIP/2.0 %d OK\n", code)
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		for _, v := range headers(n, h) {
			resp += h + ": " + v + "\n"
		}
	}
	u.send(from, resp+"Content-Length: 0\n\n")
}

func tagParam(v string) string {
	_, t, _ := strings.Cut(v, ";tag=")
	if i := strings.IndexAny(t, ";>"); i >= 0 {
		t = t[:i]
	}
	return t
}

const pidfOpen = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@127.0.0.1">
<tuple id="t1"><status><basic>open</basic></status><note>At lunch</note></tuple>
</presence>`

// TestPASubscribePublish drives pa with raw SIP: SUBSCRIBE (200, Expires,
// immediate NOTIFY), PUBLISH (SIP-ETag, NOTIFY with the published state),
// refresh with SIP-If-Match, 412 for an unknown tag, a refresh of the
// subscription, a denied watcher (403), a restart of ser on the same
// SQLite file with the subscription and the publication kept, removal of
// the publication, unsubscribe (terminated NOTIFY) and expiry by timer.
func TestPASubscribePublish(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "pa.db")
	cfg := fmt.Sprintf(paCfg, db)
	srv := startSer(t, cfg)
	port := srv.port
	w := &paUA{ua: newUA(t), srv: srv}
	bob := "sip:bob@127.0.0.1"

	r := w.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "wt1", bob, "", "sub1", []string{"Event: presence", "Expires: 300", "Accept: application/pidf+xml"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") || header(r, "Expires") != "300" {
		t.Fatalf("SUBSCRIBE answered:\n%s", r)
	}
	ourTag := tagParam(header(r, "To"))
	n := w.notify(200)
	if !strings.HasPrefix(header(n, "Subscription-State"), "active;expires=") || !strings.Contains(n, "<basic>closed</basic>") ||
		header(n, "Event") != "presence" || header(n, "Call-ID") != "sub1" || tagParam(header(n, "From")) != ourTag || tagParam(header(n, "To")) != "wt1" {
		t.Fatalf("first NOTIFY:\n%s", n)
	}
	cseq1 := header(n, "CSeq")

	p := &paUA{ua: newUA(t), srv: srv}
	r = p.request("PUBLISH", "", bob, "pb1", bob, "", "pub1", []string{"Event: presence", "Expires: 120", "Content-Type: application/pidf+xml"}, pidfOpen)
	etag := header(r, "SIP-ETag")
	if !strings.HasPrefix(r, "SIP/2.0 200") || etag == "" || header(r, "Expires") != "120" {
		t.Fatalf("PUBLISH answered:\n%s", r)
	}
	n = w.notify(200)
	if !strings.Contains(n, "<basic>open</basic>") || !strings.Contains(n, "<note>At lunch</note>") || header(n, "CSeq") <= cseq1 {
		t.Fatalf("NOTIFY after PUBLISH:\n%s", n)
	}
	r = p.request("PUBLISH", "", bob, "pb1", bob, "", "pub1", []string{"Event: presence", "Expires: 120", "SIP-If-Match: " + etag}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") || header(r, "SIP-ETag") == "" || header(r, "SIP-ETag") == etag {
		t.Fatalf("PUBLISH refresh answered:\n%s", r)
	}
	etag = header(r, "SIP-ETag")
	if r = p.request("PUBLISH", "", bob, "pb1", bob, "", "pub1", []string{"Event: presence", "SIP-If-Match: nosuchtag"}, ""); !strings.HasPrefix(r, "SIP/2.0 412") {
		t.Fatalf("PUBLISH with an unknown tag answered:\n%s", r)
	}
	if r = p.request("PUBLISH", "", bob, "pb1", bob, "", "pub1", []string{"Event: dialog", "Content-Type: application/pidf+xml"}, pidfOpen); !strings.HasPrefix(r, "SIP/2.0 489") {
		t.Fatalf("PUBLISH for another event answered:\n%s", r)
	}

	// A refresh of the subscription gets a NOTIFY too.
	r = w.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "wt1", bob, ourTag, "sub1", []string{"Event: presence", "Expires: 300"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("refresh answered:\n%s", r)
	}
	if n = w.notify(200); !strings.Contains(n, "<basic>open</basic>") {
		t.Fatalf("NOTIFY after refresh:\n%s", n)
	}
	if r = w.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "wt1", bob, "nosuchtag", "sub1", []string{"Event: presence"}, ""); !strings.HasPrefix(r, "SIP/2.0 481") {
		t.Fatalf("SUBSCRIBE in an unknown dialog answered:\n%s", r)
	}

	// A denied watcher: a watcherinfo row with status rejected.
	db1 := srv.inst.Modules.Instance("pa").(interface{ DB() *store.Store }).DB()
	if err := db1.RejectWatcher(context.Background(), store.PATables{}, bob, "sip:mallory@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	m := &paUA{ua: newUA(t), srv: srv}
	if r = m.request("SUBSCRIBE", "", "sip:mallory@127.0.0.1", "mt1", bob, "", "subm", []string{"Event: presence"}, ""); !strings.HasPrefix(r, "SIP/2.0 403") {
		t.Fatalf("denied watcher answered:\n%s", r)
	}
	m.silent(300 * time.Millisecond)

	// Restart on the same database: the subscription and the publication
	// are kept; the removal of the publication is notified in the old
	// dialog.
	srv.inst.Stop()
	srv = startSer(t, cfg)
	if srv.port == port {
		t.Log("same port after restart")
	}
	w.srv, p.srv = srv, srv
	r = p.request("PUBLISH", "", bob, "pb1", bob, "", "pub1", []string{"Event: presence", "Expires: 0", "SIP-If-Match: " + etag}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("PUBLISH removal after restart answered:\n%s", r)
	}
	n = w.notify(200)
	if !strings.Contains(n, "<basic>closed</basic>") || header(n, "Call-ID") != "sub1" || tagParam(header(n, "From")) != ourTag {
		t.Fatalf("NOTIFY after removal:\n%s", n)
	}
	// Unsubscribe: terminated NOTIFY.
	r = w.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "wt1", bob, ourTag, "sub1", []string{"Event: presence", "Expires: 0"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") || header(r, "Expires") != "0" {
		t.Fatalf("unsubscribe answered:\n%s", r)
	}
	if n = w.notify(200); !strings.HasPrefix(header(n, "Subscription-State"), "terminated") {
		t.Fatalf("NOTIFY after unsubscribe:\n%s", n)
	}
	// Expiry by timer: a 1-second subscription ends with reason=timeout.
	e := &paUA{ua: newUA(t), srv: srv}
	r = e.request("SUBSCRIBE", "", "sip:carol@127.0.0.1", "ct1", bob, "", "sube", []string{"Event: presence", "Expires: 1"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE answered:\n%s", r)
	}
	e.notify(200)
	if n = e.notify(200); header(n, "Subscription-State") != "terminated;reason=timeout" {
		t.Fatalf("NOTIFY at expiry:\n%s", n)
	}
	if r = e.request("SUBSCRIBE", "", "sip:carol@127.0.0.1", "ct1", bob, "x", "sube", []string{"Event: dialog"}, ""); !strings.HasPrefix(r, "SIP/2.0 489") {
		t.Fatalf("SUBSCRIBE for another event answered:\n%s", r)
	}
}

// TestPASIPp runs SIPp scenarios against pa (SQLite): subscribe, publish,
// refresh of both, removal, unsubscribe (pa_watch_publish.xml); expiry by
// timer (pa_expiry.xml); a denied watcher (pa_denied.xml).
func TestPASIPp(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, fmt.Sprintf(paCfg, "sqlite://"+filepath.Join(t.TempDir(), "pa.db")))
	for _, sc := range []string{"pa_watch_publish.xml", "pa_expiry.xml"} {
		out, code := testutil.RunSIPp(t, &testutil.SIPp{Scenario: sippScenario(sc), Remote: srv.addr(), Calls: 1, Timeout: 20 * time.Second})
		if code != 0 {
			t.Fatalf("%s: sipp exit %d:\n%s", sc, code, tail(out))
		}
	}
	db := srv.inst.Modules.Instance("pa").(interface{ DB() *store.Store }).DB()
	if err := db.RejectWatcher(context.Background(), store.PATables{}, "sip:bob@127.0.0.1", "sip:watcher@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	out, code := testutil.RunSIPp(t, &testutil.SIPp{Scenario: sippScenario("pa_denied.xml"), Remote: srv.addr(), Calls: 1, Timeout: 20 * time.Second})
	if code != 0 {
		t.Fatalf("pa_denied.xml: sipp exit %d:\n%s", code, tail(out))
	}
}

// TestPALimits: max_subscriptions bounds the subscriptions to one
// presentity, max_total_subscriptions all of them (503 with Retry-After);
// an ended subscription frees its place.
func TestPALimits(t *testing.T) {
	cfg := strings.Replace(fmt.Sprintf(paCfg, "sqlite://"+filepath.Join(t.TempDir(), "pa.db")),
		`modparam("pa", "timer_interval", 1)`,
		`modparam("pa", "max_subscriptions", 1)
modparam("pa", "max_total_subscriptions", 2)`, 1)
	srv := startSer(t, cfg)
	sub := func(u *paUA, user, callID, toTag string, expires int) string {
		return u.request("SUBSCRIBE", "sip:"+user+"@"+srv.addr(), "sip:w@127.0.0.1", "t"+callID, "sip:"+user+"@127.0.0.1", toTag, callID,
			[]string{"Event: presence", fmt.Sprintf("Expires: %d", expires)}, "")
	}
	w1, w2, w3, w4 := &paUA{ua: newUA(t), srv: srv}, &paUA{ua: newUA(t), srv: srv}, &paUA{ua: newUA(t), srv: srv}, &paUA{ua: newUA(t), srv: srv}
	r := sub(w1, "bob", "l1", "", 300)
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("first SUBSCRIBE:\n%s", r)
	}
	tag1 := tagParam(header(r, "To"))
	w1.notify(200)
	if r = sub(w2, "bob", "l2", "", 300); !strings.HasPrefix(r, "SIP/2.0 503") || header(r, "Retry-After") == "" {
		t.Fatalf("second SUBSCRIBE to bob:\n%s", r)
	}
	if r = sub(w3, "carol", "l3", "", 300); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE to carol:\n%s", r)
	}
	w3.notify(200)
	if r = sub(w4, "dave", "l4", "", 300); !strings.HasPrefix(r, "SIP/2.0 503") {
		t.Fatalf("third subscription in all:\n%s", r)
	}
	// A fetch (Expires: 0) is answered over the limit: it keeps nothing.
	if r = sub(w4, "bob", "l5", "", 0); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("fetch:\n%s", r)
	}
	if n := w4.notify(200); header(n, "Subscription-State") != "terminated;reason=timeout" {
		t.Fatalf("fetch NOTIFY:\n%s", n)
	}
	// w1 unsubscribes: w2 gets bob's place.
	if r = sub(w1, "bob", "l1", tag1, 0); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("unsubscribe:\n%s", r)
	}
	w1.notify(200)
	if r = sub(w2, "bob", "l2", "", 300); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE to bob after the unsubscribe:\n%s", r)
	}
	w2.notify(200)
}

// TestPADistributionConfig runs SER 0.9.6's etc/pa.cfg unchanged (its
// listen address, port and FIFO moved to loopback and a scratch directory
// at run time): subscribe("registrar") answers a SUBSCRIBE with 200 and a
// NOTIFY (closed); once bob registers (save("location"), no
// pa_handle_registration in that config) pa's timer notices the
// registration and notifies open.
func TestPADistributionConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "ser-0.9.6", "etc", "pa.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startSer(t, string(raw))
	w := &paUA{ua: newUA(t), srv: srv}
	r := w.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "d1", "sip:bob@127.0.0.1", "", "dist1", []string{"Event: presence", "Expires: 120"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE answered:\n%s", r)
	}
	if n := w.notify(200); !strings.Contains(n, "<basic>closed</basic>") {
		t.Fatalf("first NOTIFY:\n%s", n)
	}
	if r := register(newUA(t), srv, "bob", 600, "dist-reg", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("REGISTER answered:\n%s", r)
	}
	// The timer runs every 10 s (timer_interval's default).
	buf := make([]byte, 65536)
	w.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, from, err := w.conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no NOTIFY after the registration: %v", err)
	}
	msg := string(buf[:n])
	if !strings.HasPrefix(msg, "NOTIFY ") || !strings.Contains(msg, "<basic>open</basic>") {
		t.Fatalf("NOTIFY after the registration:\n%s", msg)
	}
	w.answer(msg, from, 200)
}

// TestPAWatcherInfo: bob subscribes to presence.winfo of himself and is
// told (RFC 3858) when alice subscribes to his presence and when she
// leaves; another user may not see bob's watchers (403).
func TestPAWatcherInfo(t *testing.T) {
	srv := startSer(t, fmt.Sprintf(paCfg, "sqlite://"+filepath.Join(t.TempDir(), "pa.db")))
	bob, alice, mallory := &paUA{ua: newUA(t), srv: srv}, &paUA{ua: newUA(t), srv: srv}, &paUA{ua: newUA(t), srv: srv}
	winfo := []string{"Event: presence.winfo", "Accept: application/watcherinfo+xml", "Expires: 300"}
	r := bob.request("SUBSCRIBE", "", "sip:bob@127.0.0.1", "b1", "sip:bob@127.0.0.1", "", "winfo1", winfo, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("winfo SUBSCRIBE answered:\n%s", r)
	}
	n := bob.notify(200)
	if header(n, "Event") != "presence.winfo" || header(n, "Content-Type") != "application/watcherinfo+xml" ||
		!strings.Contains(n, `<watcher-list resource="sip:bob@127.0.0.1" package="presence">`) || strings.Contains(n, "<watcher id") {
		t.Fatalf("first winfo NOTIFY:\n%s", n)
	}
	r = alice.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "a1", "sip:bob@127.0.0.1", "", "pres1", []string{"Event: presence", "Expires: 300"}, "")
	if !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("presence SUBSCRIBE answered:\n%s", r)
	}
	aliceTag := tagParam(header(r, "To"))
	alice.notify(200)
	if n = bob.notify(200); !strings.Contains(n, `status="active">sip:alice@127.0.0.1</watcher>`) {
		t.Fatalf("winfo NOTIFY after alice subscribed:\n%s", n)
	}
	if r = mallory.request("SUBSCRIBE", "", "sip:mallory@127.0.0.1", "m1", "sip:bob@127.0.0.1", "", "winfo2", winfo, ""); !strings.HasPrefix(r, "SIP/2.0 403") {
		t.Fatalf("mallory's winfo SUBSCRIBE answered:\n%s", r)
	}
	alice.request("SUBSCRIBE", "", "sip:alice@127.0.0.1", "a1", "sip:bob@127.0.0.1", aliceTag, "pres1", []string{"Event: presence", "Expires: 0"}, "")
	alice.notify(200)
	if n = bob.notify(200); strings.Contains(n, "sip:alice@127.0.0.1</watcher>") {
		t.Fatalf("winfo NOTIFY after alice left:\n%s", n)
	}
}
