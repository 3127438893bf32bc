package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"ser/internal/testing/testutil"
)

// serProcess is the ser binary running a config on free ports.
type serProcess struct {
	proc     *testutil.Proc
	sipAddr  string
	httpAddr string
	fifo     string
	dir      string
}

// startSerBinary runs the built ser binary with config text, SIP on a free
// port, the FIFO and the HTTP listener (XML-RPC) enabled.
func startSerBinary(t *testing.T, config string) *serProcess {
	t.Helper()
	return startSerBinaryDB(t, config, "")
}

// startSerBinaryDB is startSerBinary with db_url set to dbURL (an SQLite
// file in the process's directory when "").
func startSerBinaryDB(t *testing.T, config, dbURL string) *serProcess {
	t.Helper()
	dir := t.TempDir()
	sipPort, httpPort := testutil.FreePort(t), testutil.FreePort(t)
	cfgPath := filepath.Join(dir, "ser.cfg")
	p := &serProcess{
		sipAddr: fmt.Sprintf("127.0.0.1:%d", sipPort), httpAddr: fmt.Sprintf("127.0.0.1:%d", httpPort),
		fifo: filepath.Join(dir, "ser_fifo"), dir: dir,
	}
	config = strings.NewReplacer("listen=127.0.0.1", "", "port=5060", "").Replace(config)
	if dbURL == "" {
		dbURL = "sqlite://" + dir + "/ser.db"
	}
	config = fmt.Sprintf("fifo=%q\nfifo_dir=%q\ndb_url=%q\n", p.fifo, dir+"/", dbURL) + config
	config = strings.Replace(config, `fifo="/tmp/ser_fifo"`, "", 1)
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	p.start(t)
	return p
}

// start runs the ser binary on p's configuration and waits until its HTTP
// listener accepts connections.
func (p *serProcess) start(t *testing.T) {
	t.Helper()
	p.proc = testutil.Start(t, p.dir, serBin, "-f", filepath.Join(p.dir, "ser.cfg"), "-D", "-E", "-l", p.sipAddr, "-H", p.httpAddr)
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", p.httpAddr)
		if err == nil {
			c.Close()
			return true
		}
		return false
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ser output:\n%s", tail(p.proc.Output()))
		}
	})
}

func (p *serProcess) udpAddr() *net.UDPAddr {
	a, _ := net.ResolveUDPAddr("udp", p.sipAddr)
	return a
}

func (p *serProcess) url() string { return "http://" + p.httpAddr + "/xmlrpc" }

// registerAt registers user with a Go UA against a ser process.
func registerAt(t *testing.T, p *serProcess, u *ua, user string) {
	t.Helper()
	u.send(p.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKreg-%[3]s;rport
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=r1
To: <sip:%[3]s@%[1]s>
Call-ID: reg-%[3]s
CSeq: 1 REGISTER
Contact: <sip:%[3]s@%[2]s>
Expires: 3600
Content-Length: 0

`, p.sipAddr, u.hostport(), user))
	if r, _ := u.recv(); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("register %s: %s", user, r)
	}
}

// TestGranigPHP runs the PHP script of Granig's mail (seed 000) unchanged
// but for the URL against a running ser: the registered user's contact is
// returned, and an unknown user comes back as fault 404.
func TestGranigPHP(t *testing.T) {
	php := testutil.RequireTool(t, "php")
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	u := newUA(t)
	registerAt(t, p, u, "012345")
	script, err := os.ReadFile("../xmlrpc/testdata/granig.php")
	if err != nil {
		t.Fatal(err)
	}
	run := func(user string) map[string]any {
		src := strings.Replace(string(script), "http://my.server:5080/xmlrpc", p.url(), 1)
		src = strings.Replace(src, `array("location", "012345")`, fmt.Sprintf(`array("location", %q)`, user), 1)
		path := filepath.Join(t.TempDir(), "granig.php")
		os.WriteFile(path, []byte(src), 0o644)
		out, code := testutil.Run(t, 20*time.Second, "", php, path)
		if code != 0 {
			t.Fatalf("php exit %d:\n%s", code, out)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("php output %q: %v", out, err)
		}
		return res
	}
	found := run("012345")
	if found["fault"] != false {
		t.Fatalf("found path is a fault: %v", found)
	}
	resp := found["response"].(map[string]any)
	if resp["code"].(float64) != 200 || !strings.Contains(fmt.Sprint(resp["lines"]), "<sip:012345@"+u.hostport()+">;q=") {
		t.Fatalf("ul_show_contact result: %v", resp)
	}
	missing := run("999999")
	if missing["fault"] != true {
		t.Fatalf("unknown user not a fault: %v", missing)
	}
	fault := missing["response"].(map[string]any)
	if fault["faultCode"].(float64) != 404 || !strings.Contains(fault["faultString"].(string), "999999") {
		t.Fatalf("fault: %v", fault)
	}
}

// TestPythonXMLRPC drives the bridge with Python's xmlrpc.client:
// fifo.execute, a per-command method, system.listMethods and
// system.multicall.
func TestPythonXMLRPC(t *testing.T) {
	py := testutil.RequireTool(t, "python3")
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	script := fmt.Sprintf(`
import xmlrpc.client, json
s = xmlrpc.client.ServerProxy(%q)
out = {}
out["uptime"] = s.fifo.execute({"cmdname": "uptime", "cmdparams": []})
out["version"] = s.version()
out["methods"] = s.system.listMethods()
m = xmlrpc.client.MultiCall(s)
m.ps()
m.ul_stats()
out["multi"] = [r for r in m()]
try:
    s.fifo.execute({"cmdname": "nosuch", "cmdparams": []})
except xmlrpc.client.Fault as f:
    out["fault"] = [f.faultCode, f.faultString]
print(json.dumps(out))
`, p.url())
	path := filepath.Join(t.TempDir(), "c.py")
	os.WriteFile(path, []byte(script), 0o644)
	out, code := testutil.Run(t, 20*time.Second, "", py, path)
	if code != 0 {
		t.Fatalf("python exit %d:\n%s", code, out)
	}
	var res struct {
		Uptime, Version map[string]any
		Methods         []string
		Multi           []map[string]any
		Fault           []any
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(res.Uptime["output"].(string), "Up time:") || !strings.Contains(res.Version["output"].(string), "Sip EXpress router") {
		t.Fatalf("uptime/version: %v %v", res.Uptime, res.Version)
	}
	joined := strings.Join(res.Methods, " ")
	for _, m := range []string{"fifo.execute", "system.multicall", "ul_show_contact", "t_uac_dlg", "ps"} {
		if !strings.Contains(joined, m) {
			t.Errorf("listMethods lacks %s: %v", m, res.Methods)
		}
	}
	if len(res.Multi) != 2 || !strings.Contains(res.Multi[1]["output"].(string), "Domain Registered Expired") {
		t.Fatalf("multicall: %v", res.Multi)
	}
	if len(res.Fault) != 2 || res.Fault[0].(float64) != 500 {
		t.Fatalf("unknown command fault: %v", res.Fault)
	}
}

// TestXMLRPCProvisioning adds a contact with ul_add over XML-RPC and calls
// it with SIPp through the Hello World config.
func TestXMLRPCProvisioning(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("uas_rr.xml"), Port: uasPort, Calls: 3})
	c, err := kolo.NewClient(p.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res map[string]any
	err = c.Call("fifo.execute", map[string]any{"cmdname": "ul_add", "cmdparams": []string{
		"location", "service", fmt.Sprintf("sip:service@127.0.0.1:%d", uasPort), "3600", "1.00", "0", "0"}}, &res)
	if err != nil || res["code"].(int64) != 200 {
		t.Fatalf("ul_add: %v %v", res, err)
	}
	out, code := testutil.RunSIPp(t, &testutil.SIPp{Scenario: sippScenario("uac_rr.xml"), Remote: p.sipAddr, Calls: 3, Rate: 10})
	if code != 0 {
		t.Fatalf("call to the provisioned contact failed (sipp exit %d):\n%s", code, tail(out))
	}
	if c := uas.Wait(15 * time.Second); c != 0 {
		t.Fatalf("uas exit %d:\n%s", c, tail(uas.Output()))
	}
}

// TestXMLRPCLoad answers 2,000 fifo.execute calls from 20 concurrent
// clients, all correctly.
func TestXMLRPCLoad(t *testing.T) {
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	const clients, each = 20, 100
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := kolo.NewClient(p.url(), nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := 0; j < each; j++ {
				var res map[string]any
				msg := fmt.Sprintf("client %d call %d", i, j)
				if err := c.Call("fifo.execute", map[string]any{"cmdname": "print", "cmdparams": []string{msg}}, &res); err != nil {
					errs <- err
					return
				}
				if res["output"] != "200 ok\n"+msg+"\n" {
					errs <- fmt.Errorf("wrong answer %v for %q", res, msg)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestXMLRPCStandalone runs `ser xmlrpc -fifo` in front of a running ser's
// FIFO, as Granig's bridge ran beside SER.
func TestXMLRPCStandalone(t *testing.T) {
	p := startSerBinary(t, readCfg(t, "helloworld.cfg"))
	httpPort := testutil.FreePort(t)
	testutil.Start(t, "", serBin, "xmlrpc", "-fifo", p.fifo, "-fifo-dir", p.dir+"/", "-listen", fmt.Sprintf("127.0.0.1:%d", httpPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/xmlrpc", httpPort)
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	c, _ := kolo.NewClient(url, nil)
	defer c.Close()
	var res map[string]any
	if err := c.Call("fifo.execute", map[string]any{"cmdname": "ps", "cmdparams": []string{}}, &res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res["output"].(string), "fifo server") {
		t.Fatalf("ps through the standalone bridge: %v", res)
	}
	var methods []string
	if err := c.Call("system.listMethods", nil, &methods); err != nil || !strings.Contains(strings.Join(methods, " "), "ul_add") {
		t.Fatalf("listMethods through the FIFO: %v %v", methods, err)
	}
}
