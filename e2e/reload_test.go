package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/fifo"
	"ser/internal/testing/testutil"
)

// reloadCfg is the configuration of the reload tests: the letter %[1]s
// (A or B) shows which version runs — a probe request (R-URI user
// "probe") is answered "200 config A" or "200 config B", and relayed calls
// carry "X-Config: A" or "B". REGISTERs are saved, requests for "reg" go
// to its registered contact, everything else is relayed statefully to
// the SIPp callee on port %[3]d. tm's fr_timer (%[5]d) differs between
// versions: a reload may change it.
const reloadCfg = `fork=yes
children=4
debug=3
fifo=%[2]q
fifo_dir=%[4]q
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)
modparam("tm", "fr_timer", %[5]d)
route {
	if (uri=~"^sip:probe@") {
		sl_send_reply("200", "config %[1]s");
		break;
	};
	if (method=="REGISTER") {
		save("location");
		break;
	};
	if (uri=~"^sip:reg@") {
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
		t_relay();
		break;
	};
	append_hf("X-Config: %[1]s\r\n");
	if (!t_relay_to_udp("127.0.0.1", "%[3]d")) {
		sl_reply_error();
	};
}
`

// frTimer is tm's fr_timer of each version: a parameter a reload may
// change (module.Param.Reload), so every reload applies one.
var frTimer = map[string]int{"A": 5, "B": 6, "C": 7, "X": 8}

// reloadCalls and reloadRate make the load of TestReloadUnderLoad: SIPp
// calls at a steady rate for reloadCalls/reloadRate = 20 seconds, during
// which the configuration is reloaded every second. 20 s keep the suite's
// time in bounds and still make 20 reloads under 50 calls/s;
// SER_RELOAD_SECONDS=60 runs the full minute (3,000 calls, ~60 reloads).
const reloadRate = 50

func reloadCalls() int {
	if n, err := strconv.Atoi(os.Getenv("SER_RELOAD_SECONDS")); err == nil && n > 0 && n <= 600 {
		return n * reloadRate
	}
	return 1000
}

// reloadServer is the ser binary running reloadCfg.
type reloadServer struct {
	t    *testing.T
	proc *testutil.Proc
	cfg  string // the configuration file
	fifo string
	dir  string
	addr string // 127.0.0.1:port, UDP and TCP
	uas  int    // the callee's port
}

// startReloadServer writes version A of reloadCfg and starts the ser
// binary on it in the foreground (fork=yes with -D: 4 workers).
func startReloadServer(t *testing.T, uasPort int) *reloadServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "serrl") // short: the FIFO's reply paths
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &reloadServer{t: t, dir: dir, cfg: filepath.Join(dir, "ser.cfg"), fifo: filepath.Join(dir, "ser_fifo"), uas: uasPort}
	s.write("A")
	port := testutil.FreePort(t)
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	pid := filepath.Join(dir, "ser.pid")
	s.proc = testutil.Start(t, dir, serBin, "-f", s.cfg, "-D", "-E", "-H", "off", "-l", s.addr, "-P", pid)
	waitFor(t, func() bool { _, err := os.Stat(pid); return err == nil })
	t.Cleanup(func() {
		s.proc.Cmd.Process.Signal(syscall.SIGTERM)
		if code := s.proc.Wait(15 * time.Second); code != 0 || t.Failed() {
			t.Logf("ser exit %d, output:\n%s", code, tail(s.proc.Output()))
		}
	})
	return s
}

// write writes version v of the configuration.
func (s *reloadServer) write(v string) {
	s.writeText(fmt.Sprintf(reloadCfg, v, s.fifo, s.uas, s.dir+"/", frTimer[v]))
}

func (s *reloadServer) writeText(text string) {
	s.t.Helper()
	if err := os.WriteFile(s.cfg, []byte(text), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// fifoReload runs cfg_reload over the FIFO and returns the reply text.
func (s *reloadServer) fifoReload() (int, string) {
	s.t.Helper()
	c := &fifo.Client{Path: s.fifo, ReplyDir: s.dir + "/", Timeout: 10 * time.Second}
	r, err := c.Execute(context.Background(), "cfg_reload", nil)
	if err != nil {
		s.t.Fatalf("cfg_reload: %v", err)
	}
	return r.Code, r.Text
}

// probe sends a probe OPTIONS over UDP and returns the reply's status
// line.
func (s *reloadServer) probe() string {
	s.t.Helper()
	u := newUA(s.t)
	to, _ := net.ResolveUDPAddr("udp", s.addr)
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	u.send(to, fmt.Sprintf(`OPTIONS sip:probe@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKp%s
Max-Forwards: 70
From: <sip:t@example.com>;tag=1
To: <sip:probe@%s>
Call-ID: probe-%s
CSeq: 1 OPTIONS
Content-Length: 0

`, s.addr, u.hostport(), id, s.addr, id))
	r, _ := u.recv()
	return firstLine(r)
}

// waitProbe polls the probe until the server answers "config v" (a
// SIGHUP reload is asynchronous).
func (s *reloadServer) waitProbe(v string) {
	s.t.Helper()
	want := "SIP/2.0 200 config " + v
	var got string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = s.probe(); got == want {
			return
		}
	}
	s.t.Fatalf("probe answers %q, want %q", got, want)
}

// tcpProbe sends a probe OPTIONS on an open TCP connection and returns
// the reply's status line.
func tcpProbe(t *testing.T, c net.Conn, r *bufio.Reader, n int) string {
	t.Helper()
	local := c.LocalAddr().String()
	msg := crlf(fmt.Sprintf(`OPTIONS sip:probe@%s SIP/2.0
Via: SIP/2.0/TCP %s;branch=z9hG4bKtcp%d
Max-Forwards: 70
From: <sip:t@example.com>;tag=1
To: <sip:probe@%s>
Call-ID: tcp-probe-%d@%s
CSeq: %d OPTIONS
Content-Length: 0

`, c.RemoteAddr(), local, n, c.RemoteAddr(), n, local, n))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("tcp write: %v (connection lost?)", err)
	}
	tp := textproto.NewReader(r)
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("tcp read: %v (connection lost?)", err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("tcp read: %v", err)
	}
	if cl := hdr.Get("Content-Length"); cl != "" && cl != "0" {
		t.Fatalf("unexpected body length %s", cl)
	}
	return line
}

// TestReloadUnderLoad runs SIPp calls at a steady rate through the ser
// binary to a SIPp callee while the configuration is reloaded every
// second, alternating between two versions and between SIGHUP and the
// FIFO's cfg_reload: no call fails, the probe shows the new version after
// each reload, a registration made before is still served at the end, and
// a TCP connection opened before carries requests across the reloads.
// Along the way a broken file and one that changes a modparam are
// refused (file:line:col in the reply) and the running version stays.
func TestReloadUnderLoad(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	uasPort := testutil.FreePort(t)
	s := startReloadServer(t, uasPort)
	s.waitProbe("A")

	// A phone registers, and a TCP client connects, before any reload.
	phone := answeringUA(t)
	reg := newUA(t)
	to, _ := net.ResolveUDPAddr("udp", s.addr)
	reg.send(to, fmt.Sprintf(`REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKreg1
Max-Forwards: 70
From: <sip:reg@127.0.0.1>;tag=r1
To: <sip:reg@127.0.0.1>
Call-ID: reload-reg
CSeq: 1 REGISTER
Contact: <sip:reg@%s>
Expires: 3600
Content-Length: 0

`, reg.hostport(), phone.LocalAddr()))
	if r, _ := reg.recvFor("SIP/2.0"); !strings.HasPrefix(firstLine(r), "SIP/2.0 200") {
		t.Fatalf("REGISTER: %s", firstLine(r))
	}
	tc, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tr := bufio.NewReader(tc)
	if got := tcpProbe(t, tc, tr, 1); got != "SIP/2.0 200 config A" {
		t.Fatalf("tcp probe: %q", got)
	}

	reloadCalls := reloadCalls()
	limit := time.Duration(reloadCalls/reloadRate)*time.Second + 70*time.Second
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: "uas", Builtin: true, Port: uasPort, Calls: reloadCalls, Timeout: limit})
	uac := testutil.StartSIPp(t, &testutil.SIPp{Scenario: "uac", Builtin: true, Remote: s.addr, Calls: reloadCalls, Rate: reloadRate,
		Timeout: limit})
	uacDone := make(chan int, 1)
	go func() { uacDone <- uac.Wait(limit + 30*time.Second) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	version := "A"
	reloads, refused := 0, 0
	var uacCode int
loop:
	for i := 0; ; i++ {
		select {
		case uacCode = <-uacDone:
			break loop
		case <-tick.C:
		}
		switch {
		case i == 5:
			// A broken file: refused with its position, A or B stays.
			s.writeText(strings.Replace(fmt.Sprintf(reloadCfg, "X", s.fifo, s.uas, s.dir+"/", frTimer[version]), `sl_send_reply("200", "config X");`, `sl_send_reply("200");`, 1))
			code, text := s.fifoReload()
			if code != 400 || !strings.Contains(text, s.cfg+":15:3: 'sl_send_reply' takes 2 arguments, 1 given") {
				t.Errorf("broken config: reply %d %q", code, text)
			}
			refused++
			s.waitProbe(version)
			continue
		case i == 9:
			// A modparam that cannot change at run time: refused, naming it.
			s.writeText(strings.Replace(fmt.Sprintf(reloadCfg, "X", s.fifo, s.uas, s.dir+"/", frTimer[version]), `"db_mode", 0`, `"db_mode", 2`, 1))
			code, text := s.fifoReload()
			if code != 400 || !strings.Contains(text, s.cfg+`:11:31: modparam("usrloc", "db_mode") changed from 0 to 2: module parameters are applied when the module is initialised at start-up; restart ser to apply it`) {
				t.Errorf("modparam change: reply %d %q", code, text)
			}
			refused++
			s.waitProbe(version)
			continue
		}
		if version == "A" {
			version = "B"
		} else {
			version = "A"
		}
		s.write(version)
		if i%2 == 0 {
			if err := s.proc.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		} else if code, text := s.fifoReload(); code != 200 || !strings.Contains(text, `modparam("tm", "fr_timer") changed`) {
			t.Fatalf("cfg_reload of version %s: %q", version, text)
		}
		s.waitProbe(version)
		reloads++
	}
	out := uac.Output()
	ok, failed, found := testutil.SIPpCalls(out)
	t.Logf("%d calls at %d/s: %d successful, %d failed; %d reloads, %d refused", reloadCalls, reloadRate, ok, failed, reloads, refused)
	if uacCode != 0 || !found || failed != 0 || ok != reloadCalls {
		t.Fatalf("uac: exit %d, %d successful, %d failed:\n%s", uacCode, ok, failed, sippReport(out))
	}
	if c := uas.Wait(30 * time.Second); c != 0 {
		t.Fatalf("uas: exit %d:\n%s", c, sippReport(uas.Output()))
	}
	if reloads < 10 {
		t.Fatalf("only %d reloads during the calls", reloads)
	}

	// The TCP connection opened before the reloads still works, and runs
	// the current version.
	if got := tcpProbe(t, tc, tr, 2); got != "SIP/2.0 200 config "+version {
		t.Fatalf("tcp probe after the reloads: %q, want config %s", got, version)
	}
	// The registration made before the reloads is still served.
	caller := newUA(t)
	caller.send(to, fmt.Sprintf(`OPTIONS sip:reg@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKcall1
Max-Forwards: 70
From: <sip:caller@example.com>;tag=c1
To: <sip:reg@127.0.0.1>
Call-ID: reload-after
CSeq: 1 OPTIONS
Content-Length: 0

`, caller.hostport()))
	if r, _ := caller.recvFor("SIP/2.0"); !strings.HasPrefix(firstLine(r), "SIP/2.0 200") {
		t.Fatalf("request to the registered phone after the reloads: %s", firstLine(r))
	}
	// The refusals and the reloads are in the log.
	logs := s.proc.Output()
	for _, want := range []string{s.cfg + ":15:3: 'sl_send_reply' takes 2 arguments, 1 given", "configuration not reloaded", "SIGHUP: reloading the configuration", `msg="configuration reloaded"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}

	// serctl reload: a refusal's positions on stderr, exit 1; then a
	// good file.
	sc := &serctlTool{t: t, bin: buildSerctl(t, t.TempDir()), env: []string{"SER_FIFO=" + s.fifo, "SER_FIFO_DIR=" + s.dir + "/"}}
	s.writeText(strings.Replace(fmt.Sprintf(reloadCfg, "C", s.fifo, s.uas, s.dir+"/", frTimer["C"]), "loadmodule \"textops.so\"\n", "", 1))
	sc.fails("stderr", s.cfg+`: loadmodule "textops.so" removed (line 8 of the running configuration): a running module cannot be unloaded; restart ser to drop it`, "reload")
	s.write("C")
	sc.ok("^configuration reloaded: "+regexp.QuoteMeta(s.cfg)+`: route\[0\]\nmodparam\("tm", "fr_timer"\) changed from [56] to 7\n$`, "reload")
	s.waitProbe("C")
}

// TestReloadFirstUseOfDatabase reloads a script that calls a group
// function when the running one called none: the group module, which
// opens its database at start-up only for a script that uses it, opens
// and checks it during the reload, and the new script reads it at once.
func TestReloadFirstUseOfDatabase(t *testing.T) {
	const base = `fork=no
loadmodule "sl.so"
loadmodule "group.so"
route {
	sl_send_reply("200", "plain");
}
`
	srv := startSer(t, base)
	st, err := srv.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Grant(context.Background(), "alice", "127.0.0.1", "ld"); err != nil {
		t.Fatal(err)
	}
	probe := func(user string) string {
		u := newUA(t)
		u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:%s@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKg%s
Max-Forwards: 70
From: <sip:t@example.com>;tag=1
To: <sip:%s@127.0.0.1>
Call-ID: group-%s
CSeq: 1 OPTIONS
Content-Length: 0

`, user, u.hostport(), user, user, user))
		r, _ := u.recv()
		return firstLine(r)
	}
	if got := probe("alice"); got != "SIP/2.0 200 plain" {
		t.Fatalf("before: %q", got)
	}
	next := strings.Replace(base, `sl_send_reply("200", "plain");`, `if (is_user_in("Request-URI", "ld")) {
		sl_send_reply("200", "member");
		break;
	};
	sl_send_reply("200", "stranger");`, 1)
	if err := srv.inst.Reload([]byte(next)); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := probe("alice"); got != "SIP/2.0 200 member" {
		t.Fatalf("alice after the reload: %q", got)
	}
	if got := probe("bob"); got != "SIP/2.0 200 stranger" {
		t.Fatalf("bob after the reload: %q", got)
	}
}

// TestReloadJSONRPCAndXMLRPC reloads the ser binary's configuration
// through the HTTP listener: JSON-RPC's cfg_reload returns the structured
// result ({file, reloaded, routes}), a refusal is an error whose data
// lines are the file:line:col reasons; XML-RPC's cfg_reload method serves
// the same command.
func TestReloadJSONRPCAndXMLRPC(t *testing.T) {
	p := startSerBinary(t, "loadmodule \"sl.so\"\nroute {\n\tsl_send_reply(\"200\", \"one\");\n}\n")
	cfgPath := filepath.Join(p.dir, "ser.cfg")
	edit := func(old, repl string) {
		t.Helper()
		b, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(b), old, repl, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	post := func(path, ctype, body string) string {
		t.Helper()
		resp, err := http.Post("http://"+p.httpAddr+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const call = `{"jsonrpc":"2.0","method":"cfg_reload","id":7}`
	edit(`"one"`, `"two"`)
	var ok struct {
		Result struct {
			File     string   `json:"file"`
			Reloaded bool     `json:"reloaded"`
			Routes   []string `json:"routes"`
		} `json:"result"`
	}
	body := post("/jsonrpc", "application/json", call)
	if err := json.Unmarshal([]byte(body), &ok); err != nil || !ok.Result.Reloaded || ok.Result.File != cfgPath || len(ok.Result.Routes) != 1 {
		t.Fatalf("JSON-RPC cfg_reload: %s", body)
	}
	if got := firstLine(options(t, p.sipAddr)); got != "SIP/2.0 200 two" {
		t.Fatalf("after the JSON-RPC reload: %q", got)
	}
	edit(`sl_send_reply("200", "two");`, `sl_send_reply("200");`)
	var refused struct {
		Error struct {
			Code int `json:"code"`
			Data struct {
				Lines []string `json:"lines"`
			} `json:"data"`
		} `json:"error"`
	}
	body = post("/jsonrpc", "application/json", call)
	if err := json.Unmarshal([]byte(body), &refused); err != nil || refused.Error.Code != 400 || len(refused.Error.Data.Lines) != 1 ||
		!strings.HasPrefix(refused.Error.Data.Lines[0], cfgPath+":") || !strings.Contains(refused.Error.Data.Lines[0], "'sl_send_reply' takes 2 arguments, 1 given") {
		t.Fatalf("JSON-RPC refusal: %s", body)
	}
	if got := firstLine(options(t, p.sipAddr)); got != "SIP/2.0 200 two" {
		t.Fatalf("after the refused reload: %q", got)
	}
	edit(`sl_send_reply("200");`, `sl_send_reply("200", "three");`)
	body = post("/xmlrpc", "text/xml", `<?xml version="1.0"?><methodCall><methodName>cfg_reload</methodName><params></params></methodCall>`)
	if strings.Contains(body, "<fault>") || !strings.Contains(body, cfgPath+": route[0]") {
		t.Fatalf("XML-RPC cfg_reload: %s", body)
	}
	if got := firstLine(options(t, p.sipAddr)); got != "SIP/2.0 200 three" {
		t.Fatalf("after the XML-RPC reload: %q", got)
	}
}
