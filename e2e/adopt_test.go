package e2e

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"ser/internal/testing/mariadb"
	"ser/internal/testing/serdb"
)

// adoptCfg is a SER 0.9 registrar as an operator of the SER database
// runs it, with SER 0.9's module names: digest authentication (auth,
// auth_db) against subscriber's ha1 (SER's defaults, spelled out:
// calculate_ha1 off, password_column ha1), usrloc write-through
// (db_mode 1) with use_domain (SER's rows carry their domain), aliases,
// group checks; OPTIONS to sip:grp@ answer whether
// the caller is in group "ld".
const adoptCfg = `
debug=3
fork=no
log_stderror=yes
alias="example.org"
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/maxfwd/maxfwd.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/mysql/mysql.so"
loadmodule "modules/auth/auth.so"
loadmodule "modules/auth_db/auth_db.so"
loadmodule "modules/group/group.so"
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("usrloc", "db_mode", 1)
modparam("usrloc", "use_domain", 1)
modparam("usrloc", "timer_interval", 3600)
modparam("registrar", "use_domain", 1)

route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		break;
	};
	if (uri==myself) {
		if (method=="REGISTER") {
			if (!www_authorize("example.org", "subscriber")) {
				www_challenge("example.org", "0");
				break;
			};
			save("location");
			break;
		};
		if (method=="OPTIONS" && uri=~"^sip:grp@") {
			if (is_user_in("From", "ld")) {
				sl_send_reply("200", "Member of ld");
			} else {
				sl_send_reply("403", "Not in ld");
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

// serDatabase makes a SER 0.9 database (internal/testing/serdb) on engine
// "sqlite" or "mariadb" (a private server).
func serDatabase(t *testing.T, engine string) (string, *serdb.DB) {
	t.Helper()
	if engine == "mariadb" {
		return serdb.MariaDB(t, mariadb.Start(t))
	}
	return serdb.SQLite(t)
}

// TestAdoptSER09Database starts the ser binary on a database made as SER
// 0.9's ser_mysql.sh made it (SQLite and MariaDB) and uses every feature
// on it: ser comes up on the first start; SER's subscribers authenticate
// with SER's ha1 (carol has no clear-text password); SER's registrations
// and alias are served; a new registration survives a restart (usrloc
// db_mode 1) and the second start migrates nothing; XML-RPC; serctl lists
// SER's users and groups; the web console's pages, accounting with SER's
// acc rows included.
func TestAdoptSER09Database(t *testing.T) {
	for _, engine := range []string{"sqlite", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			dbURL, raw := serDatabase(t, engine)
			p := startSerBinaryDB(t, adoptCfg, dbURL)
			if !strings.Contains(p.proc.Output(), "applied migration") {
				t.Errorf("first start logged no migration:\n%s", tail(p.proc.Output()))
			}

			// Digest authentication with SER's ha1.
			u := newUA(t)
			if r := adoptRegister(t, u, p, "carol", "cinnamon", "adopt-carol", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
				t.Fatalf("REGISTER carol with SER's ha1: %s", firstLine(r))
			}
			if r := adoptRegister(t, u, p, "alice", "not-her-password", "adopt-alice", 1); !strings.HasPrefix(r, "SIP/2.0 401") {
				t.Fatalf("REGISTER alice with a wrong password: %s", firstLine(r))
			}
			// is_user_in on SER's grp rows.
			if r := adoptOptions(u, p, "alice"); !strings.HasPrefix(r, "SIP/2.0 200 Member of ld") {
				t.Errorf("OPTIONS from alice (in ld): %s", firstLine(r))
			}
			if r := adoptOptions(u, p, "bob"); !strings.HasPrefix(r, "SIP/2.0 403") {
				t.Errorf("OPTIONS from bob (not in ld): %s", firstLine(r))
			}

			// XML-RPC: SER's registrations were loaded (alice's, bob's
			// permanent one; carol's expired one replaced by hers).
			c, err := kolo.NewClient(p.url(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			show := func(aor string) string {
				t.Helper()
				var res map[string]any
				if err := c.Call("fifo.execute", map[string]any{"cmdname": "ul_show_contact",
					"cmdparams": []string{"location", aor}}, &res); err != nil {
					t.Fatalf("ul_show_contact %s: %v", aor, err)
				}
				return fmt.Sprint(res["code"], " ", res["output"])
			}
			if got := show("alice@example.org"); !strings.Contains(got, "<sip:alice@192.0.2.10:5060>") {
				t.Errorf("alice's SER registration: %s", got)
			}
			if got := show("bob@example.org"); !strings.Contains(got, "<sip:bob@192.0.2.20>") {
				t.Errorf("bob's permanent SER registration: %s", got)
			}
			if got := show("carol@example.org"); !strings.Contains(got, u.hostport()) || strings.Contains(got, "198.51.100.7") {
				t.Errorf("carol's registration: %s", got)
			}

			// usrloc db_mode 1: carol's registration is in SER's table and
			// comes back after a restart, which migrates nothing.
			if rows := raw.Rows(t, "location", "username", "contact"); !strings.Contains(strings.Join(rows, "\n"), "carol | sip:carol@"+u.hostport()) {
				t.Errorf("location rows after carol's REGISTER: %q", rows)
			}
			p.proc.Cmd.Process.Signal(syscall.SIGTERM)
			if code := p.proc.Wait(20 * time.Second); code != 0 {
				t.Fatalf("ser exit %d:\n%s", code, tail(p.proc.Output()))
			}
			p.start(t)
			if strings.Contains(p.proc.Output(), "applied migration") {
				t.Errorf("second start applied migrations:\n%s", tail(p.proc.Output()))
			}
			if got := show("carol@example.org"); !strings.Contains(got, u.hostport()) {
				t.Errorf("carol's registration after a restart: %s", got)
			}

			// serctl on SER's database.
			sc := &serctlTool{t: t, bin: buildSerctl(t, t.TempDir()), env: []string{
				"SER_FIFO=" + p.fifo, "SER_FIFO_DIR=" + p.dir + "/", "SER_DB_URL=" + dbURL,
				"SIP_DOMAIN=example.org", "SER_FIFO_TIMEOUT=20"}}
			out := sc.ok(`alice`, "showdb")
			for _, want := range []string{"alice@example.org", "bob@example.org", "carol@example.org", "adopt-carol"} {
				if !strings.Contains(out, want) {
					t.Errorf("serctl showdb lacks %q:\n%s", want, out)
				}
			}
			sc.ok(`(?s)alice +\| example.org \| ld .*alice +\| example.org \| local `, "acl", "show", "alice")
			sc.ok(`sip:alice@192.0.2.10:5060`, "ul", "show", "alice")

			// The web console on SER's database: admin logs in with
			// ser_mysql.sh's password, sees SER's users and accounting.
			w := newWebClient(t, "http://"+p.httpAddr)
			w.login("admin", "heslo")
			w.get("/admin/users").want(t, "alice", "carol", "Liddell")
			w.get("/admin/acc").want(t, "a84b4c76e66710@pc33.example.org", "1j9FpLxk3uxtm8tn@192.0.2.20")
			w.get("/admin/privileges").want(t, "admin")
			w.get("/admin/online").want(t, "alice")
			w.get("/admin/aliases").want(t, "7001", "sip:alice@example.org")
			w.get("/admin/acl").want(t, "alice")
			w.get("/admin/lcr").want(t)
			w.get("/admin/").want(t)
			w.get("/admin/users/edit?u=bob&d=example.org").want(t, "Müller")
			a := newWebClient(t, "http://"+p.httpAddr)
			a.login("alice", "wonderland")
			a.get("/account").want(t, "Alice", "alice@example.org")
			a.get("/calls?table=acc").want(t, "a84b4c76e66710@pc33.example.org")
			a.get("/phonebook").want(t, "Müller")
			// carol has only SER's ha1 (no clear-text password): the
			// console checks ha1, she sees her missed call.
			c2 := newWebClient(t, "http://"+p.httpAddr)
			c2.login("carol", "cinnamon")
			c2.get("/calls?table=missed").want(t, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.20")
		})
	}
}

// adoptRegister registers user (contact u) at p in domain example.org,
// answering the digest challenge with password.
func adoptRegister(t *testing.T, u *ua, p *serProcess, user, password, callID string, cseq int) string {
	t.Helper()
	send := func(cseq int, auth string) string {
		if auth != "" {
			auth += "\n"
		}
		u.send(p.udpAddr(), fmt.Sprintf(`REGISTER sip:example.org SIP/2.0
Via: SIP/2.0/UDP %[1]s;branch=z9hG4bKad%[3]s%[4]d;rport
Max-Forwards: 70
From: <sip:%[2]s@example.org>;tag=ad%[4]d
To: <sip:%[2]s@example.org>
Call-ID: %[3]s
CSeq: %[4]d REGISTER
Contact: <sip:%[2]s@%[1]s>
Expires: 600
%[5]sContent-Length: 0

`, u.hostport(), user, callID, cseq, auth))
		r, _ := u.recv()
		return r
	}
	r := send(cseq, "")
	if !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("REGISTER %s without credentials: %s", user, firstLine(r))
	}
	return send(cseq+1, digestAnswer(t, challengeIn(t, r), user, password, "REGISTER", "sip:example.org"))
}

// adoptOptions sends an OPTIONS to sip:grp@example.org from user.
func adoptOptions(u *ua, p *serProcess, user string) string {
	u.send(p.udpAddr(), fmt.Sprintf(`OPTIONS sip:grp@example.org SIP/2.0
Via: SIP/2.0/UDP %[1]s;branch=z9hG4bKgrp%[2]s;rport
Max-Forwards: 70
From: <sip:%[2]s@example.org>;tag=g1
To: <sip:grp@example.org>
Call-ID: grp-%[2]s
CSeq: 1 OPTIONS
Content-Length: 0

`, u.hostport(), user))
	r, _ := u.recv()
	return r
}

// webClient is an HTTP client with cookies for the web console.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// webPage is a fetched page.
type webPage struct {
	status int
	body   string
}

var webCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (w *webClient) do(req *http.Request) webPage {
	w.t.Helper()
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	p := webPage{status: resp.StatusCode, body: b.String()}
	if m := webCSRF.FindStringSubmatch(p.body); m != nil {
		w.csrf = m[1]
	}
	return p
}

func (w *webClient) get(path string) webPage {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.base+path, nil)
	return w.do(req)
}

// login logs in (following the redirect) and fails the test otherwise.
func (w *webClient) login(user, password string) {
	w.t.Helper()
	w.get("/login")
	v := url.Values{"csrf": {w.csrf}, "username": {user}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, w.base+"/login", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := w.do(req)
	if p.status != http.StatusOK || strings.Contains(p.body, "Wrong user name or password") || !strings.Contains(p.body, "Log out") {
		w.t.Fatalf("login %s: status %d\n%s", user, p.status, p.body)
	}
}

// want fails unless the page is 200 and holds every string.
func (p webPage) want(t *testing.T, contains ...string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.body)
		}
	}
}
