package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// sendIM is the admin guide's "Sending IM From Shell Script" (FIFO
// chapter, Example 5), verbatim but for the FIFO path and the receiver's
// port (the guide sends to 127.0.0.1:5060).
const sendIM = `#!/bin/sh
#
# call this script to send an instant message; script parameters
# will be displayed in message body
#
cat > /tmp/ser_fifo <<EOF
:t_uac_from:hh
NOTIFY
sip:originator@foo.bar
sip:receiver@127.0.0.1
foo: bar_special_header
x: y
p_header: p_value
Contact: <sip:devnull@192.168.0.100:9>
Content-Type: text/plain; charset=UTF-8

Hello world!!!! $@
.
EOF
`

// TestSendIMFromShell runs the admin guide's shell script against a
// running ser: the NOTIFY it asks for reaches a SIPp uas with the
// script's headers and body.
func TestSendIMFromShell(t *testing.T) {
	testutil.RequireTool(t, "sipp")
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	fifo := srv.inst.Server.Options().FIFO
	uasPort := testutil.FreePort(t)
	uas := testutil.StartSIPp(t, &testutil.SIPp{Scenario: sippScenario("notify_uas.xml"), Port: uasPort, Calls: 1})
	script := strings.NewReplacer("/tmp/ser_fifo", fifo, "sip:receiver@127.0.0.1", fmt.Sprintf("sip:receiver@127.0.0.1:%d", uasPort)).Replace(sendIM)
	path := filepath.Join(t.TempDir(), "send_im.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, code := testutil.Run(t, 10*time.Second, "", "sh", path, "from", "the", "shell")
	if code != 0 {
		t.Fatalf("script exit %d:\n%s", code, out)
	}
	if c := uas.Wait(10 * time.Second); c != 0 {
		t.Fatalf("the NOTIFY did not reach the uas intact (sipp exit %d):\n%s", c, tail(uas.Output()))
	}
}

// TestFIFOConcurrentShellClients has 50 processes write FIFO requests to a
// running ser at once, each with its own reply FIFO, as serctl does: every
// reply arrives intact.
func TestFIFOConcurrentShellClients(t *testing.T) {
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	fifo := srv.inst.Server.Options().FIFO
	dir := srv.dir
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			reply := fmt.Sprintf("ser_receiver_%d", i)
			sh := fmt.Sprintf(`set -e
cd %[1]s
mkfifo %[2]s
cat %[2]s > %[2]s.out &
printf ':print:%[2]s\nclient %[3]d says hello\n\n' > %[4]s
wait
cat %[2]s.out
rm -f %[2]s %[2]s.out`, dir, reply, i, fifo)
			out, err := exec.Command("sh", "-c", sh).CombinedOutput()
			want := fmt.Sprintf("200 ok\nclient %d says hello\n", i)
			if err != nil || string(out) != want {
				errs <- fmt.Sprintf("client %d: %v: %q", i, err, out)
			}
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("clients did not finish within 30s")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
