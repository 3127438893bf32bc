package e2e

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"ser/core/store"
	"ser/internal/testing/mariadb"
	"ser/internal/testing/serdb"
)

// SER 0.9's own administration tools against ser on the database SER's
// ser_mysql.sh made: scripts/sc (serctl) talks to the server over the
// FIFO and to MySQL with the mysql client, scripts/sc_unixsock does the
// same over the unix socket (through utils/serunix), scripts/serstats
// only queries MySQL. The scripts are not part of this repository; these
// tests send exactly the requests they send and run exactly the SQL they
// run, and check the replies byte for byte in SER's formats and the rows
// they read and write. Every command of the scripts that has a ser
// counterpart is covered; "pa" (no presence agent), "mail" (sends an
// e-mail) and start/stop (a PID file) are not.

// scFIFOSeq numbers the reply FIFOs of scFIFO.
var scFIFOSeq atomic.Int64

// scFIFO sends one request as sc's fifo_cmd does: it makes the reply
// FIFO ser_receiver_<n> in the reply directory, writes ":cmd:<reply
// name>\n", one line per argument and an empty line to ser's FIFO in one
// write (sc's printf), and reads the reply FIFO to its end (sc's cat).
// It returns the reply unfiltered.
func scFIFO(t *testing.T, serFIFO, replyDir, cmd string, args ...string) string {
	t.Helper()
	name := fmt.Sprintf("ser_receiver_%d_%d", os.Getpid(), scFIFOSeq.Add(1))
	path := filepath.Join(replyDir, name)
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(path) // opens for reading, blocks until ser opens it
		got <- string(b)
	}()
	req := ":" + cmd + ":" + name + "\n"
	for _, a := range args {
		req += a + "\n"
	}
	req += "\n"
	f, err := os.OpenFile(serFIFO, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(req); err != nil {
		t.Fatal(err)
	}
	f.Close()
	select {
	case r := <-got:
		return r
	case <-time.After(20 * time.Second):
		// unblock the reader
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatalf("no reply to FIFO %s", strings.TrimSpace(req))
		return ""
	}
}

// scUnixsock sends one request as sc_unixsock's unixsock_cmd through
// SER's serunix does: ":cmd:\n", one line per argument and an empty line
// as one datagram from a socket bound to a path of its own, and returns
// the one reply datagram.
func scUnixsock(t *testing.T, sock, cmd string, args ...string) string {
	t.Helper()
	local := filepath.Join(t.TempDir(), "serunix.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := ":" + cmd + ":\n"
	for _, a := range args {
		req += a + "\n"
	}
	req += "\n"
	if _, err := c.WriteToUnix([]byte(req), &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 65536)
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("unixsock %s: %v", strings.TrimSpace(req), err)
	}
	return string(buf[:n])
}

// filterFL is sc's filter_fl: the first line goes when it is "200 ok"
// (any case; sc_unixsock drops any first line starting with 200).
func filterFL(reply string, unixsock bool) string {
	first, rest, _ := strings.Cut(reply, "\n")
	if unixsock && strings.HasPrefix(first, "200") ||
		!unixsock && len(first) >= 6 && strings.EqualFold(first[:6], "200 ok") {
		return rest
	}
	return reply
}

// scOnline is sc's "online": the third blank-separated field of the
// ul_dump lines containing "aor", sorted and unique.
func scOnline(dump string) []string {
	var out []string
	for _, l := range strings.Split(dump, "\n") {
		if f := strings.Fields(l); strings.Contains(l, "aor") && len(f) >= 3 {
			out = append(out, f[2])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sertoolsCfg is adoptCfg with the unix socket and the domain module
// (cached, as sc's domain commands expect: they reload it).
func sertoolsCfg(sock string) string {
	return strings.Replace(adoptCfg, "\nmodparam(", "\nloadmodule \"modules/domain/domain.so\"\nmodparam(\"domain\", \"db_mode\", 1)\nmodparam(", 1) +
		"\nunix_sock=\"" + sock + "\"\n"
}

// mysqlDB opens database name on srv as user (sc's SQL_USER ser, or its
// RO_USER serro), with the server's default session as the mysql client
// has it.
func mysqlDB(t *testing.T, srv *mariadb.Server, user, pw, name string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pw, "tcp", srv.Addr(), name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rowsText runs a query and returns its column names and rows as the
// mysql client prints them in batch mode (tab-separated, NULL as NULL).
func rowsText(t *testing.T, db *sql.DB, q string, args ...any) (string, []string) {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		f := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				f[i] = "NULL"
			} else {
				f[i] = string(v)
			}
		}
		out = append(out, strings.Join(f, "\t"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(cols, "\t"), out
}

// exec runs a statement of the scripts, failing the test on error.
func execSQL(t *testing.T, db *sql.DB, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// expiresRE is a ul_show_contact line's expires.
var expiresRE = regexp.MustCompile(`;expires=(-?[0-9]+)\n`)

// contactLine checks a ul_show_contact reply of one contact: SER's
// "<uri>;q=Q;expires=N\n" with N within [lo, hi].
func contactLine(t *testing.T, what, reply, head, uri, q string, lo, hi int64) {
	t.Helper()
	m := expiresRE.FindStringSubmatch(reply)
	want := head + "<" + uri + ">;q=" + q + ";expires="
	if m == nil || !strings.HasPrefix(reply, want) || reply != want+m[1]+"\n" {
		t.Errorf("%s: reply %q, want %q<N>\\n", what, reply, want)
		return
	}
	if n, _ := strconv.ParseInt(m[1], 10, 64); n < lo || n > hi {
		t.Errorf("%s: expires=%d, want within [%d, %d]", what, n, lo, hi)
	}
}

// TestSERToolsOnAdoptedDatabase runs the requests and SQL of SER 0.9's
// sc, sc_unixsock and serstats against ser on a SER 0.9 database on
// MariaDB.
func TestSERToolsOnAdoptedDatabase(t *testing.T) {
	srv := mariadb.Start(t)
	dbURL, raw := serdb.MariaDB(t, srv)
	dbName := dbURL[strings.LastIndex(dbURL, "/")+1:]
	sock := filepath.Join(t.TempDir(), "ser.sock")
	p := startSerBinaryDB(t, sertoolsCfg(sock), dbURL)
	fifoDir := p.dir // startSerBinaryDB's fifo_dir: where ser writes replies
	rw := mysqlDB(t, srv, mariadb.User, mariadb.Password, dbName)
	ro := mysqlDB(t, srv, mariadb.ROUser, mariadb.ROPassword, dbName)
	_ = raw

	// Both transports, the same commands and the same replies but for
	// their status lines' case and what filter_fl drops.
	type transport struct {
		name string
		do   func(cmd string, args ...string) string
		ok   string // the status line of a success
	}
	transports := []transport{
		{"fifo", func(cmd string, args ...string) string { return scFIFO(t, p.fifo, fifoDir, cmd, args...) }, "200 ok\n"},
		{"unixsock", func(cmd string, args ...string) string { return scUnixsock(t, sock, cmd, args...) }, "200 OK\n"},
	}
	now := time.Now().Unix()
	aliceLeft := time.Date(2037, 12, 31, 23, 0, 0, 0, time.UTC).Unix() - now
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			do := tr.do

			// ps: "<index>\t<pid>\t<description>\n" per process.
			if r := do("ps"); !regexp.MustCompile(`^200 (ok|OK)\n([0-9]+\t[0-9]+\t[^\t\n]+\n)+$`).MatchString(r) {
				t.Errorf("ps: %q", r)
			}
			// "sc fifo version" / "uptime" (also moni's first two).
			if r := do("version"); !regexp.MustCompile(`^200 (ok|OK)\nServer: Sip EXpress router \(.+\)\r\n$`).MatchString(r) {
				t.Errorf("version: %q", r)
			}
			if r := do("uptime"); !regexp.MustCompile(`^200 (ok|OK)\nNow: .+\nUp Since: .+\nUp time: [0-9]+ \[sec\]\n$`).MatchString(r) {
				t.Errorf("uptime: %q", r)
			}

			// sc ul show alice: SER's registration of alice, loaded from
			// SER's location table.
			contactLine(t, "ul show alice", do("ul_show_contact", "location", "alice@example.org"),
				"200 OK\n", "sip:alice@192.0.2.10:5060", "1", aliceLeft-3600, aliceLeft+60)
			// sc alias show 7001: SER's permanent alias (flags 128): a
			// negative expires, as SER showed permanent contacts.
			contactLine(t, "alias show 7001", do("ul_show_contact", "aliases", "7001@example.org"),
				"200 OK\n", "sip:alice@example.org", "1", -1<<31, -1)
			// check_alias (sc add, alias add): a free name is a 404.
			if r := do("ul_show_contact", "aliases", "newuser@example.org"); r != "404 Username newuser@example.org in table aliases not found\n" {
				t.Errorf("check_alias: %q", r)
			}

			// sc ul add / show / rm: a permanent contact (expires 0,
			// flags 128) as sc adds it.
			if r := do("ul_add", "location", "dave@example.org", "sip:dave@192.0.2.30", "0", "1.00", "0", "128"); r !=
				"200 Added to table\n('dave@example.org','sip:dave@192.0.2.30') to 'location'\n" {
				t.Errorf("ul add: %q", r)
			}
			contactLine(t, "ul show dave", do("ul_show_contact", "location", "dave@example.org"),
				"200 OK\n", "sip:dave@192.0.2.30", "1", -60, 0)
			if got := raw.Rows(t, "location", "username", "domain", "contact", "q", "callid", "cseq", "flags", "user_agent"); !slices.Contains(got,
				"dave | example.org | sip:dave@192.0.2.30 | 1 | The-Answer-To-The-Ultimate-Question-Of-Life-Universe-And-Everything | 42 | 128 | SIP Express Router FIFO") {
				t.Errorf("location rows after ul add (db_mode 1): %q", got)
			}
			if r := do("ul_rm", "location", "dave@example.org"); r != "200 user (location, dave@example.org) deleted\n" {
				t.Errorf("ul rm: %q", r)
			}
			if r := do("ul_show_contact", "location", "dave@example.org"); !strings.HasPrefix(r, "404 ") {
				t.Errorf("ul show after ul rm: %q", r)
			}

			// sc alias add / rm.
			if r := do("ul_add", "aliases", "7002@example.org", "sip:bob@example.org", "0", "1.00", "0", "128"); r !=
				"200 Added to table\n('7002@example.org','sip:bob@example.org') to 'aliases'\n" {
				t.Errorf("alias add: %q", r)
			}
			if r := do("ul_rm", "aliases", "7002@example.org"); r != "200 user (aliases, 7002@example.org) deleted\n" {
				t.Errorf("alias rm: %q", r)
			}

			// sc domain show / add / rm: SER's database serves
			// example.org; add and rm run their SQL, then domain_reload;
			// show is domain_dump ("%4d %s": SER's hash index, domain).
			if r := do("domain_dump"); r != "200 OK\n  96 example.org\n" {
				t.Errorf("domain show: %q", r)
			}
			execSQL(t, rw, "insert into domain (domain) VALUES ('iptel.org');")
			if r := do("domain_reload"); r != "200 OK\n" {
				t.Errorf("domain add's domain_reload: %q", r)
			}
			if r := do("domain_dump"); r != "200 OK\n  10 iptel.org\n  96 example.org\n" {
				t.Errorf("domain show after add: %q", r)
			}
			execSQL(t, rw, "delete from domain where domain='iptel.org';")
			if r := do("domain_reload"); r != "200 OK\n" {
				t.Errorf("domain rm's domain_reload: %q", r)
			}
			if r := do("domain_dump"); r != "200 OK\n  96 example.org\n" {
				t.Errorf("domain show after rm: %q", r)
			}

			// sc moni: version, uptime, t_stats, sl_stats, ul_stats.
			if r := do("t_stats"); !regexp.MustCompile(`^200 (ok|OK)\nCurrent: [0-9]+ \([0-9]+ waiting\) Total: [0-9]+ \([0-9]+ local\) *\nReplied localy: [0-9]+ *\nCompletion status 6xx: [0-9]+, 5xx: [0-9]+, 4xx: [0-9]+, 3xx: [0-9]+,2xx: [0-9]+ *\n$`).MatchString(r) {
				t.Errorf("t_stats: %q", r)
			}
			if r := do("sl_stats"); !regexp.MustCompile(`^200 (ok|OK)\n200: [0-9]+ 202: [0-9]+ 2xx: [0-9]+ *\n300: [0-9]+ 301: [0-9]+ 302: [0-9]+ 3xx: [0-9]+ *\n400: [0-9]+ 401: [0-9]+ 403: [0-9]+ 404: [0-9]+ 407: [0-9]+ 408: [0-9]+ 483: [0-9]+ 4xx: [0-9]+ *\n500: [0-9]+ 5xx: [0-9]+ *\n6xx: [0-9]+ *\nxxx: [0-9]+ *\nfailures: [0-9]+ *\n$`).MatchString(r) {
				t.Errorf("sl_stats: %q", r)
			}
			if r := do("ul_stats"); r != tr.ok+"Domain Registered Expired\n'aliases' 1 0\n'location' 3 0\n" {
				t.Errorf("ul_stats: %q", r)
			}

			// sc online: ul_dump | grep aor | awk '{print $3}' | sort -u
			// (SER 0.9 had no ul_dump over the unix socket).
			dump := do("ul_dump")
			if tr.name == "unixsock" {
				if dump != "500 Not Implemented\n" {
					t.Errorf("ul_dump over unixsock: %q", dump)
				}
			} else if got := scOnline(filterFL(dump, false)); !slices.Equal(got, []string{"'7001@example.org'", "'alice@example.org'", "'bob@example.org'", "'carol@example.org'"}) {
				t.Errorf("online: %q from\n%s", got, dump)
			}

			// sc ping: t_uac_dlg OPTIONS to a URI; print_status shows the
			// first line's status.
			r := do("t_uac_dlg", "OPTIONS", "sip:nobody@"+p.sipAddr, ".", "From: sip:daemon@localhost",
				"To: <sip:nobody@"+p.sipAddr+">", "Contact: <sip:daemon@!!>", ".", ".")
			if !strings.HasPrefix(r, "404 ") {
				t.Errorf("ping: %q", r)
			}
		})
	}

	// The SQL of sc's subscriber and ACL commands (the mysql client, user
	// ser for changes, serro for reads), then the user it added
	// registers through ser and serctl and the store see it.
	t.Run("sql", func(t *testing.T) {
		isUser := func(user string) int {
			var n int
			if err := ro.QueryRow("select count(*) from subscriber where username='" + user + "' and domain='example.org'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// sc add erin pw erin@example.org
		if isUser("erin") != 0 {
			t.Fatal("erin exists")
		}
		ha1, ha1b := store.HA1("erin", "example.org", "erinpw"), store.HA1("erin@example.org", "example.org", "erinpw")
		execSQL(t, rw, "insert into subscriber (username,domain,ha1, ha1b,password,email_address, datetime_created,  "+
			"phplib_id ) values ('erin','example.org','"+ha1+"','"+ha1b+"','erinpw', 'erin@example.org', now(), '"+ha1+"' )")
		execSQL(t, rw, "insert into uri (username,domain,uri_user,last_modified) values ('erin','example.org','erin',now())")
		u := newUA(t)
		if r := adoptRegister(t, u, p, "erin", "erinpw", "sc-erin", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
			t.Fatalf("REGISTER of the user sc added: %s", firstLine(r))
		}
		// sc passwd erin erinpw2
		ha1, ha1b = store.HA1("erin", "example.org", "erinpw2"), store.HA1("erin@example.org", "example.org", "erinpw2")
		execSQL(t, rw, "update subscriber set HA1='"+ha1+"', HA1B='"+ha1b+"', password='erinpw2' , datetime_modified=now() "+
			"WHERE username='erin' and domain='example.org'")
		if r := adoptRegister(t, u, p, "erin", "erinpw2", "sc-erin2", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
			t.Fatalf("REGISTER after sc passwd: %s", firstLine(r))
		}
		// sc rpid add / show / rm
		execSQL(t, rw, "UPDATE subscriber SET rpid='sip:+4202005@example.org' WHERE username='erin' AND domain='example.org'")
		if cols, rows := rowsText(t, ro, "select username, rpid FROM subscriber  WHERE username='erin' AND domain='example.org' "); cols != "username\trpid" ||
			!slices.Equal(rows, []string{"erin\tsip:+4202005@example.org"}) {
			t.Errorf("rpid show: %q %q", cols, rows)
		}
		execSQL(t, rw, "UPDATE subscriber SET rpid=NULL WHERE username='erin' AND domain='example.org'")
		// sc acl grant erin local int; acl show erin; acl revoke erin int
		for _, g := range []string{"local", "int"} {
			execSQL(t, rw, "insert into grp (username,grp,last_modified, domain ) values ('erin','"+g+"', now(), 'example.org' )")
		}
		cols, rows := rowsText(t, ro, "select * FROM grp  WHERE username='erin' AND domain='example.org'  ")
		if cols != "username\tdomain\tgrp\tlast_modified" || len(rows) != 2 {
			t.Errorf("acl show: %q %q", cols, rows)
		}
		execSQL(t, rw, "delete from grp where grp.username='erin' AND domain='example.org'  and grp='int' ")
		if _, rows := rowsText(t, ro, "select * FROM grp  WHERE username='erin' AND domain='example.org'  "); len(rows) != 1 || !strings.HasPrefix(rows[0], "erin\texample.org\tlocal\t") {
			t.Errorf("acl show after revoke: %q", rows)
		}
		// sc mail erin: the address it mails.
		if _, rows := rowsText(t, ro, "select subscriber.email_address from subscriber where  subscriber.username='erin' and subscriber.domain='example.org'"); !slices.Equal(rows, []string{"erin@example.org"}) {
			t.Errorf("mail: %q", rows)
		}
		// sc showdb erin, showdb.
		if cols, rows := rowsText(t, ro, "select location.* from location where location.username='erin' and \n location.domain='example.org' order by expires desc"); !strings.HasPrefix(cols,
			"username\tdomain\tcontact\treceived\texpires\tq\tcallid\tcseq\tlast_modified\treplicate\tstate\tflags\tuser_agent") ||
			len(rows) != 1 || !strings.HasPrefix(rows[0], "erin\texample.org\tsip:erin@"+u.hostport()+"\tNULL\t") {
			t.Errorf("showdb erin: %q %q", cols, rows)
		}
		if cols, rows := rowsText(t, ro, "select location.username, subscriber.email_address, location.callid from subscriber, location where  "+
			"subscriber.username=location.username  order by location.username"); cols != "username\temail_address\tcallid" ||
			!slices.Contains(rows, "erin\terin@example.org\tsc-erin2") || !slices.Contains(rows, "alice\talice@example.org\ta84b4c76e66710@pc33.example.org") {
			t.Errorf("showdb: %q %q", cols, rows)
		}

		// serstats, on SER's rows plus ser's registration of erin.
		one := func(q string) string {
			t.Helper()
			_, rows := rowsText(t, rw, q)
			if len(rows) != 1 {
				t.Fatalf("%s: %q", q, rows)
			}
			return rows[0]
		}
		for q, want := range map[string]string{
			"select count(distinct username,domain) from location;":                            "4",
			"select count(distinct username,domain) from location \n\t\t\twhere flags>0;":      "1",
			"select count(*) from location;":                                                   "4",
			"select count(*) from acc where sip_method='INVITE' \n\t\t\tand sip_status='200';": "2",
			"select count(*) from subscriber;":                                                 "5",
			"select count(*) from acc where sip_method='INVITE' and \n\t\t\tsip_status='200' and\n\t\t\t(DATE_SUB(CURDATE(), INTERVAL 1 hour) <= timestamp);": "0",
			"select count(*) from subscriber where \n\t             (DATE_SUB(CURDATE(), INTERVAL 1 day) <= datetime_created);":                               "1",
			"select sum(unix_timestamp(t2.time)-unix_timestamp(t1.time))/60 \n\t\t\tas length from acc t1, acc t2 \n\t\t\twhere t1.sip_method='INVITE' and t1.sip_status='200' \n\t\t\tand t2.sip_method='BYE' and t1.sip_callid=t2.sip_callid  \n\t\t\tand ((t1.totag=t2.totag and t1.fromtag=t2.fromtag) \n\t\t\tor (t1.totag=t2.fromtag and t1.fromtag=t2.totag));":                                                                                                                                  "4.6333",
			"select t1.time,\n\t\t    ((unix_timestamp(t2.time)-unix_timestamp(t1.time))/60) as min,\n\t\t\tt1.username, t1.domain, t1.i_uri\n\t\t\tfrom acc t1, acc t2 \n\t\t\twhere t1.sip_method='INVITE' and t1.sip_status='200' \n\t\t\tand t2.sip_method='BYE' and t1.sip_callid=t2.sip_callid  \n\t\t\tand ((t1.totag=t2.totag and t1.fromtag=t2.fromtag) \n\t\t\tor (t1.totag=t2.fromtag and t1.fromtag=t2.totag))\n\t\t\tand t1.i_uri like '%bob%'\n\t\t\t\n\t\t\tORDER by min desc limit 20;": "2005-03-07 11:00:02\t4.6333\talice\texample.org\tsip:bob@example.org",
			"select \n\t\t    sum((unix_timestamp(t2.time)-unix_timestamp(t1.time))/60) as min,\n\t\t\tt1.username, t1.domain\n\t\t\tfrom acc t1, acc t2 \n\t\t\twhere t1.sip_method='INVITE' and t1.sip_status='200' \n\t\t\tand t2.sip_method='BYE' and t1.sip_callid=t2.sip_callid  \n\t\t\tand ((t1.totag=t2.totag and t1.fromtag=t2.fromtag) \n\t\t\tor (t1.totag=t2.fromtag and t1.fromtag=t2.totag))\n\t\t\t\n\t\t\t\n\t\t\tGROUP by t1.username,t1.domain\n\t\t\tORDER by min desc limit 20;":   "4.6333\talice\texample.org",
		} {
			if got := one(q); got != want {
				t.Errorf("serstats %q = %q, want %q", q, got, want)
			}
		}

		// sc rm erin: acl revoke, uri, subscriber, then ul rm.
		execSQL(t, rw, "delete from grp where grp.username='erin' AND domain='example.org' ")
		execSQL(t, rw, "delete from uri where username='erin'")
		execSQL(t, rw, "delete from subscriber where subscriber.username='erin' and subscriber.domain='example.org'")
		if r := scFIFO(t, p.fifo, fifoDir, "ul_rm", "location", "erin@example.org"); r != "200 user (location, erin@example.org) deleted\n" {
			t.Errorf("rm's ul rm: %q", r)
		}
		if isUser("erin") != 0 {
			t.Error("erin still a subscriber")
		}
		if r := adoptRegister(t, u, p, "erin", "erinpw2", "sc-erin3", 1); !strings.HasPrefix(r, "SIP/2.0 401") {
			t.Errorf("REGISTER of the removed user: %s", firstLine(r))
		}
	})
}
