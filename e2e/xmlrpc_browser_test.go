package e2e

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
)

// ulAddCall is an XML-RPC ul_add of contact for AOR victim.
func ulAddCall(contact string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>ul_add</methodName><params>`)
	for _, p := range []string{"location", "victim", contact, "3600", "1.00", "0", "0"} {
		b.WriteString("<param><value><string>" + p + "</string></value></param>")
	}
	b.WriteString("</params></methodCall>")
	return b.String()
}

// attackPage is what a hostile web site serves: it tries every way a page
// can POST to the bridge without a CORS preflight — fetch() with
// text/plain, with no Content-Type (a Blob), with the form type, and a
// form with enctype=text/plain whose "name=value" body is the XML — then
// sets its title to "done".
func attackPage(target string) string {
	js := func(s string) string { return fmt.Sprintf("%q", s) }
	formXML := ulAddCall("sip:evil4@192.0.2.66;x=y")
	name, value, _ := strings.Cut(formXML, "=y") // text/plain form body: name + "=" + value
	value = "y" + value
	return `<!doctype html><html><head><title>attack</title></head><body>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" action="` + html.EscapeString(target) + `" enctype="text/plain" target="sink">
<input type="hidden" name="` + html.EscapeString(name) + `" value="` + html.EscapeString(value) + `">
</form>
<script>
const target = ` + js(target) + `;
const tries = [
  fetch(target, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: ` + js(ulAddCall("sip:evil1@192.0.2.66")) + `}),
  fetch(target, {method: "POST", mode: "no-cors", body: new Blob([` + js(ulAddCall("sip:evil2@192.0.2.66")) + `])}),
  fetch(target, {method: "POST", mode: "no-cors", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: ` + js(ulAddCall("sip:evil3@192.0.2.66")) + `}),
];
const posted = new Promise(resolve => { document.getElementById("sink").onload = resolve; });
document.getElementById("f").submit();
Promise.allSettled(tries.concat([posted])).then(() => { document.title = "done"; });
</script></body></html>`
}

// TestXMLRPCCrossSiteBrowser: a page from another origin (another
// loopback port) open in a real headless Chromium tries to add a contact
// through /xmlrpc with fetch() and a text/plain form, and a page on a
// rebound name (DNS rebinding: rebind.test resolving to 127.0.0.1, so the
// page and /xmlrpc are same-origin) tries with a same-origin text/xml
// fetch. None of it adds the contact (ul_show_contact says 404), while a
// script client still can.
func TestXMLRPCCrossSiteBrowser(t *testing.T) {
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	_, httpPort, _ := net.SplitHostPort(p.httpAddr)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	attacker := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, attackPage(p.url()))
	})}
	go attacker.Serve(ln)
	t.Cleanup(func() { attacker.Close() })

	b := startBrowser(t, t.TempDir(), "--host-resolver-rules=MAP rebind.test 127.0.0.1")
	waitTitle := func(want string) {
		t.Helper()
		var title string
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			b.call(http.MethodGet, b.path("/title"), nil, &title)
			if title == want {
				return
			}
		}
		t.Fatalf("page title %q, want %q", title, want)
	}

	// Cross-site: the attacker's page on another port.
	b.open("http://" + ln.Addr().String() + "/")
	waitTitle("done")

	// DNS rebinding: a page on rebind.test:<ser's port> is same-origin
	// with /xmlrpc there; its fetch carries Host: rebind.test:<port>. (The
	// attacker's page came from the attacker's server before the name was
	// rebound; here any document of that origin without the console's
	// Content-Security-Policy stands in for it: the bridge's own refusal.)
	b.open("http://rebind.test:" + httpPort + "/xmlrpc")
	var status any
	b.call(http.MethodPost, b.path("/execute/async"), map[string]any{
		"script": `const done = arguments[arguments.length - 1];
fetch("/xmlrpc", {method: "POST", headers: {"Content-Type": "text/xml"}, body: arguments[0]})
  .then(r => done(r.status), e => done(String(e)));`,
		"args": []any{ulAddCall("sip:evil5@192.0.2.66")},
	}, &status)
	if fmt.Sprint(status) != "403" {
		t.Errorf("rebound same-origin fetch: status %v, want 403 (page %s: %.300s)", status, b.currentURL(), b.text())
	}

	c, err := kolo.NewClient(p.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res map[string]any
	err = c.Call("ul_show_contact", []any{"location", "victim"}, &res)
	if err == nil || !strings.Contains(err.Error(), "Fault(404)") {
		t.Fatalf("a page added contacts for victim: %v %v", res, err)
	}
	// The same call from a script works.
	if err := c.Call("ul_add", []any{"location", "scripted", "sip:ok@192.0.2.1", "3600", "1.00", "0", "0"}, &res); err != nil {
		t.Fatalf("script ul_add: %v", err)
	}
	if err := c.Call("ul_show_contact", []any{"location", "scripted"}, &res); err != nil || !strings.Contains(fmt.Sprint(res["output"]), "sip:ok@192.0.2.1") {
		t.Fatalf("script's contact: %v %v", res, err)
	}
	if out := p.proc.Output(); strings.Count(out, "request refused") < 5 {
		t.Errorf("want 5 refusals logged:\n%s", tail(out))
	}
}
