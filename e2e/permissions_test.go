package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/fifo"
	"ser/internal/testing/testutil"
)

// permissionsCfg checks REGISTERs with register.allow/.deny, OPTIONS to
// sip:trusted@ with the trusted table (cached) and every other request
// with the default permissions.allow/.deny — all files named relative to
// the config file, which lives in another directory than ser's working
// directory.
const permissionsCfg = `
fork=no
children=2
loadmodule "/usr/lib/ser/modules/sl.so"
loadmodule "/usr/lib/ser/modules/usrloc.so"
loadmodule "/usr/lib/ser/modules/registrar.so"
loadmodule "/usr/lib/ser/modules/permissions.so"
modparam("usrloc", "db_mode", 0)
modparam("permissions", "db_url", "sqlite://%s")
modparam("permissions", "db_mode", 1)
route {
	if (method=="REGISTER") {
		if (!allow_register("register")) { sl_send_reply("403", "Contact not allowed"); break; };
		save("location");
		break;
	};
	if (uri=~"^sip:trusted@") {
		if (allow_trusted()) { sl_send_reply("200", "Trusted"); } else { sl_send_reply("403", "Not trusted"); };
		break;
	};
	if (!allow_routing()) { sl_send_reply("403", "Forbidden by permissions.deny"); break; };
	sl_send_reply("200", "Routing allowed");
}
`

// TestPermissionsFiles drives the permissions module in the ser binary
// with sipsak: SER's allow/deny files decide which REGISTERs and which
// destinations pass, the trusted table which source may skip the checks;
// trusted_dump shows the cache.
func TestPermissionsFiles(t *testing.T) {
	sipsak := testutil.RequireTool(t, "sipsak")
	dir := t.TempDir()
	db := filepath.Join(dir, "perm.db")
	st, err := store.Open(context.Background(), "sqlite://"+db, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddTrusted(context.Background(), store.Trusted{SrcIP: "127.0.0.1", Proto: "udp", FromPattern: "^sip:sipsak@"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	files := map[string]string{
		"ser.cfg": fmt.Sprintf(permissionsCfg, db),
		// SER's syntax: regexes, ALL, EXCEPT, quotes, comments.
		"permissions.allow": "# routing allowed\n\"^sip:admin@\" : ALL\n",
		"permissions.deny":  "ALL : \"^sip:900[0-9]*@\", \"^sip:00\" EXCEPT \"^sip:0049\"  # premium and abroad\n",
		"register.allow":    "ALL : \"^sip:[a-z]+@127\\.0\\.0\\.1\"\n",
		"register.deny":     "ALL : ALL\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := testutil.FreePort(t)
	fifoPath := filepath.Join(dir, "fifo")
	p := testutil.Start(t, t.TempDir(), serBin, "-f", filepath.Join(dir, "ser.cfg"), "-D", "-E", "-H", "off",
		"-l", fmt.Sprintf("127.0.0.1:%d", port), "-i", fifoPath)
	target := func(user string) string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, port) }
	sipsakReply := func(args ...string) string {
		t.Helper()
		out, _ := testutil.Run(t, 20*time.Second, "", sipsak, append([]string{"-vv"}, args...)...)
		return out
	}
	// Wait until it answers.
	for end := time.Now().Add(10 * time.Second); !strings.Contains(sipsakReply("-s", target("100")), "SIP/2.0 200 Routing allowed"); {
		if time.Now().After(end) {
			t.Fatalf("ser does not answer:\n%s", p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tc := range []struct{ user, want string }{
		{"9001", "403 Forbidden by permissions.deny"},
		{"0033123", "403 Forbidden by permissions.deny"},
		{"0049123", "200 Routing allowed"}, // EXCEPT
		{"trusted", "200 Trusted"},
	} {
		if out := sipsakReply("-s", target(tc.user)); !strings.Contains(out, "SIP/2.0 "+tc.want) {
			t.Errorf("%s: want %q:\n%s", tc.user, tc.want, out)
		}
	}
	// sipsak registers a Contact of 127.0.0.1: allowed; one elsewhere: denied.
	if out := sipsakReply("-i", "-U", "-C", "sip:alice@127.0.0.1:5999", "-x", "60", "-s", target("alice")); !strings.Contains(out, "completed successful") || strings.Contains(out, "403") {
		t.Errorf("allowed REGISTER:\n%s", out)
	}
	if out := sipsakReply("-i", "-U", "-C", "sip:alice@192.0.2.1:5999", "-x", "60", "-s", target("alice")); !strings.Contains(out, "403 Contact not allowed") {
		t.Errorf("denied REGISTER:\n%s", out)
	}
	c := fifo.NewClient(fifoPath)
	c.ReplyDir, c.Timeout = os.TempDir(), 10*time.Second
	r, err := c.Execute(context.Background(), "trusted_dump", nil)
	if err != nil || !strings.Contains(r.Text, "<127.0.0.1, 1, ^sip:sipsak@>") {
		t.Errorf("trusted_dump: %v\n%v", err, r)
	}
}
