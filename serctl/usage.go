package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// usageSection is one block of the usage text: a heading and its
// commands (synopsis, description).
type usageSection struct {
	heading string
	lines   [][2]string
}

// usageSections is SER 0.9's usage text (the admin guide's Example 8),
// section by section, with the 0.9 commands added in the same layout. (*)
// marks the commands that write to the SQL database.
var usageSections = []usageSection{
	{"subscribers", [][2]string{
		{"add <username> <password> <email>", "add a new subscriber (*)"},
		{"passwd <username> <passwd>", "change user's password (*)"},
		{"rm <username>", "delete a user (*)"},
		{"mail <username>", "send an email to a user"},
		{"alias show [<alias>]", "show aliases"},
		{"alias rm <alias>", "remove an alias"},
		{"alias add <alias> <uri>", "add an alias"},
		{"rpid add <username> <rpid>", "add rpid for a user (*)"},
		{"rpid rm <username>", "set rpid to NULL for a user (*)"},
		{"rpid show [<username>]", "show rpid of a user"},
	}},
	{"access control lists", [][2]string{
		{"acl show [<username>]", "show user membership"},
		{"acl grant <username> <group>", "grant user membership (*)"},
		{"acl revoke <username> [<group>]", "revoke user membership(s) (*)"},
	}},
	{"usrloc", [][2]string{
		{"ul show [<username>]", "show in-RAM online users"},
		{"ul rm <username>", "delete user's UsrLoc entries"},
		{"ul add <username> <uri>", "introduce a permanent UsrLoc entry"},
		{"showdb [<username>]", "show online users flushed in DB"},
		{"online", "display online users"},
	}},
	{"domains", [][2]string{
		{"domain show", "show list of served domains"},
		{"domain add <domainname>", "add a new served domain (*)"},
		{"domain rm <domainname>", "remove a served domain (*)"},
	}},
	{"server health", [][2]string{
		{"monitor [<loops>]", "show internal status"},
		{"ps", "show running processes"},
		{"fifo <cmd> [<param>...]", "send raw commands to FIFO"},
		{"ping <uri>", "ping a URI with OPTIONS"},
		{"cisco_restart <uri>", "restart a Cisco phone (NOTIFY)"},
	}},
	{"server control", [][2]string{
		{"start", "start ser"},
		{"stop", "stop ser"},
		{"restart", "restart ser"},
		{"reload", "reload ser.cfg's routing script"},
		{"version", "print serctl's version"},
	}},
}

// usageColumn is where descriptions start after "<cmd> ", as in SER.
const usageColumn = 37

// usageLine formats one command line of the usage text.
func usageLine(cmd string, l [2]string) string {
	dots := max(usageColumn-len(l[0])-2, 2)
	return fmt.Sprintf(" %s %s %s %s\n", cmd, l[0], strings.Repeat(".", dots), l[1])
}

// commandUsage prints the usage lines of one command (monitor and its
// aliases included); it reports false when there are none.
func (a *app) commandUsage(w io.Writer, name string) bool {
	switch name {
	case "console", "moni", "con":
		name = "monitor"
	case "userdb":
		name = "showdb"
	}
	cmd := filepath.Base(a.argv0)
	found := false
	for _, s := range usageSections {
		for _, l := range s.lines {
			if first, _, _ := strings.Cut(l[0], " "); first == name {
				io.WriteString(w, usageLine(cmd, l))
				found = true
			}
		}
	}
	return found
}

// usage prints the usage text: SER's layout, then serctl's notes and
// environment.
func (a *app) usage(w io.Writer) {
	cmd := filepath.Base(a.argv0)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\nusage:\n", a.argv0, Version)
	for i, s := range usageSections {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "           * %s *\n", s.heading)
		for _, l := range s.lines {
			b.WriteString(usageLine(cmd, l))
		}
	}
	b.WriteString(`

   Commands labeled with (*) write to the SQL database (SER_DB_URL, -d).
   No MySQL password is prompted: the default database is an SQLite file,
   protected by its file permissions (SER's PW prompt guarded MySQL).

   Contacts and aliases (ul, alias, online) live in the server's memory:
   serctl reads and changes them only through ser's FIFO server, so the
   running server sees every change. Direct changes to the location or
   aliases tables do not affect the server's memory, and without usrloc
   persistence (db_mode 0) contacts are gone when ser restarts.
`)
	if a.cfg.verifyACL {
		fmt.Fprintf(&b, "\n     ACL privileges are: %s\n", strings.Join(a.cfg.aclGroups, " "))
	}
	b.WriteString(`
   Environment:
     SIP_DOMAIN ........ domain of users given without @domain; digest realm
                         (default: the host name, as the web console's)
     STORE_PLAINTEXT_PASSWORDS=1  also store plain-text passwords (SER's old way)
     SER_DB_FILE_MODE .. mode of a new SQLite database file (0600)
     SER_FIFO .......... ser's FIFO (/tmp/ser_fifo); SER_FIFO_DIR its fifo_dir (/tmp/)
     SER_DB_URL ........ database (sqlite://ser.db); SQL_HOST, SQL_USER, PW,
                         SQL_DB make a mysql:// URL when it is unset
     WATCH_PERIOD ...... seconds between monitor cycles (2)
     SER_FIFO_TIMEOUT .. seconds to wait for a FIFO reply (60)
     SER_PID_FILE ...... pid file for start/stop (/var/run/ser.pid)
     SER_BIN, SER_CFG .. ser binary (next to serctl, else in PATH), its config
     UL_TABLE, ALS_TABLE, ACL_GROUPS, VERIFY_ACL .. as in SER
   Options (before the command): -d|--db <url>, --fifo <path>,
     --fifo-dir <dir>, --pid-file <path>, --ser-bin <path>, -f|--cfg <file>
`)
	io.WriteString(w, b.String())
}
