package main

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/rpc"
	"ser/core/store"
	"ser/fifo"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(c *config)
		rest    []string
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"ps"},
			rest: []string{"ps"},
		},
		{
			name: "environment",
			env: map[string]string{"SER_FIFO": "/run/ser/fifo", "SER_FIFO_DIR": "/run/ser/", "SER_DB_URL": "sqlite:///var/lib/ser.db",
				"SIP_DOMAIN": "foo.bar", "WATCH_PERIOD": "0.5", "SER_PID_FILE": "/run/ser.pid", "SER_BIN": "/opt/ser",
				"SER_CFG": "/etc/ser.cfg", "UL_TABLE": "loc", "ALS_TABLE": "als", "ACL_GROUPS": "a b", "VERIFY_ACL": "0",
				"SER_FIFO_TIMEOUT": "5", "STORE_PLAINTEXT_PASSWORDS": "1", "SER_DB_FILE_MODE": "0640"},
			args: []string{"monitor", "3"},
			rest: []string{"monitor", "3"},
			want: func(c *config) {
				c.fifo, c.fifoDir, c.dbURL, c.domain = "/run/ser/fifo", "/run/ser/", "sqlite:///var/lib/ser.db", "foo.bar"
				c.watchPeriod, c.pidFile, c.serBin, c.serCfg = 500*time.Millisecond, "/run/ser.pid", "/opt/ser", "/etc/ser.cfg"
				c.ulTable, c.aliasTable, c.aclGroups, c.verifyACL = "loc", "als", []string{"a", "b"}, false
				c.fifoTimeout = 5 * time.Second
				c.plaintext, c.dbFileMode = true, 0o640
			},
		},
		{
			name: "flags override the environment",
			env:  map[string]string{"SER_DB_URL": "sqlite://env.db", "SER_FIFO": "/env/fifo"},
			args: []string{"-d", "sqlite://flag.db", "--fifo=/flag/fifo", "--fifo-dir", "/flag/", "--pid-file=/p",
				"--ser-bin", "/b", "-f", "/c.cfg", "acl", "show", "-d"},
			rest: []string{"acl", "show", "-d"},
			want: func(c *config) {
				c.dbURL, c.fifo, c.fifoDir, c.pidFile, c.serBin, c.serCfg = "sqlite://flag.db", "/flag/fifo", "/flag/", "/p", "/b", "/c.cfg"
			},
		},
		{
			name: "--db= and --",
			args: []string{"--db=:memory:", "--", "-weird"},
			rest: []string{"-weird"},
			want: func(c *config) { c.dbURL = ":memory:" },
		},
		{
			name: "help flag",
			args: []string{"-h"},
			rest: []string{},
			want: func(c *config) { c.help = true },
		},
		{
			name: "SQL_* build a mysql URL",
			env:  map[string]string{"SQL_HOST": "dbhost", "SQL_USER": "admin", "PW": "p@ss", "SQL_DB": "sip"},
			args: []string{"add"},
			rest: []string{"add"},
			want: func(c *config) { c.dbURL = "mysql://admin:p%40ss@dbhost/sip" },
		},
		{
			name: "SQL_HOST alone: SER's user and database",
			env:  map[string]string{"SQL_HOST": "localhost"},
			args: []string{"add"},
			rest: []string{"add"},
			want: func(c *config) { c.dbURL = "mysql://ser@localhost/ser" },
		},
		{
			name: "SER_DB_URL wins over SQL_*",
			env:  map[string]string{"SQL_HOST": "localhost", "SER_DB_URL": "x.db"},
			args: []string{"add"},
			rest: []string{"add"},
			want: func(c *config) { c.dbURL = "x.db" },
		},
		{name: "unknown option", args: []string{"--nope"}, wantErr: "unknown option --nope"},
		{name: "missing value", args: []string{"--fifo"}, wantErr: "option --fifo needs a value"},
		{name: "bad WATCH_PERIOD", env: map[string]string{"WATCH_PERIOD": "soon"}, wantErr: `WATCH_PERIOD="soon"`},
		{name: "negative timeout", env: map[string]string{"SER_FIFO_TIMEOUT": "-1"}, wantErr: "SER_FIFO_TIMEOUT"},
		{name: "world-readable database mode", env: map[string]string{"SER_DB_FILE_MODE": "0644"}, wantErr: "SER_DB_FILE_MODE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, rest, err := parseConfig(tc.args, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := config{
				fifo: "/tmp/ser_fifo", fifoDir: "/tmp/", fifoTimeout: 60 * time.Second, dbURL: "sqlite://ser.db",
				watchPeriod: 2 * time.Second, pidFile: "/var/run/ser.pid", ulTable: "location", aliasTable: "aliases",
				aclGroups: []string{"local", "ld", "int", "voicemail", "free-pstn", "prepaid"}, verifyACL: true,
				dbFileMode: 0o600,
			}
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("config\n got %+v\nwant %+v", c, want)
			}
			if !reflect.DeepEqual(rest, tc.rest) {
				t.Errorf("rest = %q, want %q", rest, tc.rest)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"RFC 2617 HA1", store.HA1("Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9"},
		{"admin guide user ha1", store.HA1("newuser", "foo.bar", "secret"), "f9f7cf38559dc6c03aa216a18e6689a9"},
		{"admin guide user ha1b", store.HA1B("newuser", "foo.bar", "foo.bar", "secret"), "227c06efbafef807746ee60e354f9b6c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

func TestSetUser(t *testing.T) {
	tests := []struct {
		name, domain, arg, user, dom, err string
	}{
		{"default domain", "foo.bar", "john", "john", "foo.bar", ""},
		{"explicit domain", "foo.bar", "john@example.com", "john", "example.com", ""},
		{"explicit domain, no default", "", "john@example.com", "john", "example.com", ""},
		{"no domain: the host name", "", "john", "john", "host.test", ""},
		{"empty user", "foo.bar", "@foo.bar", "", "", "invalid user name"},
		{"line break", "foo.bar", "jo\nhn", "", "", "invalid user name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{cfg: config{domain: tc.domain}, hostname: func() (string, error) { return "Host.Test", nil }}
			user, dom, err := a.setUser(tc.arg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || user != tc.user || dom != tc.dom {
				t.Errorf("setUser(%q) = %q, %q, %v", tc.arg, user, dom, err)
			}
		})
	}
}

func TestFilterFL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"200 ok dropped", "200 ok\nNow: x\n", "Now: x\n"},
		{"200 OK dropped", "200 OK\n<sip:a@b>;q=1;expires=5\n", "<sip:a@b>;q=1;expires=5\n"},
		{"prefix match, as awk", "200 okay\nx\n", "x\n"},
		{"other 200 kept", "200 Added to table\n('a','b') to 'location'\n", "200 Added to table\n('a','b') to 'location'\n"},
		{"error kept", "404 Username a in table location not found\n", "404 Username a in table location not found\n"},
		{"newline added, as awk", "200 killing now...", "200 killing now...\n"},
		{"only status", "200 ok\n", ""},
		{"empty", "", ""},
		{"CR kept", "200 ok\nServer: x\r\n", "Server: x\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := filterFL(tc.in); got != tc.want {
				t.Errorf("filterFL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"sip:666@gateway.foo.bar", true},
		{"sips:john.doe@foo.bar", true},
		{"sip:gateway.foo.bar", true},
		{"sip:10.0.0.1:5060", true},
		{"sip:localhost", false},
		{"tel:+4930123", false},
		{"john@foo.bar", false},
		{"sip:a@b.c\nx", false},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			var out bytes.Buffer
			a := &app{stdout: &out}
			err := a.checkURI(tc.uri)
			if (err == nil) != tc.ok {
				t.Fatalf("checkURI(%q) = %v, want ok %v", tc.uri, err, tc.ok)
			}
			if tc.ok && out.String() != tc.uri+"\n" {
				t.Errorf("printed %q, want the URI (grep's echo)", out.String())
			}
		})
	}
}

func TestTable(t *testing.T) {
	tb := newTable("name", "n>", "ü")
	tb.add("a", "1", "x")
	tb.add("longer", "100", "äöü")
	var b bytes.Buffer
	tb.write(&b)
	want := `+--------+-----+-----+
| name   | n   | ü   |
+--------+-----+-----+
| a      |   1 | x   |
| longer | 100 | äöü |
+--------+-----+-----+
`
	if b.String() != want {
		t.Errorf("table\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	newTable("x").write(&b)
	if b.Len() != 0 {
		t.Errorf("empty table printed %q", b.String())
	}
}

func TestVersionMatchesServer(t *testing.T) {
	if Version != core.Version {
		t.Errorf("serctl version %s, server %s", Version, core.Version)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"mysql://ser:heslo@db/ser": "mysql://ser:xxxxx@db/ser",
		"sqlite://ser.db":          "sqlite://ser.db",
		"/var/lib/ser.db":          "/var/lib/ser.db",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRealFIFO runs serctl's FIFO client against the FIFO server: the
// reply FIFO goes to SER_FIFO_DIR, the server's fifo_dir.
func TestRealFIFO(t *testing.T) {
	dir := t.TempDir()
	reg := rpc.NewRegistry()
	reg.MustRegister(rpc.Command{Name: "uptime", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
		return rpc.Raw("200 ok\nUp time: 3 [sec]\n")
	}}, rpc.Command{Name: "echo", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
		var lines []string
		for {
			l, ok := req.Params.Line()
			if !ok {
				break
			}
			lines = append(lines, l)
		}
		return rpc.Raw("200 ok\n" + strings.Join(lines, "|") + "\n")
	}})
	srv, err := fifo.Listen(fifo.Config{Path: filepath.Join(dir, "ser_fifo"), Dir: dir + "/"}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{"SER_FIFO": srv.Path(), "SER_FIFO_DIR": dir + "/", "SER_FIFO_TIMEOUT": "5"}
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		a := &app{argv0: "serctl", stdout: &out, stderr: &errb, stdin: strings.NewReader(""),
			getenv: func(k string) string { return env[k] }}
		code := a.run(context.Background(), args)
		return out.String(), errb.String(), code
	}
	if out, errs, code := run("fifo", "uptime"); code != 0 || out != "Up time: 3 [sec]\n" {
		t.Errorf("fifo uptime: %d %q %q", code, out, errs)
	}
	if out, errs, code := run("fifo", "echo", "a", "b c", "d"); code != 0 || out != "a|b c|d\n" {
		t.Errorf("fifo echo: %d %q %q", code, out, errs)
	}
	if out, _, code := run("fifo", "nosuch"); code != 1 || out != "500 command 'nosuch' not available\n" {
		t.Errorf("fifo nosuch: %d %q", code, out)
	}
	srv.Close()
	_, errs, code := run("ps")
	if code != 1 || !strings.Contains(errs, "ERROR: cannot open ser's FIFO "+env["SER_FIFO"]+": no such FIFO") {
		t.Errorf("no server: %d %q", code, errs)
	}
}
