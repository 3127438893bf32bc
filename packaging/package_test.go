// Package packaging holds the Debian packaging of ser (build-deb.sh, the
// systemd unit, man pages, bash completion) and its test, which builds
// the package, installs it into a temporary root and runs what it
// installed.
package packaging

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// TestDebianPackage builds the .deb with build-deb.sh, extracts it into a
// temporary root (dpkg-deb -x, then the postinst with DPKG_ROOT, which
// makes /etc/ser/ser.cfg there), and checks what an administrator gets:
// ser -V, ser -c on the installed configuration, the installed server
// started on loopback ports (READY=1 over NOTIFY_SOCKET after its sockets
// are up, an answer to OPTIONS, serctl through the FIFO, STOPPING=1 at
// SIGTERM), man pages that render without warnings and name every global
// option, a unit systemd-analyze accepts, and serctl's bash completion.
func TestDebianPackage(t *testing.T) {
	testutil.RequireTool(t, "dpkg-deb")
	dist := t.TempDir()
	out, code := testutil.Run(t, 20*time.Minute, "", "./build-deb.sh", dist)
	if code != 0 {
		t.Fatalf("build-deb.sh: exit %d\n%s", code, out)
	}
	deb := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("build-deb.sh printed no package path:\n%s", out)
	}
	fields, code := testutil.Run(t, time.Minute, "", "dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends")
	if code != 0 || !strings.Contains(fields, "Package: ser\n") || !strings.Contains(fields, "Version: 0.9.6") {
		t.Fatalf("control fields: %s", fields)
	}

	root := t.TempDir()
	for _, args := range [][]string{{"-x", deb, root}, {"-e", deb, filepath.Join(root, "DEBIAN")}} {
		if out, code := testutil.Run(t, time.Minute, "", "dpkg-deb", args...); code != 0 {
			t.Fatalf("dpkg-deb %v: %s", args, out)
		}
	}
	postinst := exec.Command("sh", filepath.Join(root, "DEBIAN", "postinst"), "configure")
	postinst.Env = append(os.Environ(), "DPKG_ROOT="+root)
	if out, err := postinst.CombinedOutput(); err != nil {
		t.Fatalf("postinst: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/sbin/ser", "usr/sbin/serctl", "usr/lib/ser/serctl", "lib/systemd/system/ser.service",
		"etc/ser/ser.cfg", "var/lib/ser", "usr/share/man/man8/ser.8.gz", "usr/share/man/man8/serctl.8.gz",
		"usr/share/man/man5/ser.cfg.5.gz", "usr/share/bash-completion/completions/serctl"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: /%s", f)
		}
	}
	ser := filepath.Join(root, "usr/sbin/ser")
	cfg := filepath.Join(root, "etc/ser/ser.cfg")

	t.Run("version", func(t *testing.T) {
		for _, flag := range []string{"-V", "--version"} {
			out, code := testutil.Run(t, time.Minute, "", ser, flag)
			if code != 0 || !strings.HasPrefix(out, "version: ser 0.9.6") {
				t.Errorf("ser %s: exit %d\n%s", flag, code, out)
			}
		}
	})
	t.Run("config", func(t *testing.T) {
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("@DOMAIN")) || !regexp.MustCompile(`(?m)^alias="[a-z0-9.-]+"`).Match(b) {
			t.Errorf("postinst left the domain unset:\n%s", b)
		}
		out, code := testutil.Run(t, time.Minute, "", ser, "-c", "-f", cfg)
		if code != 0 || !strings.Contains(out, "config file ok") {
			t.Errorf("ser -c -f /etc/ser/ser.cfg: exit %d\n%s", code, out)
		}
		// The configuration's fifo= wins over -i, as in SER, and says so.
		out, code = testutil.Run(t, time.Minute, "", ser, "-c", "-i", "/tmp/other_fifo", "-f", cfg)
		if want := "command line -i /tmp/other_fifo overridden by the config file's fifo = /run/ser/ser_fifo"; code != 0 || !strings.Contains(out, want) {
			t.Errorf("ser -c -i: exit %d, want %q in\n%s", code, want, out)
		}
	})
	t.Run("run", func(t *testing.T) { runInstalled(t, root, ser, cfg) })
	t.Run("man", func(t *testing.T) { checkManPages(t, root) })
	t.Run("unit", func(t *testing.T) {
		testutil.RequireTool(t, "systemd-analyze")
		b, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/ser.service"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
			"LimitNOFILE=", "StateDirectory=ser", "RuntimeDirectory=ser"} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("unit lacks %s", want)
			}
		}
		// Verify a copy whose commands are the installed binaries (the man
		// pages of Documentation= are checked with groff above).
		unit := filepath.Join(t.TempDir(), "ser.service")
		if err := os.WriteFile(unit, bytes.ReplaceAll(b, []byte("/usr/sbin/ser"), []byte(ser)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("systemd-analyze", "verify", "--man=no", unit)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
	t.Run("completion", func(t *testing.T) {
		comp := filepath.Join(root, "usr/share/bash-completion/completions/serctl")
		for line, want := range map[string]string{
			"serctl a":            "acl add alias",
			"serctl re":           "reload restart",
			"serctl acl ":         "grant revoke show",
			"serctl acl grant x ": "free-pstn int ld local prepaid voicemail",
			"serctl -d u ul s":    "show",
			"serctl --":           "--cfg --db --fifo --fifo-dir --pid-file --ser-bin",
		} {
			script := fmt.Sprintf(`source %q; COMP_LINE=%q; read -ra COMP_WORDS <<<"$COMP_LINE"; [[ $COMP_LINE == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _serctl; printf '%%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '`, comp, line)
			out, err := exec.Command("bash", "-c", script).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("%q completes to %q (%v), want %q", line, strings.TrimSpace(string(out)), err, want)
			}
		}
	})
}

// runInstalled starts the installed ser on a copy of the installed
// configuration moved to loopback ports and a temporary directory (the
// configuration's options win over the command line, as in SER).
func runInstalled(t *testing.T, root, ser, cfg string) {
	dir, err := os.MkdirTemp("", "serpkg") // short: unix socket paths
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sipPort, httpPort := testutil.FreePort(t), testutil.FreePort(t)
	text := string(b)
	for old, repl := range map[string]string{
		`fifo="/run/ser/ser_fifo"`:              fmt.Sprintf("fifo=%q", filepath.Join(dir, "ser_fifo")),
		`fifo_dir="/run/ser/"`:                  fmt.Sprintf("fifo_dir=%q", dir+"/"),
		`db_url="sqlite:///var/lib/ser/ser.db"`: fmt.Sprintf("db_url=%q", "sqlite://"+filepath.Join(dir, "ser.db")),
		"log_stderror=no":                       "log_stderror=yes",
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("installed config lacks %s", old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	text += fmt.Sprintf("listen=udp:127.0.0.1:%d\nhttp_listen=\"127.0.0.1:%d\"\n", sipPort, httpPort)
	run := filepath.Join(dir, "ser.cfg")
	if err := os.WriteFile(run, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	notify := filepath.Join(dir, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	t.Setenv("NOTIFY_SOCKET", notify)
	p := testutil.Start(t, dir, ser, "-D", "-f", run)
	readNotify := func(want string) string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("no %s on NOTIFY_SOCKET: %v\n%s", want, err, p.Output())
		}
		got := string(buf[:n])
		if !strings.Contains(got, want) {
			t.Fatalf("NOTIFY_SOCKET got %q, want %s\n%s", got, want, p.Output())
		}
		return got
	}
	ready := readNotify("READY=1")
	if !strings.Contains(ready, fmt.Sprintf("MAINPID=%d", p.Cmd.Process.Pid)) {
		t.Errorf("READY message %q lacks MAINPID=%d", ready, p.Cmd.Process.Pid)
	}

	// Ready means serving: an OPTIONS is answered at once, the FIFO
	// answers the installed serctl and the HTTP listener accepts.
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", sipPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	la := c.LocalAddr().(*net.UDPAddr)
	fmt.Fprintf(c, "OPTIONS sip:nobody@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKpkg1;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:pkg@127.0.0.1>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: pkg-test-1\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", sipPort, la.Port)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 8192)
	n, err := c.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") || !strings.Contains(string(buf[:n]), "pkg-test-1") {
		t.Fatalf("OPTIONS: %v %q\n%s", err, buf[:n], p.Output())
	}
	serctl := exec.Command(filepath.Join(root, "usr/sbin/serctl"), "fifo", "version")
	serctl.Env = append(os.Environ(), "SER_FIFO="+filepath.Join(dir, "ser_fifo"), "SER_FIFO_DIR="+dir+"/",
		"SER_DB_URL=sqlite://"+filepath.Join(dir, "ser.db"))
	if out, err := serctl.CombinedOutput(); err != nil || !strings.Contains(string(out), "0.9.6") {
		t.Errorf("installed serctl fifo version: %v\n%s", err, out)
	}
	if hc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort)); err != nil {
		t.Errorf("HTTP listener not up at READY=1: %v", err)
	} else {
		hc.Close()
	}

	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	readNotify("STOPPING=1")
	if code := p.Wait(30 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM\n%s", code, p.Output())
	}
}

// checkManPages renders the installed man pages with groff, warnings on
// (-ww), and checks that ser.cfg(5) documents every global option the
// server accepts.
func checkManPages(t *testing.T, root string) {
	groff := testutil.RequireTool(t, "groff")
	var cfg5 string
	for _, page := range []string{"man8/ser.8.gz", "man8/serctl.8.gz", "man5/ser.cfg.5.gz"} {
		f, err := os.Open(filepath.Join(root, "usr/share/man", page))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		src, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(page, ".5.gz") {
			cfg5 = string(src)
		}
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = bytes.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", page, err, out)
		}
	}
	opts, err := os.ReadFile("../core/options.go")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^\t"([a-z_0-9]+)":`).FindAllStringSubmatch(string(opts), -1)
	if len(names) < 50 {
		t.Fatalf("found only %d options in core/options.go", len(names))
	}
	for _, m := range names {
		if !regexp.MustCompile(`\\fB` + m[1] + `\\fP|\.BR? ` + m[1] + `\b`).MatchString(cfg5) {
			t.Errorf("ser.cfg(5) does not document the option %s", m[1])
		}
	}
	// The options core/options.go accepts without effect (ignoredBool,
	// ignoredInt, ignoredStr) are the ones the page lists as such.
	i := strings.Index(cfg5, ".SS Accepted without effect")
	j := strings.Index(cfg5, ".SH MODULES")
	if i < 0 || j < i {
		t.Fatal("ser.cfg(5) has no \"Accepted without effect\" section")
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\.BR ([a-z_0-9]+)[,.]$`).FindAllStringSubmatch(cfg5[i:j], -1) {
		listed[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^\t"([a-z_0-9]+)":\s+ignored(?:Bool|Int|Str)\(`).FindAllStringSubmatch(string(opts), -1) {
		if m[1] == "mem_log" || m[1] == "memlog" {
			continue // documented with the core options
		}
		if !listed[m[1]] {
			t.Errorf("ser.cfg(5): %s has no effect but is not listed as such", m[1])
		}
		delete(listed, m[1])
	}
	for name := range listed {
		t.Errorf("ser.cfg(5) lists %s as without effect, but core/options.go implements it", name)
	}
}
