package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// TestOptionsReplySipsak pings the server with sipsak (an OPTIONS to
// sip:host:port): options_reply() answers 200 OK with the capability
// headers, from the modparams; an OPTIONS to a user is not answered by it.
func TestOptionsReplySipsak(t *testing.T) {
	sipsak := testutil.RequireTool(t, "sipsak")
	srv := startSer(t, `
loadmodule "sl.so"
loadmodule "options.so"
modparam("options", "accept_language", "en, de")
modparam("options", "support", "path")
route {
	if (method=="OPTIONS") {
		options_reply();
		sl_send_reply("404", "Not here");
	};
}
`)
	out, code := testutil.Run(t, 20*time.Second, "", sipsak, "-vv", "-s", "sip:"+srv.addr())
	if code != 0 || !strings.Contains(out, "SIP/2.0 200 OK") {
		t.Fatalf("sipsak: exit %d\n%s", code, out)
	}
	for _, want := range []string{"Accept: */*", "Accept-Encoding: \r", "Accept-Language: en, de", "Supported: path"} {
		if !strings.Contains(out, want) {
			t.Errorf("reply lacks %q:\n%s", want, out)
		}
	}
	// With a user part options_reply is false and the script goes on.
	out, _ = testutil.Run(t, 20*time.Second, "", sipsak, "-vv", "-s", fmt.Sprintf("sip:bob@%s", srv.addr()))
	if !strings.Contains(out, "404 Not here") {
		t.Fatalf("OPTIONS to a user:\n%s", out)
	}
}
