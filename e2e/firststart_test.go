package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

var (
	adminPasswordRE = regexp.MustCompile(`user=admin@example\.com password=(\S+)`)
	csrfRE          = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// TestFirstStartPortTaken (issue 14): the first start prints the
// administrator's one-time password and then fails because the HTTP port
// is taken; the next start prints a new, usable one-time password (the
// old one is void), the console accepts it and holds the login on the
// password page; the database, its WAL and shared memory are 0600.
func TestFirstStartPortTaken(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := taken.Addr().String()
	cfg := writeFile(t, "ser.cfg", fmt.Sprintf(`
fork=no
log_stderror=yes
listen=udp:127.0.0.1:%d
fifo="%[2]s/ser_fifo"
fifo_dir="%[2]s/"
db_url="sqlite://%[2]s/ser.db"
http_listen="%[3]s"
sip_domain="example.com"
loadmodule "modules/sl/sl.so"
route { sl_send_reply("404", "Not Found"); }
`, testutil.FreePort(t), dir, httpAddr))

	out, code := testutil.Run(t, 30*time.Second, dir, serBin, "-f", cfg)
	taken.Close()
	m := adminPasswordRE.FindStringSubmatch(out)
	if code == 0 || m == nil {
		t.Fatalf("first start with the HTTP port taken: exit %d (want a failure after the password)\n%s", code, out)
	}
	first := m[1]

	p := testutil.Start(t, dir, serBin, "-f", cfg)
	var second string
	for deadline := time.Now().Add(20 * time.Second); ; {
		o := p.Output()
		if m := adminPasswordRE.FindStringSubmatch(o); m != nil {
			if c, err := net.Dial("tcp", httpAddr); err == nil {
				c.Close()
				second = m[1]
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second start printed no new one-time password:\n%s", o)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if second == first {
		t.Fatalf("the same password twice: %s", first)
	}
	if !strings.Contains(p.Output(), "first start not completed") {
		t.Errorf("the second start does not say why it prints a password:\n%s", p.Output())
	}

	login := func(pw string) (*http.Response, string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get("http://" + httpAddr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfRE.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no csrf token on the login page:\n%s", body)
		}
		resp, err = c.PostForm("http://"+httpAddr+"/login", url.Values{
			"username": {"admin"}, "password": {pw}, "csrf": {string(m[1])}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	if resp, body := login(first); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Wrong user name or password") {
		t.Errorf("the first start's password still works: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := login(second); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password" {
		t.Errorf("login with the second start's password: %d Location %q, want 303 to /password", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, f := range []string{"ser.db", "ser.db-wal", "ser.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", f, fi.Mode().Perm())
		}
	}
	p.Kill()
}
