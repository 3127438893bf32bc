package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/fifo"
)

// SER 0.9 replies (formats of core/corecmd, tm, sl and usrloc; numbers of
// the admin guide's Example 9).
const (
	eol          = "      \n" // CLEANUP_EOL
	replyVersion = "200 ok\nServer: Sip EXpress router (0.9.6-go (amd64/linux))\r\n"
	replyUptime  = "200 ok\nNow: Thu Sep 26 23:16:48 2002\nUp Since: Thu Sep 26 12:35:27 2002\nUp time: 38481 [sec]\n"
	replyTStats  = "200 ok\nCurrent: 0 (0 waiting) Total: 606 (0 local) " + eol +
		"Replied localy: 34" + eol +
		"Completion status 6xx: 0, 5xx: 1, 4xx: 86, 3xx: 0,2xx: 519" + eol
	replySLStats = "200 ok\n200: 6218 202: 0 2xx: 0" + eol +
		"300: 0 301: 0 302: 0 3xx: 0" + eol +
		"400: 0 401: 7412 403: 2 404: 1258 407: 116 408: 0 483: 0 4xx: 25" + eol +
		"500: 0 5xx: 0" + eol + "6xx: 0" + eol + "xxx: 0" + eol + "failures: 0" + eol
	replyULStats  = "200 ok\nDomain Registered Expired\n'aliases' 9 0\n'location' 29 17\n"
	replyNoAlias  = "404 Username newuser in table aliases not found\n"
	replyIsAlias  = "200 OK\n<sip:john.doe@foo.bar>;q=1;expires=-5\n"
	replyPS       = "200 ok\n0\t31590\tattendant\n1\t31590\treceiver child=0 sock= 127.0.0.1:5060\n2\t31590\tfifo server\n3\t31590\ttimer\n"
	replyWhich    = "200 ok\nul_show_contact\nt_uac_dlg\nkill\nps\nwhich\narg\npwd\nversion\nuptime\nprint\n"
	replyUACOK    = "200 OK\n.\n.\n.\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: sip:daemon@foo.bar;tag=1\r\nTo: <sip:ua@127.0.0.1:5070>;tag=2\r\nCall-ID: c@1\r\nCSeq: 10 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	replyUAC404   = "404 Not Found\n.\n.\n.\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n"
	replyUAC408   = "408 Request Timeout\n"
	replyDomDump  = "200 OK\n 107 foo.bar\n 125 example.com\n"
	replyDomRload = "200 OK\n"
)

// replyDump is an ul_dump with one alias and one location record.
const replyDump = `200 ok
===Domain list===
---Domain---
name : 'aliases'
size : 512
table: 0x1002
d_ll {
    n    : 1
    first: 0x100c
    last : 0x100c
}

...Record(0x100c)...
domain: 'aliases'
aor   : '1234'
~~~Contact(0x100b)~~~
domain    : 'aliases'
aor       : '1234'
Contact   : 'sip:john.doe@foo.bar'
Expires   : -5
q         : 1
Call-ID   : 'The-Answer-To-The-Ultimate-Question-Of-Life-Universe-And-Everything'
CSeq      : 42
replic    : 0
User-Agent: 'SIP Express Router FIFO'
received  : ''
State     : CS_NEW
Flags     : 128
next      : (nil)
prev      : (nil)
~~~/Contact~~~~
.../Record...

---/Domain---
---Domain---
name : 'location'
size : 512
table: 0x1001
d_ll {
    n    : 2
    first: 0x1005
    last : 0x1008
}

...Record(0x1005)...
domain: 'location'
aor   : 'john'
~~~Contact(0x1007)~~~
domain    : 'location'
aor       : 'john'
Contact   : 'sip:aorta@192.168.1.20:5062'
Expires   : 1695
q         : 1
Call-ID   : 'abc'
CSeq      : 42
replic    : 0
User-Agent: 'aor-phone'
received  : ''
State     : CS_NEW
Flags     : 0
next      : (nil)
prev      : (nil)
~~~/Contact~~~~
.../Record...
...Record(0x1008)...
domain: 'location'
aor   : 'alice'
~~~Contact(0x1009)~~~
domain    : 'location'
aor       : 'alice'
Contact   : 'sip:alice@10.0.0.1'
Expires   : 100
q         : 0.5
Call-ID   : 'def'
CSeq      : 1
replic    : 0
User-Agent: ''
received  : ''
State     : CS_NEW
Flags     : 0
next      : (nil)
prev      : (nil)
~~~/Contact~~~~
.../Record...

---/Domain---
===/Domain list===
`

// monitorReplies answer one monitor cycle.
var monitorReplies = map[string]string{
	"version": replyVersion, "uptime": replyUptime, "t_stats": replyTStats,
	"sl_stats": replySLStats, "ul_stats": replyULStats,
}

// addUser creates a subscriber in the test database.
func addUser(e *testEnv, user, pw, email string) {
	e.t.Helper()
	if err := e.open().AddSubscriber(context.Background(), store.Subscriber{
		Username: user, Domain: "foo.bar", Password: pw, Email: email,
	}); err != nil {
		e.t.Fatal(err)
	}
}

var errNoFIFOTest = fmt.Errorf("fifo: /tmp/ser_fifo: %w — is ser running?", fifo.ErrNoFIFO)

// commandCase is a sequence of serctl runs whose transcripts make one
// golden file.
type commandCase struct {
	name    string
	setup   func(e *testEnv)
	runs    [][]string
	replies map[string]string
	check   func(t *testing.T, e *testEnv)
}

var commandCases = []commandCase{
	{name: "help", runs: [][]string{{"help"}, {"--help"}}},
	{name: "no_command", runs: [][]string{{}}},
	{name: "unknown_command", runs: [][]string{{"frobnicate"}}},
	{name: "version", runs: [][]string{{"version"}}},
	{name: "bad_option", runs: [][]string{{"--bogus", "ps"}, {"-d"}}},

	// Subscribers.
	{
		name:    "add",
		replies: map[string]string{"ul_show_contact aliases": replyNoAlias},
		runs:    [][]string{{"add", "newuser", "secret", "newuser@foo.bar"}, {"add", "newuser", "other", "x@foo.bar"}},
		check: func(t *testing.T, e *testEnv) {
			u, err := e.open().Subscriber(context.Background(), "newuser", "foo.bar")
			if err != nil {
				t.Fatal(err)
			}
			want := store.Subscriber{Username: "newuser", Domain: "foo.bar", Password: "", // no plain text at rest
				HA1: "f9f7cf38559dc6c03aa216a18e6689a9", HA1B: "227c06efbafef807746ee60e354f9b6c",
				PHPLibID: "f9f7cf38559dc6c03aa216a18e6689a9", Email: "newuser@foo.bar"}
			if u.Password != want.Password || u.HA1 != want.HA1 || u.HA1B != want.HA1B ||
				u.PHPLibID != want.PHPLibID || u.Email != want.Email || !u.Created.Equal(testNow) {
				t.Errorf("subscriber row %+v, want %+v created %v", u, want, testNow)
			}
			uris, _ := e.open().URIs(context.Background(), "newuser", "foo.bar")
			if len(uris) != 1 || uris[0] != "newuser" {
				t.Errorf("uri rows %v, want [newuser]", uris)
			}
		},
	},
	{
		// STORE_PLAINTEXT_PASSWORDS=1 is SER's old behaviour: the
		// password column is filled too (configs with calculate_ha1).
		name:    "add_plaintext",
		replies: map[string]string{"ul_show_contact aliases": replyNoAlias},
		setup:   func(e *testEnv) { e.env["STORE_PLAINTEXT_PASSWORDS"] = "1" },
		runs:    [][]string{{"add", "newuser", "secret", "newuser@foo.bar"}, {"passwd", "newuser", "n3w"}},
		check: func(t *testing.T, e *testEnv) {
			u, err := e.open().Subscriber(context.Background(), "newuser", "foo.bar")
			if err != nil || u.Password != "n3w" || u.HA1 != store.HA1("newuser", "foo.bar", "n3w") {
				t.Errorf("with STORE_PLAINTEXT_PASSWORDS=1: %+v, %v", u, err)
			}
		},
	},
	{
		// Without SIP_DOMAIN the domain is the host name, as the web
		// console's and the default config's.
		name:    "add_with_domain",
		replies: map[string]string{"ul_show_contact aliases": replyNoAlias},
		setup:   func(e *testEnv) { delete(e.env, "SIP_DOMAIN") },
		runs:    [][]string{{"add", "bob", "pw", "bob@example.com"}, {"add", "bob@example.com", "pw", "bob@example.com"}},
		check: func(t *testing.T, e *testEnv) {
			u, err := e.open().Subscriber(context.Background(), "bob", "example.com")
			if err != nil || u.HA1 != store.HA1("bob", "example.com", "pw") {
				t.Errorf("bob@example.com: %+v, %v", u, err)
			}
			u, err = e.open().Subscriber(context.Background(), "bob", "host.test")
			if err != nil || u.HA1 != store.HA1("bob", "host.test", "pw") {
				t.Errorf("bob@host.test: %+v, %v", u, err)
			}
		},
	},
	{
		name:    "add_alias_overlap",
		replies: map[string]string{"ul_show_contact aliases": replyIsAlias},
		runs:    [][]string{{"add", "john", "pw", "john@foo.bar"}},
	},
	{
		name:    "add_alias_check_failed",
		replies: map[string]string{"ul_show_contact aliases": "500 Error while looking up\n"},
		runs:    [][]string{{"add", "john", "pw", "john@foo.bar"}},
	},
	{
		name:  "add_no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"add", "newuser", "secret", "newuser@foo.bar"}},
	},
	{
		name: "add_errors",
		runs: [][]string{
			{"add", "newuser", "secret"},
			{"add", "newuser", "a-password-longer-than-25-characters", "x@foo.bar"},
		},
		replies: map[string]string{"ul_show_contact aliases": replyNoAlias},
	},
	{
		name:  "passwd",
		setup: func(e *testEnv) { addUser(e, "newuser", "secret", "newuser@foo.bar") },
		runs:  [][]string{{"passwd", "newuser", "newpassword"}, {"passwd", "nobody", "x"}, {"passwd", "newuser"}},
		check: func(t *testing.T, e *testEnv) {
			u, _ := e.open().Subscriber(context.Background(), "newuser", "foo.bar")
			if u.Password != "" || u.HA1 != store.HA1("newuser", "foo.bar", "newpassword") ||
				u.HA1B != store.HA1B("newuser", "foo.bar", "foo.bar", "newpassword") {
				t.Errorf("after passwd: %+v", u)
			}
		},
	},
	{
		name: "rm",
		setup: func(e *testEnv) {
			addUser(e, "newuser", "secret", "newuser@foo.bar")
			if err := e.open().Grant(context.Background(), "newuser", "foo.bar", "int"); err != nil {
				e.t.Fatal(err)
			}
		},
		replies: map[string]string{"ul_rm": "200 user (location, newuser) deleted\n"},
		runs:    [][]string{{"rm", "newuser"}, {"rm", "newuser"}},
		check: func(t *testing.T, e *testEnv) {
			st := e.open()
			if _, err := st.Subscriber(context.Background(), "newuser", "foo.bar"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("subscriber still there: %v", err)
			}
			if g, _ := st.UserGroups(context.Background(), "newuser", "foo.bar"); len(g) != 0 {
				t.Errorf("groups left: %v", g)
			}
		},
	},
	{
		name:  "mail_no_mail_command",
		setup: func(e *testEnv) { addUser(e, "newuser", "secret", "newuser@foo.bar") },
		runs:  [][]string{{"mail", "newuser"}, {"mail", "nobody"}},
	},
	{
		name: "mail",
		setup: func(e *testEnv) {
			addUser(e, "newuser", "secret", "newuser@foo.bar")
			script := "#!/bin/sh\nprintf '%s|' \"$@\" > " + filepath.Join(e.dir, "mail.args") + "\ncat > " +
				filepath.Join(e.dir, "mail.body") + "\n"
			if err := os.WriteFile(filepath.Join(e.dir, "mail"), []byte(script), 0o755); err != nil {
				e.t.Fatal(err)
			}
			e.stdin = "Hello,\nyour account is ready.\n"
		},
		runs: [][]string{{"mail", "newuser"}},
		check: func(t *testing.T, e *testEnv) {
			args, _ := os.ReadFile(filepath.Join(e.dir, "mail.args"))
			body, _ := os.ReadFile(filepath.Join(e.dir, "mail.body"))
			if string(args) != "-s|Message from foo.bar SIP admin|newuser@foo.bar|" {
				t.Errorf("mail arguments %q", args)
			}
			if string(body) != e.stdin {
				t.Errorf("mail body %q, want %q", body, e.stdin)
			}
		},
	},
	{
		name:  "rpid",
		setup: func(e *testEnv) { addUser(e, "newuser", "secret", "newuser@foo.bar"); addUser(e, "bob", "pw", "") },
		runs: [][]string{
			{"rpid", "add", "newuser", "sip:+4930123@foo.bar"}, {"rpid", "show"},
			{"rpid", "rm", "newuser"}, {"rpid", "show", "newuser"},
			{"rpid", "add", "nobody", "x"}, {"rpid", "frob"},
		},
	},

	// Aliases and user location: the FIFO only.
	{
		name: "alias",
		setup: func(e *testEnv) {
			addUser(e, "john.doe", "pw", "john@foo.bar")
		},
		replies: map[string]string{
			"ul_show_contact aliases": "404 Username 1234 in table aliases not found\n",
			"ul_add":                  "200 Added to table\n('1234','sip:john.doe@foo.bar') to 'aliases'\n",
			"ul_rm":                   "200 user (aliases, 1234) deleted\n",
		},
		runs: [][]string{
			{"alias", "add", "1234", "sip:john.doe@foo.bar"},
			{"alias", "add", "john.doe", "sip:john@foo.bar"},
			{"alias", "add", "1234", "john.doe@foo.bar"},
			{"alias", "rm", "1234"},
			{"alias", "show", "1234", "extra"},
			{"alias"},
		},
	},
	{
		name:    "alias_exists",
		replies: map[string]string{"ul_show_contact aliases": "200 OK\n<sip:john.doe@foo.bar>;q=1;expires=-120\n"},
		runs:    [][]string{{"alias", "show", "1234"}, {"alias", "add", "1234", "sip:other@foo.bar"}},
	},
	{
		name: "ul",
		replies: map[string]string{
			"ul_add":                   "200 Added to table\n('newuser','sip:666@gateway.foo.bar') to 'location'\n",
			"ul_show_contact location": "200 OK\n<sip:666@gateway.foo.bar>;q=1;expires=-12\n",
			"ul_rm":                    "200 user (location, newuser) deleted\n",
		},
		runs: [][]string{
			{"ul", "add", "newuser", "sip:666@gateway.foo.bar"},
			{"ul", "show", "newuser"},
			{"ul", "rm", "newuser"},
			{"ul", "add", "newuser", "666"},
		},
	},
	{
		name:    "ul_show_not_found",
		replies: map[string]string{"ul_show_contact location": "404 Username newuser in table location not found\n"},
		runs:    [][]string{{"ul", "show", "newuser"}},
	},
	{
		name:    "ul_dump_yes",
		setup:   func(e *testEnv) { e.stdin = "y\n" },
		replies: map[string]string{"ul_dump": replyDump},
		runs:    [][]string{{"ul", "show"}},
	},
	{
		name:    "ul_dump_no",
		setup:   func(e *testEnv) { e.stdin = "n\n" },
		replies: map[string]string{"ul_dump": replyDump},
		runs:    [][]string{{"ul", "show"}},
	},
	{
		name:  "alias_no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"alias", "add", "1234", "sip:john.doe@foo.bar"}},
	},
	{
		name:    "online_error",
		replies: map[string]string{"ul_dump": "500 Not Implemented\n"},
		runs:    [][]string{{"online"}, {"online", "now"}},
	},
	{
		name: "mail_fails",
		setup: func(e *testEnv) {
			addUser(e, "newuser", "secret", "newuser@foo.bar")
			addUser(e, "nomail", "secret", "")
			script := "#!/bin/sh\necho 'mail: cannot send' >&2\nexit 1\n"
			if err := os.WriteFile(filepath.Join(e.dir, "mail"), []byte(script), 0o755); err != nil {
				e.t.Fatal(err)
			}
		},
		runs: [][]string{{"mail", "newuser"}, {"mail", "nomail"}},
	},
	{
		name:    "online",
		replies: map[string]string{"ul_dump": replyDump},
		runs:    [][]string{{"online"}},
	},

	// ACLs and domains: SQL.
	{
		name:  "acl",
		setup: func(e *testEnv) { addUser(e, "john", "pw", "john@foo.bar"); addUser(e, "alice", "pw", "") },
		runs: [][]string{
			{"acl", "grant", "john", "int", "ld", "bogus"},
			{"acl", "grant", "alice", "local"},
			{"acl", "show", "john"},
			{"acl", "show"},
			{"acl", "grant", "john", "int"},
			{"acl", "revoke", "john", "int"},
			{"acl", "revoke", "john"},
			{"acl", "grant", "nobody", "int"},
			{"acl", "show", "nobody"},
			{"acl", "grant", "john"},
		},
	},
	{
		name:    "domain",
		replies: map[string]string{"domain_reload": replyDomRload, "domain_dump": replyDomDump},
		runs: [][]string{
			{"domain", "add", "Example.COM"}, {"domain", "add", "example.com"}, {"domain", "show"},
			{"domain", "rm", "example.com"}, {"domain", "rm", "example.com"}, {"domain"},
		},
		check: func(t *testing.T, e *testEnv) {
			if ds, _ := e.open().Domains(context.Background()); len(ds) != 0 {
				t.Errorf("domains left: %v", ds)
			}
		},
	},
	{
		name:  "domain_no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"domain", "add", "example.com"}},
	},
	{
		name: "domain_module_missing",
		runs: [][]string{{"domain", "add", "example.com"}, {"domain", "show"}},
	},
	{
		name: "showdb",
		setup: func(e *testEnv) {
			addUser(e, "john", "pw", "john@foo.bar")
			addUser(e, "alice", "pw", "alice@foo.bar")
			st := e.open()
			for _, c := range []store.Contact{
				{Username: "john", Contact: "sip:john@10.0.0.1:5060", Expires: testNow.Add(time.Hour), Q: 1,
					CallID: "call-1", CSeq: 7, UserAgent: "phone/1.0", Received: "sip:192.0.2.1:5060"},
				{Username: "john", Contact: "sip:666@gateway.foo.bar", Q: 1, CallID: "The-Answer",
					CSeq: 42, Flags: store.FlagPermanent},
				{Username: "alice", Contact: "sip:alice@10.0.0.2", Expires: testNow.Add(time.Minute), Q: 0.5,
					CallID: "call-2", CSeq: 1},
				{Username: "stranger", Contact: "sip:x@10.0.0.3", Expires: testNow.Add(time.Minute), Q: 1,
					CallID: "call-3", CSeq: 1},
			} {
				if err := st.UpsertContact(context.Background(), "location", c); err != nil {
					e.t.Fatal(err)
				}
			}
		},
		runs: [][]string{{"showdb", "john"}, {"userdb"}, {"showdb", "nobody"}},
	},

	// Server health and the raw FIFO.
	{
		name:    "monitor",
		replies: monitorReplies,
		runs:    [][]string{{"monitor", "2"}, {"moni", "x"}},
	},
	{
		name:    "monitor_partial",
		replies: map[string]string{"version": replyVersion, "uptime": replyUptime, "ul_stats": replyULStats},
		runs:    [][]string{{"con", "1"}},
	},
	{
		name:  "monitor_no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"monitor", "3"}},
	},
	{
		name:    "ps_fifo",
		replies: map[string]string{"ps": replyPS, "which": replyWhich, "uptime": replyUptime, "kill": "200 killing now..."},
		runs: [][]string{
			{"ps"}, {"fifo", "which"}, {"fifo", "uptime"}, {"fifo", "foobar"},
			{"fifo", "print", "a", "", "b"}, {"fifo", "kill"}, {"fifo"},
		},
	},
	{
		name:  "no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"ps"}, {"ul", "show", "john"}, {"online"}},
	},
	{
		name:    "ping",
		replies: map[string]string{"t_uac_dlg": replyUACOK},
		runs:    [][]string{{"ping", "sip:ua@127.0.0.1:5070"}, {"ping"}},
	},
	{
		name:    "ping_404",
		setup:   func(e *testEnv) { delete(e.env, "SIP_DOMAIN") },
		replies: map[string]string{"t_uac_dlg": replyUAC404},
		runs:    [][]string{{"ping", "sip:nobody@127.0.0.1:5070"}},
	},
	{
		name:    "ping_timeout",
		replies: map[string]string{"t_uac_dlg": replyUAC408},
		runs:    [][]string{{"ping", "sip:ua@192.0.2.1"}},
	},
	{
		// reload: cfg_reload; a refusal's errors go to stderr, exit 1.
		name:    "reload",
		replies: map[string]string{"cfg_reload": "200 ok\n/etc/ser/ser.cfg: route[0] route[1] failure_route[1]\n"},
		runs:    [][]string{{"reload"}, {"reload", "now"}},
	},
	{
		name: "reload_refused",
		replies: map[string]string{"cfg_reload": "400 configuration not reloaded, the running one is kept\n" +
			"/etc/ser/ser.cfg:12:5: unknown command 'sl_send_replyy', missing loadmodule?\n" +
			"/etc/ser/ser.cfg:3:1: option 'children' changed from 4 to 8: the workers are started once, at start-up; restart ser to apply it\n"},
		runs: [][]string{{"reload"}},
	},
	{
		name:  "reload_no_server",
		setup: func(e *testEnv) { e.fifo.err = errNoFIFOTest },
		runs:  [][]string{{"reload"}},
	},
	{
		name:    "cisco_restart",
		replies: map[string]string{"t_uac_dlg": replyUACOK},
		runs:    [][]string{{"cisco_restart", "sip:phone@192.0.2.7"}},
	},

	// The database location.
	{
		// SER's SQL_* variables make a MySQL URL; an unreachable server
		// (port 1 refuses at once) is a clear error without the password.
		name: "mysql_unreachable",
		setup: func(e *testEnv) {
			delete(e.env, "SER_DB_URL")
			e.env["SER_DB_URL"] = ""
			e.env["SQL_HOST"], e.env["SQL_USER"], e.env["PW"] = "127.0.0.1:1", "ser", "heslo"
		},
		runs: [][]string{{"acl", "show"}, {"-d", "mysql://ser:secret@127.0.0.1:1/ser", "passwd", "x", "y"}},
	},
}

func TestCommands(t *testing.T) {
	for _, tc := range commandCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			if tc.replies != nil {
				e.fifo.replies = tc.replies
			}
			if tc.setup != nil {
				tc.setup(e)
			}
			var b strings.Builder
			for i, args := range tc.runs {
				if i > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(e.run(args...).transcript(e.dir))
			}
			golden(t, tc.name, b.String())
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}
