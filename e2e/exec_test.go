package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExecExample runs the admin guide's "Executing External Script"
// (exec.cfg) with its /tmp/exectest.txt moved into a temp dir: REGISTERs
// are okayed, other requests are dumped to the file (source IP first)
// and redirected with 300 to the two URIs the exec_uri command prints.
func TestExecExample(t *testing.T) {
	b, err := os.ReadFile("../testdata/cfg/exec.cfg")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "exectest.txt")
	cfg := strings.ReplaceAll(string(b), "/tmp/exectest.txt", out)
	if cfg == string(b) {
		t.Fatal("exec.cfg no longer names /tmp/exectest.txt")
	}
	srv := startSer(t, cfg)
	u := newUA(t)

	u.send(srv.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKexecreg;rport
Max-Forwards: 70
From: <sip:alice@%[1]s>;tag=r1
To: <sip:alice@%[1]s>
Call-ID: exec-reg-1
CSeq: 1 REGISTER
Contact: <sip:alice@%[2]s>
Content-Length: 0

`, srv.addr(), u.hostport()))
	if r, _ := u.recv(); firstLine(r) != "SIP/2.0 200 ok" {
		t.Fatalf("REGISTER: %s", r)
	}

	inv := fmt.Sprintf(`INVITE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKexecinv;rport
Max-Forwards: 70
From: <sip:alice@%[1]s>;tag=i1
To: <sip:bob@%[1]s>
Call-ID: exec-inv-1
CSeq: 1 INVITE
Contact: <sip:alice@%[2]s>
Content-Length: 0

`, srv.addr(), u.hostport())
	u.send(srv.udpAddr(), inv)
	r, _ := u.recv()
	if firstLine(r) != "SIP/2.0 300 Redirect" {
		t.Fatalf("INVITE: %s", r)
	}
	if c := headers(r, "Contact"); strings.Join(c, " ") != "<sip:mra@iptel.org> <sip:mrb@iptel.org>" {
		t.Errorf("Contacts %q", c)
	}
	dump, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "127.0.0.1\n" + crlf(inv); string(dump) != want {
		t.Errorf("exectest.txt:\n%q\nwant\n%q", dump, want)
	}
}

// TestExecTimeToKill: a command that hangs is killed after time_to_kill
// and the function is false; the worker goes on serving.
func TestExecTimeToKill(t *testing.T) {
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/exec/exec.so"
modparam("exec", "time_to_kill", 1)
route {
	if (uri=~"^sip:hang@") {
		if (exec_uri("sleep 30; echo sip:never@example.com")) {
			sl_send_reply("300", "Redirect");
		} else {
			sl_send_reply("500", "exec failed");
		};
		break;
	};
	if (exec_user("f() { echo sip:$1@gw.example.com; }; f")) {
		sl_send_reply("302", "Moved");
		break;
	};
	sl_send_reply("500", "exec failed");
}
`)
	u := newUA(t)
	req := func(user, branch string) string {
		return fmt.Sprintf(`OPTIONS sip:%[1]s@%[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=%[4]s;rport
Max-Forwards: 70
From: <sip:alice@%[2]s>;tag=o1
To: <sip:%[1]s@%[2]s>
Call-ID: %[4]s
CSeq: 1 OPTIONS
Content-Length: 0

`, user, srv.addr(), u.hostport(), branch)
	}
	start := time.Now()
	u.send(srv.udpAddr(), req("hang", "z9hG4bKhang"))
	if r, _ := u.recv(); firstLine(r) != "SIP/2.0 500 exec failed" {
		t.Fatalf("hanging command: %s", r)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 4*time.Second {
		t.Errorf("answered after %v, want about time_to_kill (1 s)", d)
	}
	u.send(srv.udpAddr(), req("4930123", "z9hG4bKuser"))
	r, _ := u.recv()
	if firstLine(r) != "SIP/2.0 302 Moved" || header(r, "Contact") != "<sip:4930123@gw.example.com>" {
		t.Fatalf("exec_user: %s", r)
	}
}

// TestExecQuiz runs the admin guide's URI-rewriting quiz with the final
// forward replaced by a redirect that shows the result: exec_uri gives
// sip:2234@foo.bar, strip(2) leaves 34, which does not start with 2, so
// prefix("1") makes sip:134@foo.bar.
func TestExecQuiz(t *testing.T) {
	b, err := os.ReadFile("../testdata/cfg/quiz.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "forward(uri:host, uri:port);", `sl_send_reply("302", "Moved");`, 1)
	cfg = strings.Replace(cfg, `loadmodule "modules/exec/exec.so"`, `loadmodule "modules/exec/exec.so"`+"\n"+`loadmodule "modules/sl/sl.so"`, 1)
	srv := startSer(t, cfg)
	u := newUA(t)
	u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:quiz@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKquiz;rport
Max-Forwards: 70
From: <sip:alice@%[1]s>;tag=q1
To: <sip:quiz@%[1]s>
Call-ID: exec-quiz-1
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), u.hostport()))
	r, _ := u.recv()
	if firstLine(r) != "SIP/2.0 302 Moved" || header(r, "Contact") != "<sip:134@foo.bar>" {
		t.Fatalf("quiz: %s", r)
	}
}
