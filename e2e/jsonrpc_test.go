package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// TestJSONRPC (issue 18 item 3) drives the ser binary's JSON-RPC bridge
// (POST /jsonrpc, xmlrpc_user set) with curl and with a Python script
// using only urllib and json: structured results (uptime, ul_show_contact
// of a phone registered over SIP, ul_dump, t_stats), a contact added by
// named parameters, SER's error codes, -32601 with SER's text, a batch
// with a notification, and the listener's rules — credentials, a
// cross-site request, a text/plain body and a rebound Host are refused
// before any command runs.
func TestJSONRPC(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	py := testutil.RequireTool(t, "python3")
	p := startSerBinary(t, "xmlrpc_user=\"admin\"\nxmlrpc_password=\"s3cret\"\n"+readCfg(t, "helloworld.cfg"))
	u := newUA(t)
	registerAt(t, p, u, "alice")
	url := "http://" + p.httpAddr + "/jsonrpc"

	call := func(args ...string) (string, string) {
		t.Helper()
		out, code := testutil.Run(t, 20*time.Second, "", curl, append([]string{"-s", "-o", "-", "-w", "\n%{http_code}"}, args...)...)
		if code != 0 {
			t.Fatalf("curl %v: exit %d: %s", args, code, out)
		}
		i := strings.LastIndexByte(out, '\n')
		return out[:i], out[i+1:]
	}
	const js = "Content-Type: application/json"
	body, status := call("-u", "admin:s3cret", "-H", js, "-d", `{"jsonrpc":"2.0","method":"ul_show_contact","params":["location","alice"],"id":1}`, url)
	var show struct {
		Result []struct {
			URI     string `json:"uri"`
			Expires int    `json:"expires"`
		} `json:"result"`
		ID int `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &show); err != nil || status != "200" || len(show.Result) != 1 ||
		show.Result[0].URI != "sip:alice@"+u.hostport() || show.Result[0].Expires <= 0 || show.ID != 1 {
		t.Fatalf("curl ul_show_contact: %s %s", status, body)
	}
	// Refusals before any command runs: alice's registration survives
	// every ul_rm below.
	rm := `{"jsonrpc":"2.0","method":"ul_rm","params":["location","alice"],"id":1}`
	for _, c := range []struct {
		name, want string
		args       []string
	}{
		{"no credentials", "401", []string{"-H", js, "-d", rm}},
		{"cross-site page", "403", []string{"-u", "admin:s3cret", "-H", js, "-H", "Origin: http://evil.example", "-H", "Sec-Fetch-Site: cross-site", "-d", rm}},
		{"text/plain", "415", []string{"-u", "admin:s3cret", "-H", "Content-Type: text/plain", "-d", rm}},
		{"form", "415", []string{"-u", "admin:s3cret", "-d", rm}},
		{"rebound Host", "403", []string{"-u", "admin:s3cret", "-H", js, "-H", "Host: rebind.test:" + strings.Split(p.httpAddr, ":")[1], "-d", rm}},
		{"GET", "405", []string{"-u", "admin:s3cret", "-G"}},
	} {
		if _, status := call(append(c.args, url)...); status != c.want {
			t.Errorf("%s: HTTP %s, want %s", c.name, status, c.want)
		}
	}
	if body, _ := call("-u", "admin:s3cret", "-H", js, "-d", `{"jsonrpc":"2.0","method":"ul_show_contact","params":{"table":"location","aor":"alice"},"id":2}`, url); !strings.Contains(body, `"uri":"sip:alice@`) {
		t.Fatalf("alice's contact after the refused ul_rm: %s", body)
	}

	script := fmt.Sprintf(`
import base64, json, sys, urllib.request, urllib.error

URL = %q
AUTH = "Basic " + base64.b64encode(b"admin:s3cret").decode()

def rpc(payload):
    req = urllib.request.Request(URL, data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": AUTH})
    with urllib.request.urlopen(req) as resp:
        body = resp.read()
        return resp.status, (json.loads(body) if body else None)

out = {}
out["uptime"] = rpc({"jsonrpc": "2.0", "method": "uptime", "id": 1})[1]["result"]
out["add"] = rpc({"jsonrpc": "2.0", "method": "ul_add", "id": 2, "params":
    {"table": "location", "aor": "bob", "contact": "sip:bob@192.0.2.7", "expires": 0, "q": "1.00", "replicate": 0, "flags": 128}})[1]
out["dump"] = rpc({"jsonrpc": "2.0", "method": "ul_dump", "id": 3})[1]["result"]
out["missing"] = rpc({"jsonrpc": "2.0", "method": "ul_show_contact", "params": ["location", "nobody"], "id": 4})[1]["error"]
out["nope"] = rpc({"jsonrpc": "2.0", "method": "no_such_cmd", "id": 5})[1]["error"]
status, batch = rpc([
    {"jsonrpc": "2.0", "method": "t_stats", "id": "t"},
    {"jsonrpc": "2.0", "method": "ul_stats"},
    {"jsonrpc": "2.0", "method": "version", "id": "v"},
])
out["batch"] = batch
out["notify_status"] = rpc({"jsonrpc": "2.0", "method": "uptime"})[0]
json.dump(out, sys.stdout)
`, url)
	path := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := testutil.Run(t, 30*time.Second, "", py, path)
	if code != 0 {
		t.Fatalf("python exit %d:\n%s", code, out)
	}
	var res struct {
		Uptime struct {
			Seconds int64  `json:"seconds"`
			Since   string `json:"since"`
		} `json:"uptime"`
		Add struct {
			Result struct {
				Code   int    `json:"code"`
				Reason string `json:"reason"`
			} `json:"result"`
		} `json:"add"`
		Dump []struct {
			Name    string `json:"name"`
			Records []struct {
				AOR      string `json:"aor"`
				Contacts []struct {
					URI       string `json:"uri"`
					Permanent bool   `json:"permanent"`
				} `json:"contacts"`
			} `json:"records"`
		} `json:"dump"`
		Missing struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"missing"`
		Nope struct {
			Code int    `json:"code"`
			Data string `json:"data"`
		} `json:"nope"`
		Batch []struct {
			ID     string          `json:"id"`
			Result json.RawMessage `json:"result"`
		} `json:"batch"`
		NotifyStatus int `json:"notify_status"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Uptime.Since == "" || res.Add.Result.Code != 200 {
		t.Errorf("uptime/ul_add: %s", out)
	}
	aors := map[string]bool{}
	for _, tb := range res.Dump {
		for _, r := range tb.Records {
			for _, c := range r.Contacts {
				aors[r.AOR+" "+c.URI+fmt.Sprint(c.Permanent)] = true
			}
		}
	}
	if !aors["bob sip:bob@192.0.2.7true"] || !aors["alice sip:alice@"+u.hostport()+"false"] {
		t.Errorf("ul_dump: %v\n%s", aors, out)
	}
	if res.Missing.Code != 404 || res.Nope.Code != -32601 || res.Nope.Data != "500 command 'no_such_cmd' not available" {
		t.Errorf("errors: %+v %+v", res.Missing, res.Nope)
	}
	if len(res.Batch) != 2 || res.Batch[0].ID != "t" || res.Batch[1].ID != "v" ||
		!strings.Contains(strings.ReplaceAll(string(res.Batch[0].Result), " ", ""), `"completed":{"2xx"`) || !strings.Contains(string(res.Batch[1].Result), `"server": "Sip EXpress router`) {
		t.Errorf("batch: %s", out)
	}
	if res.NotifyStatus != 204 {
		t.Errorf("notification: HTTP %d", res.NotifyStatus)
	}
	// The commands are counted under jsonrpc.
	_, m := httpGet(t, "127.0.0.1", "http://"+p.httpAddr+"/metrics", "admin", "s3cret", "")
	if n := metricValue(m, `ser_commands_total{interface="jsonrpc",outcome="2xx"}`); n < 7 {
		t.Errorf("jsonrpc commands counted: %v", n)
	}
}
