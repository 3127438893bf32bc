package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"ser/internal/testing/testutil"
)

// TestXMLRPCBasicAuthThrottled (issue 14): ser with xmlrpc_user and
// xmlrpc_password given as its SHA-256 digest ("{SHA256}…", no plain
// secret in ser.cfg). Python's xmlrpc.client guesses admin's password:
// the first five get 401, the rest 429 (not compared), the right password
// from that address too; kolo/xmlrpc with the right password from
// another loopback address runs the command.
func TestXMLRPCBasicAuthThrottled(t *testing.T) {
	py := testutil.RequireTool(t, "python3")
	sum := sha256.Sum256([]byte("Adm1n-xmlrpc"))
	p := startSerBinary(t, fmt.Sprintf(`
fork=no
log_stderror=yes
xmlrpc_user="admin"
xmlrpc_password="{SHA256}%s"
loadmodule "modules/sl/sl.so"
route { sl_send_reply("404", "Not Found"); }
`, hex.EncodeToString(sum[:])))
	if strings.Contains(string(must(os.ReadFile(filepath.Join(p.dir, "ser.cfg")))), "Adm1n-xmlrpc") {
		t.Fatal("the plain password is in ser.cfg")
	}
	url := func(pw string) string { return "http://admin:" + pw + "@" + p.httpAddr + "/xmlrpc" }
	script := fmt.Sprintf(`
import xmlrpc.client, json
codes = []
for pw in ["guess%%d" %% i for i in range(8)] + ["Adm1n-xmlrpc"]:
    try:
        xmlrpc.client.ServerProxy(%q.replace("PW", pw)).uptime()
        codes.append(200)
    except xmlrpc.client.ProtocolError as e:
        codes.append(e.errcode)
print(json.dumps(codes))
`, url("PW"))
	path := filepath.Join(t.TempDir(), "guess.py")
	os.WriteFile(path, []byte(script), 0o644)
	out, code := testutil.Run(t, 30*time.Second, "", py, path)
	if code != 0 {
		t.Fatalf("python exit %d:\n%s", code, out)
	}
	var codes []int
	if err := json.Unmarshal([]byte(out), &codes); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []int{401, 401, 401, 401, 401, 429, 429, 429, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", codes, want)
	}
	// The owner from another address.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := kolo.NewClient(url("Adm1n-xmlrpc"), &http.Transport{DialContext: d.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res struct {
		Code   int    `xmlrpc:"code"`
		Output string `xmlrpc:"output"`
	}
	if err := c.Call("uptime", nil, &res); err != nil || res.Code != 200 || !strings.Contains(res.Output, "Up time:") {
		t.Fatalf("owner from 127.0.0.2: %+v %v", res, err)
	}
	if log := p.proc.Output(); !strings.Contains(log, "basic auth back-off") || strings.Contains(log, "Adm1n-xmlrpc") {
		t.Errorf("back-off not logged, or the password logged:\n%s", tail(log))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
