package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/core"
	"ser/core/rpc"
	"ser/fifo"
	"ser/internal/testing/testutil"
)

// persistentRegistrar is a registrar + stateless proxy with usrloc
// persistence: %[1]d is db_mode, %[2]s the SQLite file, %[3]s extra
// lines (options). Requests for the domain example.com (an alias of the
// server) are looked up in "aliases" first, as in the admin guide.
const persistentRegistrar = `
debug=4
fork=no
log_stderror=yes
alias="example.com"
%[3]s
loadmodule "modules/sl/sl.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", %[1]d)
modparam("usrloc", "db_url", "sqlite://%[2]s")
modparam("usrloc", "timer_interval", 3600)

route {
	if (uri==myself) {
		if (method=="REGISTER") {
			save("location");
			break;
		};
		lookup("aliases");
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
	};
	forward(uri:host, uri:port);
}
`

// sendInvite sends an INVITE for ruri from u to the server at to.
func sendInvite(u *ua, to *net.UDPAddr, ruri, callID string) {
	u.t.Helper()
	u.send(to, fmt.Sprintf(`INVITE %[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK%[3]s;rport
Max-Forwards: 70
From: <sip:bob@example.org>;tag=b-%[3]s
To: <%[1]s>
Call-ID: %[3]s
CSeq: 1 INVITE
Contact: <sip:bob@%[2]s>
Content-Length: 0

`, ruri, u.hostport(), callID))
}

// expectInvite checks that an INVITE reached callee with the given
// R-URI.
func expectInvite(t *testing.T, callee *ua, wantRURI string) {
	t.Helper()
	got, _ := callee.recvFor("INVITE")
	if want := "INVITE " + wantRURI + " SIP/2.0"; firstLine(got) != want {
		t.Fatalf("request line %q, want %q", firstLine(got), want)
	}
}

// ulCmd runs a FIFO command in an in-process server.
func ulCmd(t *testing.T, srv *server, cmd string, params ...string) string {
	t.Helper()
	return srv.inst.Server.RPC().Execute(context.Background(), cmd, rpc.Lines(params), rpc.FIFO).Text
}

// TestUsrlocRestart registers a phone over UDP and adds a permanent
// contact and an alias with ul_add, stops ser cleanly and starts a new
// instance on the same database, in each persistent db_mode: the calls
// still reach the phone, through the alias too, and the permanent
// contact survives the expiry timer.
func TestUsrlocRestart(t *testing.T) {
	for _, mode := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("db_mode=%d", mode), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "ser.db")
			cfg := fmt.Sprintf(persistentRegistrar, mode, db, "")
			alice, gw, bob := newUA(t), newUA(t), newUA(t)

			srv := startSer(t, cfg)
			if resp := register(alice, srv, "alice", 3600, "reg-alice", 1); !strings.HasPrefix(resp, "SIP/2.0 200") {
				t.Fatalf("REGISTER: %s", resp)
			}
			gwURI := "sip:gw@" + gw.hostport()
			for _, add := range [][]string{
				{"location", "gw", gwURI, "0", "1.00", "0", "128"},
				{"aliases", "1234", "sip:alice@example.com", "0", "1.00", "0", "128"},
			} {
				if r := ulCmd(t, srv, "ul_add", add...); !strings.HasPrefix(r, "200 Added to table") {
					t.Fatalf("ul_add %v: %s", add, r)
				}
			}
			srv.inst.Stop()

			srv = startSer(t, cfg)
			if r := ulCmd(t, srv, "ul_show_contact", "location", "alice"); !strings.HasPrefix(r, "200 OK\n<sip:alice@"+alice.hostport()+">;q=;expires=") {
				t.Fatalf("alice after restart: %q", r)
			}
			sendInvite(bob, srv.udpAddr(), "sip:alice@"+srv.addr(), "call-direct")
			expectInvite(t, alice, "sip:alice@"+alice.hostport())
			sendInvite(bob, srv.udpAddr(), "sip:1234@example.com", "call-alias")
			expectInvite(t, alice, "sip:alice@"+alice.hostport())
			// The timer (ul_flush runs it) leaves the permanent contact.
			if r := ulCmd(t, srv, "ul_flush"); r != "200 ul_flush completed" {
				t.Fatal(r)
			}
			sendInvite(bob, srv.udpAddr(), "sip:gw@example.com", "call-gw")
			expectInvite(t, gw, gwURI)
			if r := ulCmd(t, srv, "ul_stats"); !strings.Contains(r, "'location' 2 0\n") || !strings.Contains(r, "'aliases' 1 0\n") {
				t.Fatalf("ul_stats after restart: %q", r)
			}
		})
	}
}

// TestUsrlocDBOnlySplit is Inode's cacheless set-up: a registrar and a
// separate proxy, both db_mode 3 on one database. What the registrar
// saves the proxy finds at once, and an unregistration too.
func TestUsrlocDBOnlySplit(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ser.db")
	registrar := startSer(t, fmt.Sprintf(`
fork=no
loadmodule "modules/sl/sl.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 3)
modparam("usrloc", "db_url", "sqlite://%s")
route {
	if (method=="REGISTER") { save("location"); break; };
	sl_send_reply("403", "Registrar only");
}
`, db))
	proxy := startSer(t, fmt.Sprintf(`
fork=no
alias="example.com"
loadmodule "modules/sl/sl.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 3)
modparam("usrloc", "db_url", "sqlite://%s")
route {
	if (method=="REGISTER") { sl_send_reply("403", "Use the registrar"); break; };
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); break; };
	forward(uri:host, uri:port);
}
`, db))
	alice, bob := newUA(t), newUA(t)
	if resp := register(alice, registrar, "alice", 3600, "reg-a", 1); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER: %s", resp)
	}
	sendInvite(bob, proxy.udpAddr(), "sip:alice@example.com", "split-1")
	expectInvite(t, alice, "sip:alice@"+alice.hostport())
	if r := ulCmd(t, proxy, "ul_show_contact", "location", "alice"); !strings.HasPrefix(r, "200 OK\n<sip:alice@"+alice.hostport()+">") {
		t.Fatalf("proxy's ul_show_contact: %q", r)
	}
	if resp := register(alice, registrar, "alice", 0, "reg-a", 2); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("unREGISTER: %s", resp)
	}
	sendInvite(bob, proxy.udpAddr(), "sip:alice@example.com", "split-2")
	if r, _ := bob.recv(); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Fatalf("want 404 after the unregistration:\n%s", r)
	}
}

// TestAliasesCfg runs the admin guide's aliases example (db_mode 1). As
// written it names SER's MySQL database on host "dbhost", which does not
// exist here: loading fails with a clear error (without the password)
// instead of silently using another database.
// On SQLite it works, and the alias survives a restart.
func TestAliasesCfg(t *testing.T) {
	raw, err := os.ReadFile("../testdata/cfg/aliases.cfg")
	if err != nil {
		t.Fatal(err)
	}
	_, err = core.Load("aliases.cfg", raw, core.LoadOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), `usrloc: db_mode 1 needs a database: db_url "sql://ser:xxxxx@dbhost/ser"`) ||
		!strings.Contains(err.Error(), "cannot connect to mysql ser@dbhost:3306/ser") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("aliases.cfg with its MySQL db_url: %v", err)
	}

	db := filepath.Join(t.TempDir(), "ser.db")
	cfg := strings.Replace(string(raw), "sql://ser:secret@dbhost/ser", "sqlite://"+db, 1)
	port := testutil.FreePort(t)
	fixed := func(o *core.Options) { setPort(o, port) }
	john, bob := newUA(t), newUA(t)
	srv := startSer(t, cfg, fixed)
	if resp := register(john, srv, "john", 3600, "reg-john", 1); !strings.HasPrefix(resp, "SIP/2.0 200") {
		t.Fatalf("REGISTER: %s", resp)
	}
	// serctl alias add 1234 sip:john@<this server>
	if r := ulCmd(t, srv, "ul_add", "aliases", "1234", "sip:john@"+srv.addr(), "0", "1.00", "0", "128"); !strings.HasPrefix(r, "200") {
		t.Fatal(r)
	}
	srv.inst.Stop()

	srv = startSer(t, cfg, fixed)
	sendInvite(bob, srv.udpAddr(), "sip:1234@"+srv.addr(), "alias-call")
	got, from := john.recvFor("INVITE")
	if firstLine(got) != "INVITE sip:john@"+john.hostport()+" SIP/2.0" {
		t.Fatalf("alias not resolved after restart: %s", firstLine(got))
	}
	john.send(from, replyTo(got, "486 Busy Here", "tag=j1"))
	if r, _ := bob.recvFor("486"); !strings.HasPrefix(r, "SIP/2.0 486") {
		t.Fatalf("want 486:\n%s", r)
	}
}

// serProc is a ser binary run by a test on a fixed port.
type serProc struct {
	p    *testutil.Proc
	srv  *server // addr/udpAddr only
	fifo *fifo.Client
}

// startSerBin runs the ser binary with cfg on port and waits until it
// answers.
func startSerBin(t *testing.T, cfg string, port int) *serProc {
	t.Helper()
	path := writeFile(t, "ser.cfg", cfg)
	p := testutil.Start(t, t.TempDir(), serBin, "-f", path, "-D", "-E", "-H", "off", "-l", fmt.Sprintf("127.0.0.1:%d", port))
	sp := &serProc{p: p, srv: &server{port: port}}
	u := newUA(t)
	for end := time.Now().Add(10 * time.Second); ; {
		u.send(sp.srv.udpAddr(), fmt.Sprintf("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bKping%d\nMax-Forwards: 70\nFrom: <sip:t@example.org>;tag=1\nTo: <sip:ping@example.org>\nCall-ID: ping-%d\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
			port, u.hostport(), time.Now().UnixNano(), time.Now().UnixNano()))
		u.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 4096)
		if _, _, err := u.conn.ReadFromUDP(buf); err == nil {
			return sp
		}
		if time.Now().After(end) {
			t.Fatalf("ser does not answer on port %d:\n%s", port, p.Output())
		}
	}
}

// TestUsrlocKill kills the ser binary with SIGKILL. db_mode 1 wrote every
// registration at once: nothing is lost. db_mode 2 keeps what ul_flush
// (or the timer) wrote and loses the registrations made after it — by
// design, the price of write-back; a clean shutdown (SIGTERM) flushes.
func TestUsrlocKill(t *testing.T) {
	dir := t.TempDir()
	fifoOpts := fmt.Sprintf("fifo=%q\nfifo_dir=%q", filepath.Join(dir, "ser_fifo"), dir+"/")
	port := testutil.FreePort(t)
	alice, bob, carol, caller := newUA(t), newUA(t), newUA(t), newUA(t)
	regOK := func(u *ua, sp *serProc, user string, cseq int) {
		t.Helper()
		if resp := register(u, sp.srv, user, 3600, "reg-"+user, cseq); !strings.HasPrefix(resp, "SIP/2.0 200") {
			t.Fatalf("REGISTER %s: %s", user, resp)
		}
	}
	reached := func(sp *serProc, callee *ua, user, callID string) {
		t.Helper()
		sendInvite(caller, sp.srv.udpAddr(), "sip:"+user+"@example.com", callID)
		expectInvite(t, callee, "sip:"+user+"@"+callee.hostport())
	}
	notFound := func(sp *serProc, user, callID string) {
		t.Helper()
		sendInvite(caller, sp.srv.udpAddr(), "sip:"+user+"@example.com", callID)
		if r, _ := caller.recv(); !strings.HasPrefix(r, "SIP/2.0 404") {
			t.Fatalf("%s: want 404:\n%s", user, r)
		}
	}

	t.Run("db_mode=1", func(t *testing.T) {
		cfg := fmt.Sprintf(persistentRegistrar, 1, filepath.Join(dir, "wt.db"), "")
		sp := startSerBin(t, cfg, port)
		regOK(alice, sp, "alice", 1)
		sp.p.Kill()
		sp = startSerBin(t, cfg, port)
		reached(sp, alice, "alice", "k1-1")
		sp.p.Kill()
	})

	t.Run("db_mode=2", func(t *testing.T) {
		cfg := fmt.Sprintf(persistentRegistrar, 2, filepath.Join(dir, "wb.db"), fifoOpts)
		sp := startSerBin(t, cfg, port)
		cl := &fifo.Client{Path: filepath.Join(dir, "ser_fifo"), ReplyDir: dir + "/", Timeout: 5 * time.Second}
		regOK(alice, sp, "alice", 10)
		if r, err := cl.Execute(context.Background(), "ul_flush", nil); err != nil || r.Text != "200 ul_flush completed" {
			t.Fatalf("ul_flush: %v %v", r, err)
		}
		regOK(bob, sp, "bob", 1) // not flushed yet
		sp.p.Kill()

		sp = startSerBin(t, cfg, port)
		reached(sp, alice, "alice", "k2-1")
		notFound(sp, "bob", "k2-2")
		regOK(carol, sp, "carol", 1)
		sp.p.Cmd.Process.Signal(syscall.SIGTERM)
		if code := sp.p.Wait(10 * time.Second); code != 0 {
			t.Fatalf("exit code %d after SIGTERM:\n%s", code, sp.p.Output())
		}
		sp = startSerBin(t, cfg, port)
		reached(sp, carol, "carol", "k2-3")
		sp.p.Kill()
	})
}
