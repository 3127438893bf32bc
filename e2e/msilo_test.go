package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/core/store"
	"ser/internal/testing/mariadb"
	"ser/internal/testing/testutil"
)

// msiloCfg is the classic offline-message configuration: a MESSAGE for a
// user who is not registered is stored (202) and the sender told so; a
// REGISTER dumps the user's stored messages. %s is the silo database.
const msiloCfg = `
debug=3
fork=no
log_stderror=yes

loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "msilo.so"
loadmodule "print.so"

modparam("usrloc", "db_mode", 0)
modparam("msilo", "db_url", "%s")
modparam("msilo", "registrar", "sip:registrar@127.0.0.1")
modparam("msilo", "check_time", 1)
modparam("msilo", "clean_period", 1)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (uri==myself) {
		if (method=="REGISTER") {
			save("location");
			if (m_dump()) {
				print("MSILO: offline messages dumped");
			};
			break;
		};
		if (!lookup("location")) {
			if (method=="MESSAGE") {
				if (!t_newtran()) {
					sl_reply_error();
					break;
				};
				if (m_store("0")) {
					print("MSILO: offline message stored");
					t_reply("202", "Accepted for later delivery");
				} else {
					t_reply("503", "Service Unavailable");
				};
				break;
			};
			sl_send_reply("404", "Not Found");
			break;
		};
		t_on_failure("1");
	};
	t_relay();
}

failure_route[1] {
	if (method=="MESSAGE") {
		if (m_store("1")) {
			t_reply("202", "Accepted for later delivery");
		};
	};
}
`

// siloRows returns every row of user in the silo table of the SQLite
// file or database url, expired ones included.
func siloRows(t *testing.T, url, user string) int {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := st.SiloMessages(context.Background(), "", user, "127.0.0.1", time.Unix(0, 0), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// msiloSend has SIPp (as alice) send text to user, expecting 202; the
// notice goes to noticeAddr.
func msiloSend(t *testing.T, serAddr, user, noticeAddr, text string, expires int) {
	t.Helper()
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("msilo_message_uac.xml"), Remote: serAddr, Calls: 1, Timeout: 15 * time.Second,
		Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("%s;%s;%s;%d", user, noticeAddr, text, expires)})},
	})
	if code != 0 {
		t.Fatalf("MESSAGE to offline %s not accepted (sipp exit %d):\n%s", user, code, out)
	}
}

// msiloRegister registers user with SIPp, its contact at contactAddr.
func msiloRegister(t *testing.T, serAddr, user, contactAddr string) {
	t.Helper()
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: serAddr, Calls: 1, Timeout: 15 * time.Second,
		Extra: []string{"-inf", usersCSV(t, []string{user + ";" + contactAddr})},
	})
	if code != 0 {
		t.Fatalf("REGISTER %s (sipp exit %d):\n%s", user, code, out)
	}
}

// msiloDeliver starts SIPp as user's phone on a free port, expecting one
// stored message; it returns the port and a function that waits for it.
func msiloDeliver(t *testing.T) (int, func()) {
	t.Helper()
	port := testutil.FreePort(t)
	p := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("msilo_deliver_uas.xml"), Port: port, Calls: 1, Timeout: 20 * time.Second})
	return port, func() {
		t.Helper()
		if code := p.Wait(25 * time.Second); code != 0 {
			t.Fatalf("stored message not delivered as expected (sipp exit %d):\n%s", code, p.Output())
		}
	}
}

// TestMsilo runs the ser binary with the classic msilo configuration and
// real clients (SIPp): a MESSAGE to an offline user is stored (202 and
// the registrar's notice to the sender), delivered exactly once when the
// user registers and deleted after the phone's 200; a second REGISTER
// delivers nothing; a message whose Expires passed is removed by the
// timer and never delivered; a stored message survives a restart of ser
// (SQLite file) and is delivered after it. print() writes to stdout.
func TestMsilo(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "silo.db")
	cfg := fmt.Sprintf(msiloCfg, dbURL)
	port := testutil.FreePort(t)
	sp := startSerBin(t, cfg, port)
	addr := sp.srv.addr()

	// alice's phone takes the three notices.
	noticePort := testutil.FreePort(t)
	notices := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("msilo_notice_uas.xml"), Port: noticePort, Calls: 3, Timeout: 60 * time.Second})
	noticeAddr := fmt.Sprintf("127.0.0.1:%d", noticePort)

	// bob is offline: stored, then delivered once on REGISTER.
	msiloSend(t, addr, "bob", noticeAddr, "hello bob", 3600)
	if n := siloRows(t, dbURL, "bob"); n != 1 {
		t.Fatalf("%d rows for bob after m_store", n)
	}
	bobPort, delivered := msiloDeliver(t)
	msiloRegister(t, addr, "bob", fmt.Sprintf("127.0.0.1:%d", bobPort))
	delivered()
	waitFor(t, func() bool { return siloRows(t, dbURL, "bob") == 0 })

	// A second REGISTER delivers nothing.
	bob := newUAOn(t, bobPort)
	msiloRegister(t, addr, "bob", fmt.Sprintf("127.0.0.1:%d", bobPort))
	bob.silent(2 * time.Second)

	// carol's message expires after 1 s: the timer removes it, her
	// registration gets nothing.
	msiloSend(t, addr, "carol", noticeAddr, "too late", 1)
	waitFor(t, func() bool { return siloRows(t, dbURL, "carol") == 0 })
	carol := newUA(t)
	msiloRegister(t, addr, "carol", carol.hostport())
	carol.silent(2 * time.Second)

	// dave's message survives a restart of ser.
	msiloSend(t, addr, "dave", noticeAddr, "after the restart", 3600)
	if code := notices.Wait(20 * time.Second); code != 0 {
		t.Fatalf("notices to the sender (sipp exit %d):\n%s", code, notices.Output())
	}
	sp.p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := sp.p.Wait(15 * time.Second); code != 0 {
		t.Fatalf("ser exit %d after SIGTERM:\n%s", code, sp.p.Output())
	}
	out := sp.p.Output()
	if strings.Count(out, "MSILO: offline message stored\n") != 3 || !strings.Contains(out, "MSILO: offline messages dumped\n") {
		t.Errorf("print() output missing from ser's stdout:\n%s", out)
	}
	sp = startSerBin(t, cfg, port)
	davePort, delivered := msiloDeliver(t)
	msiloRegister(t, addr, "dave", fmt.Sprintf("127.0.0.1:%d", davePort))
	delivered()
	waitFor(t, func() bool { return siloRows(t, dbURL, "dave") == 0 })
	sp.p.Kill()
}

// newUAOn is newUA on a given port (a phone's registered contact, just
// left by SIPp).
func newUAOn(t *testing.T, port int) *ua {
	t.Helper()
	var (
		c   *net.UDPConn
		err error
	)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err == nil || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &ua{t: t, conn: c, port: port}
}

// TestMsiloDistributionConfig runs SER 0.9.6's examples/msilo.cfg
// unchanged except, at run time, its db_url (pointed at a throwaway
// MariaDB server on loopback) and the listen address: an offline user's
// message is stored with 202 and delivered when the user registers; a
// message refused by a registered phone is stored by the failure route.
func TestMsiloDistributionConfig(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := mariadb.Start(t)
	url := srv.URL(srv.NewDatabase(t))
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "ser-0.9.6", "examples", "msilo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	const orig = `modparam("msilo","db_url","mysql://user:xxx@127.0.0.1/msilo")`
	if !strings.Contains(string(raw), orig) {
		t.Fatal("msilo.cfg has no db_url line to point at the test database")
	}
	cfg := strings.Replace(string(raw), orig, `modparam("msilo","db_url","`+url+`")`, 1)
	port := testutil.FreePort(t)
	sp := startSerBin(t, cfg, port)
	addr := sp.srv.addr()

	// registrar is sip:registrar@mydomain.com in that config: the notice
	// goes to alice's Contact from there.
	notice := newUA(t)
	msiloSend(t, addr, "bob", notice.hostport(), "hello from msilo cfg", 3600)
	m, _ := notice.recvFor("MESSAGE")
	if !strings.Contains(m, "From: <sip:registrar@mydomain.com>") || !strings.Contains(m, "is offline. The message will be delivered when user goes online.") {
		t.Errorf("notice:\n%s", m)
	}
	if n := siloRows(t, url, "bob"); n != 1 {
		t.Fatalf("%d rows for bob after m_store", n)
	}
	bobPort, delivered := msiloDeliver(t)
	msiloRegister(t, addr, "bob", fmt.Sprintf("127.0.0.1:%d", bobPort))
	delivered()
	waitFor(t, func() bool { return siloRows(t, url, "bob") == 0 })

	// erin is registered, but her phone refuses MESSAGE (415): the
	// config's failure route stores it with m_store("1").
	erinPort := testutil.FreePort(t)
	erin := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("msilo_reject_uas.xml"), Port: erinPort, Calls: 1, Timeout: 20 * time.Second})
	msiloRegister(t, addr, "erin", fmt.Sprintf("127.0.0.1:%d", erinPort))
	msiloSend(t, addr, "erin", notice.hostport(), "for a phone without im", 3600)
	if code := erin.Wait(25 * time.Second); code != 0 {
		t.Fatalf("erin's phone (sipp exit %d):\n%s", code, erin.Output())
	}
	if n := siloRows(t, url, "erin"); n != 1 {
		t.Errorf("%d rows for erin after the failure route", n)
	}
	sp.p.Kill()
}
