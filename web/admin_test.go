package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

func TestAccounting(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		user := []string{"alice", "bob", "bob"}[i%3]
		if err := e.st.InsertAcc(ctx, "acc", store.AccRecord{Username: user, Domain: "example.com", Method: "INVITE",
			Status: "200 OK", FromURI: "sip:" + user + "@example.com", ToURI: "sip:x@example.com", CallID: fmt.Sprintf("acc-%02d", i),
			Time: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.InsertAcc(ctx, "missed_calls", store.AccRecord{Username: "alice", Domain: "example.com", Method: "INVITE",
		Status: "408", FromURI: "=HYPERLINK(\"http://evil\")", CallID: "missed-1", Time: t0}); err != nil {
		t.Fatal(err)
	}
	b := e.as("root")
	p := b.get("/admin/acc")
	p.want(t, http.StatusOK, "Completed calls", "acc-59", "page 1 of 2 (60)", "Records per user")
	if !strings.Contains(p.body, "bob@example.com</th><td>40</td>") || !strings.Contains(p.body, "alice@example.com</th><td>20</td>") {
		t.Errorf("per-user counts:\n%s", p.body)
	}
	b.get("/admin/acc?user=alice").want(t, http.StatusOK, "20 in all")
	b.get("/admin/acc?user=alice@example.com&from=2025-03-15&to=2025-03-15").want(t, http.StatusOK, "8 in all")
	b.get("/admin/acc?user=bad%20user").want(t, http.StatusUnprocessableEntity, "only letters")
	b.get("/admin/acc?from=yesterday").want(t, http.StatusUnprocessableEntity, "YYYY-MM-DD")
	b.get("/admin/acc?table=missed").want(t, http.StatusOK, "missed-1")
	b.get("/admin/acc?table=nosuch").want(t, http.StatusOK, "acc-59")

	ex := b.get("/admin/acc/export?user=bob")
	ex.want(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(ex.body)).ReadAll()
	if err != nil || len(rows) != 41 || rows[0][0] != "time" || rows[1][9] != "acc-59" {
		t.Fatalf("csv %d rows, %v: %v", len(rows), err, rows[:2])
	}
	ex = b.get("/admin/acc/export?table=missed")
	rows, _ = csv.NewReader(strings.NewReader(ex.body)).ReadAll()
	if len(rows) != 2 || rows[1][5] != `'=HYPERLINK("http://evil")` {
		t.Errorf("formula not defused: %q", rows)
	}
	b.get("/admin/acc/export?from=bad").want(t, http.StatusBadRequest)
}

func TestLCR(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("root")
	b.get("/admin/lcr").want(t, http.StatusOK, "No gateway.", "No group: add one before gateways.")
	b.post("/admin/lcr/group-add", "name", "").want(t, http.StatusUnprocessableEntity, "required")
	b.post("/admin/lcr/group-add", "name", "carrier").redirectsTo(t, "/admin/lcr")
	b.get("/admin/lcr").want(t, http.StatusOK, "Gateway group carrier (1) added. (The lcr module is not loaded: nothing to reload.)")
	gwTests := []struct {
		name string
		kv   []string
		want string
	}{
		{name: "bad name", kv: []string{"name", "gw 1", "group", "1", "ip", "192.0.2.10", "scheme", "sip", "transport", "udp"}, want: "letters, digits"},
		{name: "no group", kv: []string{"name", "gw1", "group", "7", "ip", "192.0.2.10", "scheme", "sip", "transport", "udp"}, want: "no such gateway group"},
		{name: "ipv6", kv: []string{"name", "gw1", "group", "1", "ip", "2001:db8::1", "scheme", "sip", "transport", "udp"}, want: "an IPv4 address"},
		{name: "port", kv: []string{"name", "gw1", "group", "1", "ip", "192.0.2.10", "port", "0", "scheme", "sip", "transport", "udp"}, want: "from 1 to 65535"},
		{name: "scheme", kv: []string{"name", "gw1", "group", "1", "ip", "192.0.2.10", "scheme", "http", "transport", "udp"}, want: "sip or sips"},
		{name: "transport", kv: []string{"name", "gw1", "group", "1", "ip", "192.0.2.10", "scheme", "sip", "transport", "sctp"}, want: "udp, tcp or tls"},
		{name: "prefix", kv: []string{"name", "gw1", "group", "1", "ip", "192.0.2.10", "scheme", "sip", "transport", "udp", "prefix", "0x"}, want: "digits only"},
	}
	for _, tc := range gwTests {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/admin/lcr/gw-add", tc.kv...).want(t, http.StatusUnprocessableEntity, tc.want)
		})
	}
	b.post("/admin/lcr/gw-add", "name", "gw1", "group", "1", "ip", "192.0.2.10", "port", "5060", "scheme", "sips",
		"transport", "tls", "prefix", "00").redirectsTo(t, "/admin/lcr")
	b.post("/admin/lcr/gw-add", "name", "gw1", "group", "1", "ip", "192.0.2.11", "scheme", "sip", "transport", "udp").
		want(t, http.StatusUnprocessableEntity, "a gateway of this name exists")
	b.post("/admin/lcr/trunk-set", "gw", "gw1", "cap", "x", "priority", "0").want(t, http.StatusUnprocessableEntity, "a number from 1")
	b.post("/admin/lcr/trunk-set", "gw", "nogw", "cap", "4", "priority", "0").want(t, http.StatusUnprocessableEntity, "no such gateway")
	b.post("/admin/lcr/trunk-set", "gw", "gw1", "cap", "4", "prefix", "99", "priority", "2").redirectsTo(t, "/admin/lcr")
	b.post("/admin/lcr/rule-add", "prefix", "0043", "from_uri", "", "group", "1", "priority", "300").
		want(t, http.StatusUnprocessableEntity, "a number from 0 to 255")
	b.post("/admin/lcr/rule-add", "prefix", "0043", "from_uri", "", "group", "1", "priority", "1").redirectsTo(t, "/admin/lcr")
	data, err := e.st.LoadLCR(ctx)
	if err != nil || len(data.Gateways) != 1 || len(data.Rules) != 1 || len(data.Gateways[0].Trunks) != 1 {
		t.Fatalf("lcr %+v, %v", data, err)
	}
	g := data.Gateways[0]
	if g.IP != netip.MustParseAddr("192.0.2.10") || g.Port != 5060 || g.Scheme != store.SchemeSIPS || g.Transport != store.TransportTLS ||
		g.Prefix != "00" || g.Trunks[0] != (store.Trunk{Cap: 4, Prefix: "99", Priority: 2}) || data.Rules[0].FromURI != "%" {
		t.Errorf("gateway %+v rules %+v", g, data.Rules)
	}
	b.get("/admin/lcr").want(t, http.StatusOK, "192.0.2.10:5060", "sips", "tls", "4: 99, 2", "0043")
	// A group in use is kept.
	b.post("/admin/lcr/group-delete", "id", "1").redirectsTo(t, "/admin/lcr")
	b.get("/admin/lcr").want(t, http.StatusOK, "is used by gateway gw1: not deleted.")
	// With an lcr module answering lcr_reload, the reload is reported.
	e.exec.on("lcr_reload", func([]string) (*rpc.Reply, error) { return rpc.Raw("200 OK\n"), nil })
	b.post("/admin/lcr/trunk-delete", "gw", "gw1", "cap", "4").redirectsTo(t, "/admin/lcr")
	b.get("/admin/lcr").want(t, http.StatusOK, "Trunk deleted. ser reloaded its LCR tables.")
	e.exec.on("lcr_reload", func([]string) (*rpc.Reply, error) { return rpc.Raw("500 reload failed\n"), nil })
	b.post("/admin/lcr/rule-delete", "prefix", "0043", "from_uri", "%", "group", "1", "priority", "1").redirectsTo(t, "/admin/lcr")
	b.get("/admin/lcr").want(t, http.StatusOK, "But lcr_reload failed")
	b.post("/admin/lcr/gw-delete", "name", "gw1").redirectsTo(t, "/admin/lcr")
	b.post("/admin/lcr/gw-delete", "name", "gw1").redirectsTo(t, "/admin/lcr")
	b.get("/admin/lcr").want(t, http.StatusOK, "the entry was gone already")
	b.post("/admin/lcr/group-delete", "id", "1").redirectsTo(t, "/admin/lcr")
	b.post("/admin/lcr/nosuch").want(t, http.StatusNotFound)
	if data, _ := e.st.LoadLCR(ctx); len(data.Gateways)+len(data.Groups)+len(data.Rules) != 0 {
		t.Errorf("left %+v", data)
	}
}

func TestPrivileges(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("root")
	b.get("/admin/privileges").want(t, http.StatusOK, "root@example.com", "Grant a privilege")
	b.post("/admin/privileges/grant", "user", "mallory", "priv", "is_admin").want(t, http.StatusUnprocessableEntity, "no such user")
	b.post("/admin/privileges/grant", "user", "alice", "priv", "root").want(t, http.StatusUnprocessableEntity, "choose a privilege")
	b.post("/admin/privileges/grant", "user", "alice", "priv", "acl_control", "group", "vip").
		want(t, http.StatusUnprocessableEntity, "choose an ACL group")
	b.post("/admin/privileges/grant", "user", "alice", "priv", "is_admin").redirectsTo(t, "/admin/privileges")
	b.post("/admin/privileges/grant", "user", "alice", "priv", "is_admin").want(t, http.StatusUnprocessableEntity, "has this privilege already")
	b.post("/admin/privileges/grant", "user", "alice", "priv", "acl_control", "group", "ld").redirectsTo(t, "/admin/privileges")
	if p, _ := e.st.Privileges(ctx, "alice", "example.com"); len(p) != 2 {
		t.Errorf("alice's privileges %+v", p)
	}
	// alice is an admin without change_privileges: she may look, not change.
	a := e.as("alice")
	a.get("/admin/privileges").want(t, http.StatusOK, "You may look but not change")
	a.post("/admin/privileges/grant", "user", "alice", "priv", "change_privileges").want(t, http.StatusForbidden)
	a.post("/admin/privileges/revoke", "u", "root", "d", "example.com", "priv", "is_admin", "value", "1").want(t, http.StatusForbidden)
	// The last change_privileges holder cannot lose it.
	b.post("/admin/privileges/revoke", "u", "root", "d", "example.com", "priv", "change_privileges", "value", "1").
		redirectsTo(t, "/admin/privileges")
	b.get("/admin/privileges").want(t, http.StatusOK, "is the last holder of change_privileges: not revoked.")
	b.post("/admin/privileges/revoke", "u", "alice", "d", "example.com", "priv", "acl_control", "value", "ld").
		redirectsTo(t, "/admin/privileges")
	b.post("/admin/privileges/revoke", "u", "alice", "d", "example.com", "priv", "is_admin", "value", "1").
		redirectsTo(t, "/admin/privileges")
	// Revoked privileges take effect at once, without a new login.
	a.get("/admin/").want(t, http.StatusForbidden)
	b.post("/admin/privileges/revoke", "u", "alice", "d", "example.com", "priv", "is_admin", "value", "1").
		redirectsTo(t, "/admin/privileges")
	b.get("/admin/privileges").want(t, http.StatusOK, "Nothing to revoke.")
	b.post("/admin/privileges/revoke", "u", "alice").want(t, http.StatusBadRequest)
}

func TestStatusPage(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.SampleInterval = time.Minute })
	ctx := context.Background()
	// Samples over an hour: transactions grow by 60 a minute.
	var total uint64
	e.exec.on("t_stats", func([]string) (*rpc.Reply, error) {
		total += 60
		return rpc.Raw(fmt.Sprintf("200 ok\nCurrent: 3 (1 waiting) Total: %d (2 local)       \nReplied localy: 4      \n"+
			"Completion status 6xx: 0, 5xx: 1, 4xx: 2, 3xx: 0,2xx: %d      \n", total, total-3)), nil
	})
	for i := 0; i < 60; i++ {
		e.app.sample(ctx)
		e.clk.Advance(time.Minute)
	}
	b := e.as("root")
	p := b.get("/admin/")
	p.want(t, http.StatusOK, "Sip EXpress router (", "Transactions now", ">3<", "Transactions in all", ">3660<",
		"Completed 2xx", "Stateless replies", "failures", "Registered (location)", "<svg class=\"chart\"",
		"New transactions (per minute) <strong title=\"latest value\">60/min</strong>", "Transactions in progress <strong title=\"latest value\">3</strong>",
		"sampled every minute")
	if strings.Count(p.body, `<path class="line"`) != 4 {
		t.Errorf("%d chart lines", strings.Count(p.body, `<path class="line"`))
	}
	b.get("/admin/?range=24h").want(t, http.StatusOK, `class="active">last 24h`)
	b.get("/admin/?range=bogus").want(t, http.StatusOK, `class="active">last 1h`)
	// A day is kept, not more.
	e.clk.Advance(25 * time.Hour)
	e.app.sample(ctx)
	if n := len(e.app.stats.since(time.Time{})); n != 1 {
		t.Errorf("%d samples kept", n)
	}
	// ser down: the page still renders and says so.
	b = e.as("root")
	e.exec.setFail(true)
	b.get("/admin/").want(t, http.StatusOK, "the SIP server did not answer")
}

func TestSamplerRuns(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.SampleInterval = 20 * time.Millisecond; o.Clock = time.Now })
	if err := e.app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Start(context.Background()); err == nil {
		t.Error("started twice")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.app.stats.since(time.Time{})) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	e.app.Stop()
	e.app.Stop()
	s := e.app.stats.since(time.Time{})
	if len(s) < 3 || !s[0].HasT || !s[0].HasSL || !s[0].HasUL {
		t.Fatalf("samples %+v", s)
	}
	n := len(s)
	time.Sleep(60 * time.Millisecond)
	if len(e.app.stats.since(time.Time{})) != n {
		t.Error("sampling after Stop")
	}
}

func TestDatabaseFailure(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("root")
	b.get("/admin/users").want(t, http.StatusOK)
	e.st.Close()
	p := b.get("/admin/users")
	p.want(t, http.StatusInternalServerError, "Database error", "nothing was changed")
}
