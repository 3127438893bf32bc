package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/core"
	"ser/core/store"
	"ser/internal/testing/testutil"
)

// serctlCfg is a registrar with digest authentication (auth), group
// checks (group) and aliases, its FIFO and database set by the test.
const serctlCfg = `
debug=3
fork=no
log_stderror=yes
fifo="/tmp/ser_fifo"
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/auth/auth.so"
loadmodule "modules/group/group.so"
modparam("usrloc", "db_mode", 1)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (uri==myself) {
		if (method=="REGISTER") {
			if (!www_authorize("foo.bar", "subscriber")) {
				www_challenge("foo.bar", "0");
				break;
			};
			save("location");
			break;
		};
		if (method=="OPTIONS" && uri=~"^sip:grp@") {
			if (is_user_in("From", "int")) {
				sl_send_reply("200", "Member of int");
			} else {
				sl_send_reply("403", "Not in int");
			};
			break;
		};
		lookup("aliases");
		if (!lookup("location")) {
			sl_send_reply("404", "Not Found");
			break;
		};
	};
	t_relay();
}
`

// serctlRun is one serctl invocation.
type serctlRun struct {
	stdout, stderr string
	code           int
}

// serctlTool runs the serctl binary with an environment.
type serctlTool struct {
	t   *testing.T
	bin string
	env []string
}

func (s *serctlTool) run(args ...string) serctlRun {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("serctl %v: %v", args, err)
	}
	return serctlRun{out.String(), errb.String(), code}
}

// ok runs serctl and requires exit 0 and stdout matching want (a regular
// expression).
func (s *serctlTool) ok(want string, args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 || !regexp.MustCompile(want).MatchString(r.stdout) {
		s.t.Fatalf("serctl %s: exit %d, want 0 and stdout matching %q\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs serctl and requires exit 1 and wantOut in stdout or
// wantErr in stderr.
func (s *serctlTool) fails(stream, want string, args ...string) {
	s.t.Helper()
	r := s.run(args...)
	got := r.stderr
	if stream == "stdout" {
		got = r.stdout
	}
	if r.code != 1 || !strings.Contains(got, want) {
		s.t.Fatalf("serctl %s: exit %d, want 1 and %q in %s\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.code, want, stream, r.stdout, r.stderr)
	}
}

// buildSerctl builds the serctl binary into dir.
func buildSerctl(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "serctl")
	if out, err := exec.Command("go", "build", "-o", bin, "ser/serctl").CombinedOutput(); err != nil {
		t.Fatalf("building serctl: %v\n%s", err, out)
	}
	return bin
}

// answeringUA answers every request with code (200 OK, or 486 Busy Here
// for Request-URIs of user "busy"), the way a phone answers OPTIONS.
func answeringUA(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := string(buf[:n])
			if strings.HasPrefix(req, "SIP/2.0") {
				continue
			}
			status := "200 OK"
			if strings.Contains(firstLine(req), "sip:busy@") {
				status = "486 Busy Here"
			}
			var b strings.Builder
			b.WriteString("SIP/2.0 " + status + "\r\n")
			for _, v := range headers(req, "Via") {
				b.WriteString("Via: " + v + "\r\n")
			}
			fmt.Fprintf(&b, "From: %s\r\nTo: %s;tag=ua1\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
				header(req, "From"), header(req, "To"), header(req, "Call-ID"), header(req, "CSeq"))
			c.WriteToUDP([]byte(b.String()), from)
		}
	}()
	return c
}

// TestSerctl drives a running ser with the serctl binary: users and
// credentials (checked by REGISTER with digest authentication), groups
// (checked by is_user_in), aliases and permanent contacts through the
// FIFO, process list, raw FIFO commands, ping, monitor, and the errors.
func TestSerctl(t *testing.T) {
	bin := buildSerctl(t, t.TempDir())
	ctx := context.Background()

	// No server: the FIFO is missing.
	nofifo := filepath.Join(t.TempDir(), "ser_fifo")
	down := &serctlTool{t: t, bin: bin, env: []string{"SER_FIFO=" + nofifo, "SIP_DOMAIN=foo.bar"}}
	down.fails("stderr", "ERROR: cannot open ser's FIFO "+nofifo+": no such FIFO — is ser running?", "ps")
	down.fails("stderr", `Make sure you have line fifo="`+nofifo+`" in your config`, "ul", "show", "john")

	port := testutil.FreeLowPort(t) // sipsak truncates 5-digit ports
	var dbURL string
	srv := startSer(t, serctlCfg, func(o *core.Options) {
		setPort(o, port)
		dbURL = "sqlite://" + filepath.Join(filepath.Dir(o.FIFO), "ser.db")
		o.DBURL = dbURL
	})
	opts := srv.inst.Server.Options()
	sc := &serctlTool{t: t, bin: bin, env: []string{
		"SER_FIFO=" + opts.FIFO, "SER_FIFO_DIR=" + opts.FIFODir, "SER_DB_URL=" + dbURL,
		"SIP_DOMAIN=foo.bar", "SER_FIFO_TIMEOUT=20",
	}}

	t.Run("users", func(t *testing.T) {
		sc.t = t
		sc.ok(`^new user added\n$`, "add", "newuser", "secret", "newuser@foo.bar")
		st, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.Subscriber(ctx, "newuser", "foo.bar")
		if err != nil {
			t.Fatal(err)
		}
		if u.HA1 != "f9f7cf38559dc6c03aa216a18e6689a9" || u.HA1B != "227c06efbafef807746ee60e354f9b6c" ||
			u.Password != "" /* no plain text at rest */ || u.Email != "newuser@foo.bar" {
			t.Errorf("subscriber row %+v", u)
		}
		sc.fails("stderr", "ERROR: user already exists", "add", "newuser", "other", "x@foo.bar")
		sc.fails("stderr", "ERROR: non-existent user", "passwd", "nobody", "x")
		sc.fails("stderr", "ERROR: non-existent user", "acl", "grant", "nobody", "int")
		sc.ok(`^password change succeeded\n$`, "passwd", "newuser", "secret")
	})

	t.Run("register with the password", func(t *testing.T) {
		sc.t = t
		testutil.RequireTool(t, "sipsak")
		aor := fmt.Sprintf("sip:newuser@127.0.0.1:%d", port)
		out, code := testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-C", "sip:newuser@127.0.0.1:5099",
			"-x", "3600", "-u", "newuser", "-a", "wrong", "-s", aor, "-vv")
		if code == 0 {
			t.Fatalf("REGISTER with a wrong password succeeded:\n%s", out)
		}
		// -u: sipsak 0.9.8 puts "newuser@" in the digest username otherwise.
		out, code = testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-C", "sip:newuser@127.0.0.1:5099",
			"-x", "3600", "-u", "newuser", "-a", "secret", "-s", aor, "-vv")
		if code != 0 {
			t.Fatalf("REGISTER with the password set by serctl: exit %d\n%s", code, out)
		}
		sc.ok(`^<sip:newuser@127\.0\.0\.1:5099>;q=[^;]*;expires=3\d\d\d\n$`, "ul", "show", "newuser")
		sc.ok(`(?m)^'newuser'$`, "online")
		// usrloc db_mode 1 wrote the contact through to the database.
		sc.ok(`(?s)\| newuser@foo\.bar +\|.*\| newuser +\| +\| sip:newuser@127\.0\.0\.1:5099 .*Note: Due to usage of cache`,
			"showdb", "newuser")
	})

	t.Run("acl", func(t *testing.T) {
		sc.t = t
		inGroup := func() string {
			u := newUA(t)
			u.send(srv.udpAddr(), fmt.Sprintf(`OPTIONS sip:grp@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bKgrp%d
Max-Forwards: 70
From: <sip:newuser@foo.bar>;tag=g1
To: <sip:grp@%s>
Call-ID: grp-%d
CSeq: 1 OPTIONS
Content-Length: 0

`, srv.addr(), u.hostport(), time.Now().UnixNano(), srv.addr(), time.Now().UnixNano()))
			r, _ := u.recv()
			return firstLine(r)
		}
		if got := inGroup(); got != "SIP/2.0 403 Not in int" {
			t.Fatalf("before grant: %s", got)
		}
		r := sc.run("acl", "grant", "newuser", "int", "nosuchgroup")
		if r.code != 0 || !regexp.MustCompile(`\| newuser  \| foo\.bar \| int \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \|`).MatchString(r.stdout) ||
			!strings.Contains(r.stderr, "WARNING: Invalid privilege: nosuchgroup ignored") {
			t.Fatalf("acl grant: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got := inGroup(); got != "SIP/2.0 200 Member of int" {
			t.Errorf("after grant: %s", got)
		}
		sc.ok(`(?s)^\+-+\+-+\+-+\+-+\+\n\| username \| domain  \| grp \| last_modified +\|\n.*\| newuser  \| foo\.bar \| int \|`,
			"acl", "show", "newuser")
		sc.ok(`^$`, "acl", "revoke", "newuser", "int")
		if got := inGroup(); got != "SIP/2.0 403 Not in int" {
			t.Errorf("after revoke: %s", got)
		}
	})

	t.Run("alias", func(t *testing.T) {
		sc.t = t
		sc.ok(`^sip:newuser@foo\.bar\n200 Added to table\n\('1234','sip:newuser@foo\.bar'\) to 'aliases'\n$`,
			"alias", "add", "1234", "sip:newuser@foo.bar")
		sc.ok(`^<sip:newuser@foo\.bar>;q=1;expires=-?\d+\n$`, "alias", "show", "1234")
		sc.fails("stderr", "ERROR: alias 1234@foo.bar exists already", "alias", "add", "1234", "sip:other@foo.bar")
		sc.fails("stderr", "ERROR: user name and alias overlap", "add", "1234", "pw", "x@foo.bar")
		sc.fails("stderr", "ERROR: overlap of alias with an existing subscriber name", "alias", "add", "newuser", "sip:x@foo.bar")
		sc.ok(`^200 user \(aliases, 1234(@foo\.bar)?\) deleted\n$`, "alias", "rm", "1234")
		sc.fails("stdout", "404 Username 1234@foo.bar in table aliases not found", "alias", "show", "1234")
	})

	t.Run("permanent contact", func(t *testing.T) {
		sc.t = t
		sc.ok(`^sip:666@gateway\.foo\.bar\n200 Added to table\n\('newuser','sip:666@gateway\.foo\.bar'\) to 'location'\n$`,
			"ul", "add", "newuser", "sip:666@gateway.foo.bar")
		sc.ok(`(?m)^<sip:666@gateway\.foo\.bar>;q=1;expires=-?\d+$`, "ul", "show", "newuser")
		sc.ok(`^200 user \(location, newuser(@foo\.bar)?\) deleted\n$`, "ul", "rm", "newuser")
		sc.fails("stdout", "404 Username newuser@foo.bar in table location not found", "ul", "show", "newuser")
		sc.fails("stderr", "ERROR: 666 is not a valid URI", "ul", "add", "newuser", "666")
	})

	t.Run("server health", func(t *testing.T) {
		sc.t = t
		sc.ok(`(?m)^0\t\d+\tattendant\n(.*\n)*\d+\t\d+\tfifo server$`, "ps")
		which := sc.ok(`(?m)^ul_add$`, "fifo", "which")
		for _, cmd := range []string{"t_uac_dlg", "ul_show_contact", "sl_stats", "uptime"} {
			if !strings.Contains(which, cmd+"\n") {
				t.Errorf("fifo which lacks %s:\n%s", cmd, which)
			}
		}
		sc.ok(`^Now: .*\nUp Since: .*\nUp time: \d+ \[sec\]\n$`, "fifo", "uptime")
		sc.fails("stdout", "500 command 'foobar' not available", "fifo", "foobar")

		ua := answeringUA(t)
		uaPort := ua.LocalAddr().(*net.UDPAddr).Port
		sc.ok(`^200 OK\n$`, "ping", fmt.Sprintf("sip:phone@127.0.0.1:%d", uaPort))
		sc.fails("stdout", "486 Busy Here", "ping", fmt.Sprintf("sip:busy@127.0.0.1:%d", uaPort))

		out := sc.ok(`^\[cycle #: 1; if constant make sure server lives and fifo is on\]\n`+
			`Server: Sip EXpress router \(.*\)\r\n`+
			`Now: .*\nUp Since: .*\nUp time: \d+ \[sec\]\n\n`+
			`Transaction Statistics\nCurrent: \d+ \(\d+ waiting\) Total: \d+ \(\d+ local\) +\n`+
			`Replied localy: \d+ +\nCompletion status 6xx: \d+, 5xx: \d+, 4xx: \d+, 3xx: \d+,2xx: \d+ +\n\n`+
			`Stateless Server Statistics\n200: \d+ 202: \d+ 2xx: \d+ +\n(.*\n)*failures: \d+ +\n\n`+
			`UsrLoc Stats\nDomain Registered Expired\n('\w+' \d+ \d+\n)+$`, "monitor", "1")
		if !strings.Contains(out, "'location' ") || !strings.Contains(out, "'aliases' ") {
			t.Errorf("ul_stats lacks the tables:\n%s", out)
		}
	})

	t.Run("rm", func(t *testing.T) {
		sc.t = t
		sc.ok(`^user removed\n$`, "rm", "newuser")
		sc.fails("stderr", "ERROR: non-existent user", "rm", "newuser")
	})
}

// TestSerctlStartStop starts the ser binary with serctl start (fork=yes:
// ser puts itself in the background), talks to it, and stops it.
func TestSerctlStartStop(t *testing.T) {
	dir := t.TempDir()
	bin := buildSerctl(t, dir)
	port := testutil.FreePort(t)
	cfg := writeFile(t, "ser.cfg", fmt.Sprintf(`fork=yes
children=1
listen=127.0.0.1
port=%d
fifo="%s/ser_fifo"
fifo_dir="%s/"
db_url="sqlite://%s/ser.db"
loadmodule "modules/sl/sl.so"
route {
	sl_send_reply("404", "Not Found");
}
`, port, dir, dir, dir))
	pidFile := filepath.Join(dir, "ser.pid")
	sc := &serctlTool{t: t, bin: bin, env: []string{
		"SER_BIN=" + serBin, "SER_CFG=" + cfg, "SER_PID_FILE=" + pidFile,
		"SER_FIFO=" + dir + "/ser_fifo", "SER_FIFO_DIR=" + dir + "/", "SER_FIFO_TIMEOUT=20",
	}}
	out := sc.ok(`^\nStarting SER : started pid\(\d+\)\n$`, "start")
	var pid int
	fmt.Sscanf(strings.TrimSpace(out), "Starting SER : started pid(%d)", &pid)
	t.Cleanup(func() {
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if r := options(t, fmt.Sprintf("127.0.0.1:%d", port)); !strings.HasPrefix(r, "SIP/2.0 404") {
		t.Fatalf("started server does not answer:\n%s", r)
	}
	sc.ok(fmt.Sprintf(`(?m)^0\t%d\tattendant$`, pid), "ps")
	sc.fails("stderr", "already running?", "start")
	sc.ok(`^Stopping SER : stopped\n$`, "stop")
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}
	sc.fails("stderr", "is ser running?", "ps")
	sc.fails("stderr", "No PID file found!", "stop")
}
