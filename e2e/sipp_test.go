package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/modules/usrloc"
	"ser/internal/testing/testutil"
)

// usersCSV writes a SIPp injection file: one "user;contact" line per user.
func usersCSV(t *testing.T, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(p, []byte("SEQUENTIAL\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sippScenario(name string) string {
	p, _ := filepath.Abs(filepath.Join("testdata", "sipp", name))
	return p
}

// TestSIPpRegister registers 200 distinct users with SIPp and checks that
// usrloc holds every one of them.
func TestSIPpRegister(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, registrarProxy)
	const n = 200
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, fmt.Sprintf("user%d;127.0.0.1:%d", i, 7000+i))
	}
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: srv.addr(), Calls: n, Rate: 200,
		Extra: []string{"-inf", usersCSV(t, lines)},
	})
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, tail(out))
	}
	ul := srv.inst.Modules.Instance("usrloc").(*usrloc.Module)
	d, ok := ul.Domain("location")
	if !ok {
		t.Fatal("no location table")
	}
	for i := 0; i < n; i++ {
		if cs, ok := d.Get(fmt.Sprintf("user%d", i)); !ok || len(cs) != 1 {
			t.Fatalf("user%d not registered (%v)", i, cs)
		}
	}
}

// TestSIPpStatelessCall registers a SIPp uas as "service" and runs SIPp
// uac calls to it through the stateless proxy.
func TestSIPpStatelessCall(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, registrarProxy)
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: "uas", Builtin: true, Port: uasPort, Calls: 10, Timeout: 30 * time.Second})
	out, code := testutil.RunSIPp(t, &testutil.SIPp{
		Scenario: sippScenario("register.xml"), Remote: srv.addr(), Calls: 1,
		Extra: []string{"-inf", usersCSV(t, []string{fmt.Sprintf("service;127.0.0.1:%d", uasPort)})},
	})
	if code != 0 {
		t.Fatalf("register: sipp exit %d:\n%s", code, tail(out))
	}
	out, code = testutil.RunSIPp(t, &testutil.SIPp{Scenario: "uac", Builtin: true, Remote: srv.addr(), Calls: 10, Rate: 20})
	if code != 0 {
		t.Fatalf("uac: sipp exit %d:\n%s", code, tail(out))
	}
	if c := uas.Wait(20 * time.Second); c != 0 {
		t.Fatalf("uas: sipp exit %d:\n%s", c, tail(uas.Output()))
	}
}

// TestSipsak drives the registrar and proxy with sipsak: its usrloc mode
// registers, then sends itself an INVITE and a MESSAGE through ser; its
// traceroute mode walks Max-Forwards up (483 from ser, then 404).
func TestSipsak(t *testing.T) {
	testutil.RequireTool(t, "sipsak")
	port := testutil.FreeLowPort(t)
	srv := startSer(t, registrarProxy, func(o *core.Options) { setPort(o, port) })
	uri := fmt.Sprintf("sip:sipsakuser@%s", srv.addr())
	out, code := testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-i", "-s", uri, "-v")
	if code != 0 || !strings.Contains(out, "All usrloc tests completed successful") {
		t.Fatalf("sipsak usrloc mode: exit %d\n%s", code, out)
	}
	out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-T", "-s", "sip:nobody@"+srv.addr())
	// sipsak exits 1 when the final reply is not 2xx (here the expected 404).
	if code > 1 || !strings.Contains(out, "483 Too Many Hops") || !strings.Contains(out, "404 Not Found") {
		t.Fatalf("sipsak traceroute: exit %d\n%s", code, out)
	}
}

// tail returns the last lines of a tool's output.
func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
