package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/store"
)

// accInvite builds an INVITE from u to user@dst (the callee UA's address,
// so the proxy relays there).
func accInvite(u *ua, srv *server, user, dst, callID string) string {
	return fmt.Sprintf(`INVITE sip:%[1]s@%[2]s SIP/2.0
Via: SIP/2.0/UDP %[3]s;branch=z9hG4bK-%[4]s;rport
Max-Forwards: 70
From: "Caller" <sip:caller@example.com>;tag=from-%[4]s
To: <sip:%[1]s@%[2]s>
Call-ID: %[4]s
CSeq: 7 INVITE
Contact: <sip:caller@%[3]s>
Content-Length: 0

`, user, dst, u.hostport(), callID)
}

// accCall places one call through srv: the callee answers status (with
// To tag "callee") and the caller waits for it.
func accCall(t *testing.T, srv *server, caller, callee *ua, user, callID, status string) {
	t.Helper()
	caller.send(srv.udpAddr(), accInvite(caller, srv, user, callee.hostport(), callID))
	got, from := callee.recvFor("INVITE")
	callee.send(from, replyTo(got, status, "tag=callee"))
	code, _, _ := strings.Cut(status, " ")
	caller.recvFor(code)
}

// accWaitLog waits until the server log contains want (accounting runs on
// the transaction's completion, just after the reply goes out).
func accWaitLog(t *testing.T, srv *server, want string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		l := srv.log.String()
		if strings.Contains(l, want) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never showed %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// accLogLine returns the log line containing want, unquoted by slog.
func accLogLine(log, want string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, want) {
			return strings.ReplaceAll(l, `\"`, `"`)
		}
	}
	return ""
}

// TestAccAccountingScript runs the admin guide's "Configuration with
// Enabled Accounting" unchanged: a call to a numerical destination is
// reported to the log at log_level 1, a call to a name is not.
func TestAccAccountingScript(t *testing.T) {
	b, err := os.ReadFile("../testdata/cfg/accounting.cfg")
	if err != nil {
		t.Fatal(err)
	}
	srv := startSer(t, string(b))
	caller, callee := newUA(t), newUA(t)

	accCall(t, srv, caller, callee, "bob", "acc-name-1", "200 OK")
	accCall(t, srv, caller, callee, "+4930123", "acc-num-1", "200 OK")
	log := accWaitLog(t, srv, "ACC: transaction answered")
	line := accLogLine(log, "ACC: transaction answered")
	uri := "sip:+4930123@" + callee.hostport()
	want := `ACC: transaction answered: method=INVITE, i-uri=` + uri + `, o-uri=` + uri +
		`, call_id=acc-num-1, from="Caller" <sip:caller@example.com>;tag=from-acc-num-1, status=200`
	if !strings.Contains(line, want) || !strings.Contains(line, "level=WARN") || !strings.Contains(line, "module=acc") {
		t.Errorf("accounting line\n%s\nwant\n%s (level WARN = log_level 1, module=acc)", line, want)
	}
	if strings.Contains(log, "acc-name-1") && strings.Contains(accLogLine(log, "acc-name-1"), "ACC:") {
		t.Errorf("the call to a name was accounted:\n%s", log)
	}
	if n := strings.Count(log, "ACC: "); n != 1 {
		t.Errorf("%d ACC lines, want 1:\n%s", n, log)
	}
}

// TestAccDatabase accounts answered calls into acc and failed INVITEs
// into missed_calls (db_flag / db_missed_flag), and logs the missed call;
// the missed-call flag is set in the failure route.
func TestAccDatabase(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "acc.db")
	srv := startSer(t, `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/acc/acc.so"
modparam("acc", "db_url", "`+dbURL+`")
modparam("acc", "db_flag", 1)
modparam("acc", "db_missed_flag", 2)
modparam("acc", "log_missed_flag", 2)
modparam("acc", "log_flag", 3)
modparam("acc", "log_fmt", "mitdrs")
route {
	setflag(1);
	t_on_failure("1");
	if (!t_relay()) {
		sl_reply_error();
		break;
	};
}
# the missed-call flag set in a failure route counts
failure_route[1] {
	setflag(2);
}
`, func(o *core.Options) { o.Debug = 3 })
	caller, callee := newUA(t), newUA(t)
	accCall(t, srv, caller, callee, "+4930123", "db-ok-1", "200 OK")
	accCall(t, srv, caller, callee, "+4930999", "db-busy-1", "486 Busy Here")

	log := accWaitLog(t, srv, "ACC: call missed")
	line := accLogLine(log, "ACC: call missed")
	want := "ACC: call missed: method=INVITE, i-uri=sip:+4930999@" + callee.hostport() +
		", to=<sip:+4930999@" + callee.hostport() + ">;tag=callee, totag=callee, fromtag=from-db-busy-1, status=486 Busy Here"
	if !strings.Contains(line, want) || !strings.Contains(line, "level=INFO") {
		t.Errorf("missed-call line\n%s\nwant\n%s (level INFO = default log_level 2)", line, want)
	}

	st, err := srv.inst.Server.DB(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var acc, mc []store.AccRecord
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		acc, _, _ = st.ListAcc(context.Background(), "acc", store.AccFilter{})
		mc, _, _ = st.ListAcc(context.Background(), "missed_calls", store.AccFilter{})
		if len(acc) >= 1 && len(mc) >= 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(acc) != 1 || len(mc) != 1 {
		t.Fatalf("acc rows %+v\nmissed_calls rows %+v", acc, mc)
	}
	a := acc[0]
	ruri := "sip:+4930123@" + callee.hostport()
	if a.Method != "INVITE" || a.Status != "200" || a.CallID != "db-ok-1" || a.IURI != ruri || a.OURI != ruri ||
		a.From != `"Caller" <sip:caller@example.com>;tag=from-db-ok-1` || a.To != "<"+ruri+">;tag=callee" ||
		a.FromURI != "sip:caller@example.com" || a.ToURI != ruri || a.Username != "caller" || a.Domain != "example.com" ||
		a.FromTag != "from-db-ok-1" || a.ToTag != "callee" || time.Since(a.Time) > time.Minute {
		t.Errorf("acc row: %+v", a)
	}
	m := mc[0]
	if m.Status != "486 Busy Here" || m.CallID != "db-busy-1" || m.Username != "+4930999" || m.Domain != "127.0.0.1" ||
		m.ToTag != "callee" || m.Method != "INVITE" {
		t.Errorf("missed_calls row: %+v", m)
	}
}
