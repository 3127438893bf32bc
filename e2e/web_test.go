package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/core/rpc"
	"ser/internal/frontend"
	"ser/internal/testing/testutil"
	"ser/web"
)

// webProxy is a registrar and stateful proxy with the aliases table and
// tm for the console's t_uac_dlg.
const webProxy = `
debug=3
fork=no
log_stderror=yes
alias="example.com"
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/acc/acc.so"
loadmodule "modules/avpops/avpops.so"
loadmodule "modules/msilo/msilo.so"
modparam("usrloc", "db_mode", 0)
modparam("acc", "db_missed_flag", 2)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (method=="REGISTER") {
		save("location");
		break;
	};
	lookup("aliases");
	if (method=="INVITE") {
		setflag(2);
		# unconditional call forwarding, set on the console's page
		if (avp_db_load("$ruri/username", "s:callfwd")) {
			avp_pushto("$ruri", "s:callfwd");
			t_relay();
			break;
		};
	};
	if (!lookup("location")) {
		if (method=="MESSAGE") {
			t_newtran();
			if (m_store("0")) {
				t_reply("202", "Accepted for later delivery");
			} else {
				t_reply("503", "Service Unavailable");
			};
			break;
		};
		sl_send_reply("404", "Not Found");
		break;
	};
	t_relay();
}
`

// screenshotDir is where the browser test saves its screenshots:
// $SER_SCREENSHOT_DIR, or ser-web-screenshots in the system's temporary
// directory (kept after the run, replaced by the next one).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SER_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ser-web-screenshots")
		os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var oneTimePasswordRE = regexp.MustCompile(`user=admin@example\.com password=(\S+)`)

// TestWebConsole drives the web console in headless Chromium against a
// running ser: first-start admin login (one-time password, forced
// change), a new user, an ACL group, an alias; then as that user a
// phonebook entry for a SIPp-registered contact, its online status, and a
// MESSAGE that a SIPp uas receives; the admin's online and status pages;
// log out. Screenshots of the main pages go to screenshotDir.
func TestWebConsole(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, webProxy)
	ctx := context.Background()

	weblog := &logBuffer{}
	// The console shares ser's database: forwarding written by the
	// console is what avpops loads, missed calls and stored messages are
	// what acc and msilo wrote.
	st, err := srv.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, sk := range srv.inst.Server.Sockets() {
		hosts = append(hosts, sk.IP.String())
	}
	app, err := web.New(web.Options{
		Store: st, Exec: rpc.NewLocal(srv.inst.Server.RPC()), Domain: "example.com", LocalHosts: hosts,
		OutboundProxy: "sip:" + srv.addr(), SampleInterval: time.Second,
		Logger: slog.New(slog.NewTextHandler(weblog, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := oneTimePasswordRE.FindStringSubmatch(weblog.String())
	if m == nil {
		t.Fatalf("no one-time admin password in the log:\n%s", weblog.String())
	}
	oneTime := m[1]
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Stop)
	// Served as ser serves it: on the frontend's listener, behind its
	// Host check (internal/hostcheck).
	fe, err := frontend.Start(frontend.Local(srv.inst.Server.RPC()), frontend.Options{
		Listen: "127.0.0.1:0", Log: slog.New(slog.NewTextHandler(weblog, nil)),
		Mount: func(r chi.Router) { app.Mount(r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fe.Close)
	base := "http://" + fe.Addr()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("web log:\n%s", weblog.String())
		}
	})

	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	b := startBrowser(t, shots)
	u := func(p string) string { return base + p }

	// First start: the admin logs in with the one-time password and must
	// change it.
	b.open(u("/"))
	b.waitText("Log in", "SIP user name")
	b.layout("login")
	b.fill(`input[name=username]`, "admin")
	b.fill(`input[name=password]`, oneTime)
	b.click(`form[action="/login"] button[type=submit]`)
	b.waitText("This is a one-time password")
	b.fill(`#password-form input[name=password]`, oneTime)
	b.fill(`#password-form input[name=new_password]`, "Adm1n-secret")
	b.fill(`#password-form input[name=confirm_password]`, "Adm1n-secret")
	b.click(`#password-form button[type=submit]`)
	b.waitText("Your password was changed.")

	// Create a user; mistyped passwords first: the form comes back with
	// the error and the values typed (passwords excepted).
	b.open(u("/admin/users/new"))
	b.fill(`#user-form input[name=username]`, "carol")
	b.fill(`#user-form input[name=password]`, "Car0l-secret")
	b.fill(`#user-form input[name=confirm_password]`, "Car0l-secreT")
	b.fill(`#user-form input[name=first_name]`, "Carol")
	b.fill(`#user-form input[name=last_name]`, "Example")
	b.fill(`#user-form input[name=email]`, "carol@example.com")
	b.click(`#user-form button[type=submit]`)
	b.waitText("the two passwords differ")
	// A pair stays aligned when one of its fields shows an error, and the
	// summary at the top names the field.
	var tops []float64
	b.eval(`return [document.querySelector("#user-form input[name=password]").getBoundingClientRect().top,
		document.querySelector("#user-form input[name=confirm_password]").getBoundingClientRect().top]`, &tops)
	if len(tops) != 2 || tops[0] != tops[1] {
		t.Errorf("password pair misaligned: %v", tops)
	}
	b.waitText("Please correct:", "Password: the two passwords differ")
	b.layout("admin-user-form-error")
	b.fill(`#user-form input[name=password]`, "Car0l-secret")
	b.fill(`#user-form input[name=confirm_password]`, "Car0l-secret")
	b.click(`#user-form button[type=submit]`)
	b.waitText("User carol@example.com created.")
	b.layout("admin-user")
	b.open(u("/admin/users"))
	b.waitText("carol@example.com", "admin@example.com")
	// Filter buttons are as tall as their inputs and level with them.
	var boxes [][]float64
	b.eval(`return ["#user-search input[name=q]", "#user-search button"].map(function (s) {
		var r = document.querySelector(s).getBoundingClientRect(); return [r.top, r.height]; })`, &boxes)
	if len(boxes) != 2 || boxes[0][0] != boxes[1][0] || boxes[0][1] != boxes[1][1] {
		t.Errorf("search input and button (top, height): %v", boxes)
	}
	b.layout("admin-users")

	// Grant an ACL group.
	b.open(u("/admin/acl?group=ld"))
	b.fill(`#grant-form input[name=user]`, "carol")
	b.click(`#grant-form button[type=submit]`)
	b.waitText("carol@example.com added to ld.")
	b.layout("admin-acl")

	// Add an alias.
	b.open(u("/admin/aliases"))
	b.fill(`#alias-form input[name=alias]`, "5551234")
	b.fill(`#alias-form input[name=target]`, "sip:carol@example.com")
	b.click(`#alias-form button[type=submit]`)
	b.waitText("5551234", "sip:carol@example.com")
	b.layout("admin-aliases")
	b.click(`#logout`)
	b.waitText("You are logged out.")

	// SIPp registers "service" with the contact of a SIPp uas that waits
	// for a MESSAGE.
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("message_uas.xml"), Port: uasPort, Calls: 1,
		Timeout: 60 * time.Second, Dir: t.TempDir()})
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: srv.addr(), Calls: 1,
		Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("service;127.0.0.1:%d", uasPort)})},
	})
	if code != 0 {
		t.Fatalf("register: sipp exit %d:\n%s", code, tail(out))
	}

	// A MESSAGE to carol, who has no phone registered: msilo keeps it.
	sender := newUA(t)
	body := "hello carol, you were away"
	sender.send(srv.udpAddr(), fmt.Sprintf("MESSAGE sip:carol@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-msilo1;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:dave@example.com>;tag=m1\r\nTo: <sip:carol@example.com>\r\nCall-ID: msilo-1\r\n"+
		"CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", sender.hostport(), len(body), body))
	sender.recvFor("202")

	// Carol: her account, a phonebook entry showing "service" online, a
	// message to it.
	b.fill(`input[name=username]`, "carol")
	b.fill(`input[name=password]`, "Car0l-secret")
	b.click(`form[action="/login"] button[type=submit]`)
	b.waitText("My account", "carol@example.com", "ld", "5551234")
	b.layout("account")
	b.open(u("/phonebook"))
	b.click(`#pb-add`)
	b.fill(`#pb-form input[name=fname]`, "Service")
	b.fill(`#pb-form input[name=lname]`, "Desk")
	b.fill(`#pb-form input[name=sip_uri]`, "sip:service@example.com")
	b.click(`#pb-form button[type=submit]`)
	b.waitText("Phonebook entry saved.", "Service Desk", "online")
	b.layout("phonebook")
	b.click(`#phonebook a.button[href^="/im"]`)
	b.waitText("Send a message")
	b.fill(`#im-form textarea[name=body]`, "hello from the web console\n.\nbye")
	b.click(`#im-form button[type=submit]`)
	b.waitText("Message delivered to sip:service@example.com (200 OK).")
	b.layout("message-sent")
	if c := uas.Wait(20 * time.Second); c != 0 {
		t.Fatalf("SIPp uas exit %d:\n%s", c, tail(uas.Output()))
	}
	// Her stored message.
	b.open(u("/messages"))
	b.waitText("hello carol, you were away", "sip:dave@example.com")
	b.layout("messages")
	// Call forwarding, then a call to her alias at the server's address:
	// ser looks the alias up, avpops loads the forwarding the console
	// wrote and the call reaches the target, which does not answer.
	target, caller := newUA(t), newUA(t)
	b.open(u("/forwarding"))
	b.fill(`#fwd-form input[name=callfwd]`, "sip:fwd@"+target.hostport())
	b.fill(`#fwd-form input[name=fwdbusy]`, "voicemail")
	b.click(`#fwd-form button[type=submit]`)
	b.waitText("Call forwarding saved.")
	b.layout("forwarding")
	caller.send(srv.udpAddr(), accInvite(caller, srv, "5551234", srv.addr(), "fwd-call-1"))
	got, from := target.recvFor("INVITE")
	if !strings.HasPrefix(got, "INVITE sip:fwd@"+target.hostport()+" SIP/2.0") {
		t.Fatalf("the forwarded INVITE:\n%s", got)
	}
	target.send(from, replyTo(got, "480 Temporarily Unavailable", "tag=fwd"))
	caller.recvFor("480")
	// The missed call was to the alias at an IP address: it is carol's.
	b.open(u("/calls"))
	b.waitText("Missed calls", "fwd-call-1", "carol@example.com", "via 5551234")
	b.layout("calls")
	b.open(u("/speeddial"))
	b.fill(`#sd-form input[name=short]`, "11")
	b.fill(`#sd-form input[name=calls]`, "service")
	b.click(`#sd-form button[type=submit]`)
	b.waitText("Speed dial 11 saved.", "sip:service@example.com")
	b.layout("speeddial")
	b.open(u("/password"))
	b.waitText("Change password")
	b.layout("password")
	b.click(`#logout`)
	b.waitText("You are logged out.")

	// The admin sees the registered contact and the load.
	b.fill(`input[name=username]`, "admin")
	b.fill(`input[name=password]`, "Adm1n-secret")
	b.click(`form[action="/login"] button[type=submit]`)
	b.waitText("Server status")
	b.open(u("/admin/online"))
	b.waitText("service", fmt.Sprintf("sip:service@127.0.0.1:%d", uasPort))
	b.layout("admin-online")
	time.Sleep(1500 * time.Millisecond) // one more statistics sample after the message
	b.open(u("/admin/?range=1h"))
	b.waitText("Load over time", "sampled every second", "Transaction statistics", "Stateless replies", "User location", "Sip EXpress router")
	// Values on hover (the script's progressive enhancement): the chart
	// of new transactions shows the value nearest the pointer.
	b.hover(`.charts figure:nth-child(2) svg.chart`, 250)
	var hovered string
	b.eval(`return document.querySelectorAll(".charts svg.chart")[1].getAttribute("data-hover") || ""`, &hovered)
	if !regexp.MustCompile(`^\d\d:\d\d(:\d\d)? \d+(\.\d+)?/min$`).MatchString(hovered) {
		t.Errorf("hover label %q", hovered)
	}
	b.layout("admin-status")
	b.open(u("/admin/lcr"))
	b.waitText("No gateway.")
	b.layout("admin-lcr")
	b.open(u("/admin/acc"))
	b.waitText("Accounting")
	b.layout("admin-acc")
	b.open(u("/admin/privileges"))
	b.waitText("admin@example.com")
	b.layout("admin-privileges")
	b.open(u("/admin/users"))
	b.waitText("carol@example.com", "ld", "offline")
	b.layout("admin-users-state")
	b.open(u("/admin/users/edit?u=carol&d=example.com"))
	b.waitText("Aliases pointing to this user", "5551234", "Forward always", "sip:fwd@"+target.hostport())
	b.layout("admin-user-edit")
	b.open(u("/admin/users/forwarding?u=carol&d=example.com"))
	b.waitText("Call forwarding", "of carol@example.com")
	b.layout("admin-user-forwarding")
	b.open(u("/admin/users/preferences?u=carol&d=example.com"))
	b.waitText("Preferences", "callfwd", "fwdbusy", "sip:voicemail@example.com")
	b.layout("admin-user-preferences")
	b.open(u("/admin/messages"))
	b.waitText("Message store", "hello carol, you were away")
	b.layout("admin-messages")
	b.open(u("/admin/acc?table=missed"))
	b.waitText("carol@example.com", "via 5551234")
	b.layout("admin-acc-missed")
	b.open(u("/admin/domains"))
	b.fill(`#domain-form input[name=domain]`, "example.net")
	b.click(`#domain-form button[type=submit]`)
	b.waitText("Domain example.net added.", "the domain module is not loaded")
	b.layout("admin-domains")
	b.open(u("/admin/dispatcher"))
	b.fill(`#ds-form input[name=setid]`, "1")
	b.fill(`#ds-form input[name=destination]`, "sip:127.0.0.1:5090")
	b.click(`#ds-form button[type=submit]`)
	b.waitText("Destination sip:127.0.0.1:5090 added to set 1.", "Set 1")
	b.layout("admin-dispatcher")
	// The navigation folds behind "Menu" on a phone and opens with it.
	b.setViewport(390)
	var navShown []bool
	b.eval(`var n = document.getElementById("nav"); var before = n.offsetParent !== null;
		document.getElementById("menu-toggle").click(); return [before, n.offsetParent !== null];`, &navShown)
	if len(navShown) != 2 || navShown[0] || !navShown[1] {
		t.Errorf("navigation at 390 px (hidden, then shown after Menu): %v", navShown)
	}
	b.fullShot("390-menu-open")
	// Without scripts every page is still reachable: the navigation is
	// open and the Menu button hidden.
	if err := b.cdp("Emulation.setScriptExecutionDisabled", map[string]any{"value": true}, nil); err != nil {
		t.Fatal(err)
	}
	b.open(u("/admin/dispatcher"))
	var noJS []bool
	b.eval(`return [document.getElementById("nav").offsetParent !== null, document.getElementById("menu-toggle").offsetParent !== null]`, &noJS)
	if len(noJS) != 2 || !noJS[0] || noJS[1] {
		t.Errorf("without scripts at 390 px (navigation shown, Menu hidden): %v", noJS)
	}
	b.layout("admin-dispatcher-nojs")
	if err := b.cdp("Emulation.setScriptExecutionDisabled", map[string]any{"value": false}, nil); err != nil {
		t.Fatal(err)
	}
	b.setViewport(1280)
	b.click(`#logout`)
	b.waitText("You are logged out.")
	if !strings.HasSuffix(b.currentURL(), "/login?bye=1") {
		t.Errorf("after logout at %s", b.currentURL())
	}
	if strings.Contains(weblog.String(), "Car0l-secret") || strings.Contains(weblog.String(), "Adm1n-secret") {
		t.Error("a password is in the log")
	}
}

// TestWebConsoleHostCheck (issue 14): on ser's HTTP listener the console
// refuses a request whose Host header is not a name of this server (DNS
// rebinding) with 403 before its handler runs — the login page and a
// login POST alike, as /xmlrpc does — while the listener's address and
// localhost with its port are served.
func TestWebConsoleHostCheck(t *testing.T) {
	p := startSerBinary(t, `
fork=no
log_stderror=yes
sip_domain="example.com"
loadmodule "modules/sl/sl.so"
route { sl_send_reply("404", "Not Found"); }
`)
	_, port, _ := net.SplitHostPort(p.httpAddr)
	// The start-up log names the console's address.
	waitFor(t, func() bool {
		return strings.Contains(p.proc.Output(), `msg="web console at" module=frontend url=http://`+p.httpAddr+"/")
	})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, host, ctype, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+p.httpAddr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The login page through the listener's own names; its CSRF cookie
	// and token for the POSTs below.
	for _, host := range []string{"", "localhost:" + port, "[::1]:" + port} {
		if code, body := do("GET", "/login", host, "", ""); code != 200 || !strings.Contains(body, "SIP user name") {
			t.Fatalf("GET /login, Host %q: %d %s", host, code, body)
		}
	}
	code, body := do("GET", "/login", "", "", "")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("no login form: %d %s", code, body)
	}
	form := url.Values{"username": {"admin"}, "password": {"wrong"}, "csrf": {m[1]}}.Encode()
	const formType = "application/x-www-form-urlencoded"
	rebound := "rebind.test:" + port
	for _, rq := range []struct{ method, path, ctype, body string }{
		{"GET", "/login", "", ""},
		{"POST", "/login", formType, form},
		{"GET", "/", "", ""},
		{"GET", "/admin/users", "", ""},
		{"POST", "/xmlrpc", "text/xml", `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>`},
	} {
		code, body := do(rq.method, rq.path, rebound, rq.ctype, rq.body)
		if code != http.StatusForbidden || !strings.Contains(body, "is not a name of this server") {
			t.Errorf("%s %s, Host %q: %d %s", rq.method, rq.path, rebound, code, body)
		}
	}
	if out := p.proc.Output(); strings.Contains(out, "login failed") {
		t.Fatalf("a login was checked through the rebound name:\n%s", tail(out))
	}
	// The same POST through the real name reaches the login check.
	if code, body := do("POST", "/login", "", formType, form); code != 200 || !strings.Contains(body, "Wrong user name or password") {
		t.Fatalf("POST /login: %d %s", code, body)
	}
	waitFor(t, func() bool { return strings.Contains(p.proc.Output(), "login failed") })
}
