package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/store"
)

// prefs returns username@example.com's usr_preferences as attribute →
// value, failing on any type but avpops's 0 (string name and value).
func prefs(t *testing.T, e *env, user string) map[string]string {
	t.Helper()
	ps, err := e.st.Preferences(context.Background(), user, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range ps {
		if p.Type != 0 {
			t.Errorf("%s has type %d", p.Attribute, p.Type)
		}
		out[p.Attribute] = p.Value
	}
	return out
}

func TestForwarding(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("alice")
	b.get("/forwarding").want(t, http.StatusOK, "Call forwarding", "When busy", "When not answered", `name="callfwd"`)
	// A number and a user become SIP URIs of the domain.
	b.post("/forwarding", "callfwd", "5551234", "fwdbusy", "bob", "fwdnoanswer", "").redirectsTo(t, "/forwarding")
	if p := prefs(t, e, "alice"); len(p) != 2 || p["callfwd"] != "sip:5551234@example.com" || p["fwdbusy"] != "sip:bob@example.com" {
		t.Errorf("after save: %v", p)
	}
	b.get("/forwarding").want(t, http.StatusOK, "Call forwarding saved.", `value="sip:5551234@example.com"`)
	// Every bad field is reported; nothing is written.
	p := b.post("/forwarding", "callfwd", "sip:bad host", "fwdbusy", "alice", "fwdnoanswer", "sip:carol@example.com:99999")
	p.want(t, http.StatusUnprocessableEntity, "<strong>Always</strong>: not a SIP URI",
		"<strong>When busy</strong>: this is the user&#39;s own address", "<strong>When not answered</strong>: port out of range")
	if p := prefs(t, e, "alice"); p["callfwd"] != "sip:5551234@example.com" || p["fwdnoanswer"] != "" {
		t.Errorf("a refused form changed the preferences: %v", p)
	}
	// Clearing a field turns that forwarding off.
	b.post("/forwarding", "callfwd", "", "fwdbusy", "sip:bob@example.com", "fwdnoanswer", "sips:vm@example.net").redirectsTo(t, "/forwarding")
	if p := prefs(t, e, "alice"); len(p) != 2 || p["fwdnoanswer"] != "sips:vm@example.net" || p["callfwd"] != "" {
		t.Errorf("after clearing: %v", p)
	}
	// The administrator's variant writes another user's forwarding and
	// the user page summarises it.
	root := e.as("root")
	root.get("/admin/users/forwarding?u=bob&d=example.com").want(t, http.StatusOK, "of <a href=\"/admin/users/edit?u=bob&amp;d=example.com\">bob@example.com</a>")
	root.post("/admin/users/forwarding", "u", "bob", "d", "example.com", "callfwd", "sip:alice@example.com").
		redirectsTo(t, "/admin/users/forwarding?u=bob&d=example.com")
	if p := prefs(t, e, "bob"); p["callfwd"] != "sip:alice@example.com" {
		t.Errorf("bob: %v", p)
	}
	root.get("/admin/users/edit?u=bob&d=example.com").want(t, http.StatusOK, "Forward always", "sip:alice@<wbr>example.<wbr>com", "Forward when busy")
	root.get("/admin/users/forwarding?u=nobody&d=example.com").want(t, http.StatusNotFound)
	// A user's own page never shows another's.
	if p := prefs(t, e, "alice"); p["callfwd"] != "" {
		t.Errorf("alice changed by bob's form: %v", p)
	}
}

func TestSpeedDialPage(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("alice")
	b.get("/speeddial").want(t, http.StatusOK, "No short number yet.")
	b.post("/speeddial/save", "short", "11", "calls", "bob", "fname", "Bob").redirectsTo(t, "/speeddial")
	sd, err := e.st.SpeedDials(ctx, "alice", "example.com")
	if err != nil || len(sd) != 1 || sd[0].SDUsername != "11" || sd[0].SDDomain != "example.com" || sd[0].NewURI != "sip:bob@example.com" {
		t.Fatalf("speed dials %+v %v", sd, err)
	}
	if uri, err := e.st.LookupSpeedDial(ctx, "alice", "example.com", "11", "example.com"); err != nil || uri != "sip:bob@example.com" {
		t.Errorf("sd_lookup would give %q, %v", uri, err)
	}
	b.get("/speeddial").want(t, http.StatusOK, "Speed dial 11 saved.", "sip:bob@example.com", "Bob")
	b.post("/speeddial/save", "short", "1 1", "calls", "").want(t, http.StatusUnprocessableEntity,
		"<strong>Dial</strong>: digits", "<strong>Calls</strong>: required")
	b.post("/speeddial/delete", "short", "11", "sd_domain", "example.com").redirectsTo(t, "/speeddial")
	b.get("/speeddial").want(t, http.StatusOK, "Speed dial 11 deleted.", "No short number yet.")
	// The administrator's variant.
	root := e.as("root")
	root.get("/admin/users/speeddial?u=bob&d=example.com").want(t, http.StatusOK, "Speed dial", "bob@example.com")
	root.post("/admin/users/speeddial/save", "u", "bob", "d", "example.com", "short", "7", "calls", "sip:alice@example.com").
		redirectsTo(t, "/admin/users/speeddial?u=bob&d=example.com")
	if sd, _ := e.st.SpeedDials(ctx, "bob", "example.com"); len(sd) != 1 || sd[0].NewURI != "sip:alice@example.com" {
		t.Errorf("bob's speed dials %+v", sd)
	}
}

func TestMessageStorePages(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	for i, u := range []string{"alice", "bob", "alice"} {
		if err := e.st.RawExec(ctx, fmt.Sprintf("INSERT INTO silo (src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body) "+
			"VALUES ('sip:carol@example.net', 'sip:%[1]s@example.com', 'sip:%[1]s@example.com', '%[1]s', 'example.com', %d, %d, 'text/plain', 'note %d for %[1]s')",
			u, 1741944413+i, 1741948013+i, i)); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("alice")
	p := b.get("/messages")
	p.want(t, http.StatusOK, "note 0 for alice", "note 2 for alice", "sip:carol@example.net")
	if strings.Contains(p.body, "for bob") {
		t.Error("alice sees bob's message")
	}
	all, _, _ := e.st.StoredMessages(ctx, "bob", "example.com", store.Page{})
	// Alice cannot delete bob's message.
	b.post("/messages/delete", "mid", fmt.Sprint(all[0].MID)).redirectsTo(t, "/messages")
	b.get("/messages").want(t, http.StatusOK, "Nothing to delete")
	if _, n, _ := e.st.StoredMessages(ctx, "bob", "example.com", store.Page{}); n != 1 {
		t.Fatal("alice deleted bob's message")
	}
	root := e.as("root")
	root.get("/admin/messages").want(t, http.StatusOK, "note 1 for bob", "note 0 for alice", "3 in all")
	root.get("/admin/messages?user=bob").want(t, http.StatusOK, "note 1 for bob", "1 in all")
	root.get("/admin/messages?user=b%20b").want(t, http.StatusOK, "only letters, digits")
	root.post("/admin/messages/delete", "mid", fmt.Sprint(all[0].MID), "user", "bob").redirectsTo(t, "/admin/messages?user=bob")
	if _, n, _ := e.st.StoredMessages(ctx, "", "", store.Page{}); n != 2 {
		t.Errorf("%d messages left", n)
	}
}

func TestDomainsPage(t *testing.T) {
	e := newEnv(t, "")
	root := e.as("root")
	// Without the domain module the page says so and the table is kept.
	root.get("/admin/domains").want(t, http.StatusOK, "The domain module is not loaded", "The domain table is empty.")
	root.post("/admin/domains/add", "domain", "Example.NET").redirectsTo(t, "/admin/domains")
	root.get("/admin/domains").want(t, http.StatusOK, "Domain example.net added. ser has no domain_reload command", "example.net")
	root.post("/admin/domains/add", "domain", "example.net").want(t, http.StatusUnprocessableEntity, "in the table already")
	root.post("/admin/domains/add", "domain", "bad_domain..x").want(t, http.StatusUnprocessableEntity, "not a valid host name")
	// With it: domain_reload runs and domain_dump tells what is loaded.
	reloads := 0
	e.exec.on("domain_reload", func([]string) (*rpc.Reply, error) { reloads++; return rpc.NewReply(200, "OK", ""), nil })
	e.exec.on("domain_dump", func([]string) (*rpc.Reply, error) { return rpc.NewReply(200, "OK", "   3 example.net\n"), nil })
	root.post("/admin/domains/add", "domain", "example.org").redirectsTo(t, "/admin/domains")
	p := root.get("/admin/domains")
	p.want(t, http.StatusOK, "Domain example.org added. ser reloaded its domain table.", ">loaded<", ">not loaded<")
	root.post("/admin/domains/delete", "domain", "example.org").redirectsTo(t, "/admin/domains")
	if reloads != 2 {
		t.Errorf("%d domain_reload", reloads)
	}
	if ds, _ := e.st.Domains(context.Background()); len(ds) != 1 || ds[0].Domain != "example.net" {
		t.Errorf("domains %+v", ds)
	}
}

func TestDispatcherPage(t *testing.T) {
	e := newEnv(t, "")
	root := e.as("root")
	root.get("/admin/dispatcher").want(t, http.StatusOK, "The dispatcher module is not loaded", "No destination set.")
	root.post("/admin/dispatcher/add", "setid", "x", "destination", "10.0.0.1", "priority", "5000").want(t, http.StatusUnprocessableEntity,
		"<strong>Set</strong>: a number", "<strong>Destination</strong>: not a SIP URI", "<strong>Priority</strong>: a number")
	root.post("/admin/dispatcher/add", "setid", "1", "destination", "sip:10.0.0.1:5060", "priority", "5", "description", "first").
		redirectsTo(t, "/admin/dispatcher")
	root.get("/admin/dispatcher").want(t, http.StatusOK, "Destination sip:10.0.0.1:5060 added to set 1.", "Set 1", "first", "not loaded")
	// With the module: states from ds_list (a destination from a list
	// file too), ds_set_state and ds_reload.
	e.exec.on("ds_list", func([]string) (*rpc.Reply, error) {
		return rpc.NewReply(200, "OK", "SET_NO:: 2\nSET:: 1\n\tURI:: sip:10.0.0.1:5060 flags=AP priority=5\nSET:: 2\n\tURI:: sip:10.0.0.9 flags=IX priority=0\n"), nil
	})
	var state []string
	e.exec.on("ds_set_state", func(p []string) (*rpc.Reply, error) { state = p; return rpc.NewReply(200, "OK", ""), nil })
	e.exec.on("ds_reload", func([]string) (*rpc.Reply, error) { return rpc.NewReply(200, "OK", ""), nil })
	p := root.get("/admin/dispatcher")
	p.want(t, http.StatusOK, ">active<", "probing", "Set 2", "sip:10.0.0.9", ">inactive<", "from ser's list file", "Disable", "Activate")
	root.post("/admin/dispatcher/state", "setid", "1", "uri", "sip:10.0.0.1:5060", "state", "d").redirectsTo(t, "/admin/dispatcher")
	if strings.Join(state, " ") != "d 1 sip:10.0.0.1:5060" {
		t.Errorf("ds_set_state %q", state)
	}
	root.get("/admin/dispatcher").want(t, http.StatusOK, "sip:10.0.0.1:5060 in set 1 is now disabled.")
	root.post("/admin/dispatcher/state", "setid", "1", "uri", "sip:10.0.0.1:5060", "state", "x").redirectsTo(t, "/admin/dispatcher")
	ds, _ := e.st.DispatcherDests(context.Background(), "")
	root.post("/admin/dispatcher/delete", "id", fmt.Sprint(ds[0].ID)).redirectsTo(t, "/admin/dispatcher")
	root.get("/admin/dispatcher").want(t, http.StatusOK, "Destination deleted. ser reloaded the dispatcher table.")
}

func TestUsersListOnlineAndGroups(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if err := e.st.Grant(ctx, "alice", "example.com", "ld"); err != nil {
		t.Fatal(err)
	}
	ser := e.app.ser
	if err := ser.AddPermanent(ctx, "location", "alice@example.com", "sip:alice@192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := ser.AddPermanent(ctx, "aliases", "5551234@example.com", "sip:alice@example.com"); err != nil {
		t.Fatal(err)
	}
	root := e.as("root")
	p := root.get("/admin/users")
	p.want(t, http.StatusOK, `<span class="tag">ld</span>`, ">online<", ">offline<")
	root.get("/admin/users/edit?u=alice&d=example.com").want(t, http.StatusOK, "Aliases pointing to this user", "<code>5551234")
	root.get("/admin/online").want(t, http.StatusOK, "its contact (no NAT)")
	e.exec.setFail(true)
	root.get("/admin/users").want(t, http.StatusOK, "Online state unknown", ">unknown<")
}

// TestAccAttribution: missed calls to an alias appear on the target's
// page, a domain given as the server's address is the SIP domain, and the
// per-user totals of the accounting page add the spellings up.
func TestAccAttribution(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.LocalHosts = []string{"192.0.2.1", "[2001:db8::1]"} })
	ctx := context.Background()
	if err := e.app.ser.AddPermanent(ctx, "aliases", "5551234@example.com", "sip:alice@example.com"); err != nil {
		t.Fatal(err)
	}
	for i, r := range []store.AccRecord{
		{Username: "5551234", Domain: "example.com", CallID: "via-alias"},
		{Username: "alice", Domain: "192.0.2.1", CallID: "via-ip"},
		{Username: "alice", Domain: "2001:db8::1", CallID: "via-ip6"},
		{Username: "alice", Domain: "other.org", CallID: "other-alice"},
		{Username: "bob", Domain: "example.com", CallID: "bobs"},
	} {
		r.Time = t0.Add(time.Duration(i) * time.Minute)
		r.Method, r.Status = "INVITE", "480 Temporarily Unavailable"
		if err := e.st.InsertAcc(ctx, "missed_calls", r); err != nil {
			t.Fatal(err)
		}
	}
	p := e.as("alice").get("/calls")
	p.want(t, http.StatusOK, "via-alias", "via-ip", "via-ip6", "via 5551234", "3 in all")
	if strings.Contains(p.body, "other-alice") || strings.Contains(p.body, "bobs") || strings.Contains(p.body, "192.0.2.1<") {
		t.Errorf("alice's missed calls:\n%s", p.body)
	}
	root := e.as("root")
	p = root.get("/admin/acc?table=missed")
	p.want(t, http.StatusOK, "<th>alice@example.com</th><td>3</td>", "<th>alice@other.org</th><td>1</td>", "<th>bob@example.com</th><td>1</td>")
	root.get("/admin/acc?table=missed&user=alice").want(t, http.StatusOK, "via-alias", "via-ip6", "3 in all")
	root.get("/admin/acc?table=missed&user=alice%40other.org").want(t, http.StatusOK, "other-alice", "1 in all")
	csv := root.get("/admin/acc/export?table=missed&user=alice")
	if !strings.Contains(csv.body, ",alice@example.com\n") || strings.Count(csv.body, "\n") != 4 {
		t.Errorf("export:\n%s", csv.body)
	}
}

func TestPreferencesPage(t *testing.T) {
	e := newEnv(t, "")
	root := e.as("root")
	root.get("/admin/users/preferences?u=alice&d=example.com").want(t, http.StatusOK, "No preference.")
	root.post("/admin/users/preferences", "u", "alice", "d", "example.com", "attribute", "lang", "value", "de", "type", "string").
		redirectsTo(t, "/admin/users/preferences?u=alice&d=example.com")
	root.post("/admin/users/preferences", "u", "alice", "d", "example.com", "attribute", "maxcalls", "value", "3", "type", "integer").
		redirectsTo(t, "/admin/users/preferences?u=alice&d=example.com")
	root.post("/admin/users/preferences", "u", "alice", "d", "example.com", "attribute", "9bad", "value", "x", "type", "integer").
		want(t, http.StatusUnprocessableEntity, "<strong>Attribute</strong>: letters", "<strong>Value</strong>: a whole number")
	root.post("/admin/users/preferences", "u", "alice", "d", "example.com", "attribute", "web_must_change_password", "value", "x", "type", "string").
		want(t, http.StatusUnprocessableEntity, "not editable")
	ps, _ := e.st.Preferences(context.Background(), "alice", "example.com")
	if len(ps) != 2 || ps[0].Attribute != "lang" || ps[0].Type != 0 || ps[1].Attribute != "maxcalls" || ps[1].Type != 1 || ps[1].Value != "3" {
		t.Errorf("preferences %+v", ps)
	}
	root.get("/admin/users/preferences?u=alice&d=example.com").want(t, http.StatusOK, "<code>lang</code>", ">number<")
	root.post("/admin/users/preferences/delete", "u", "alice", "d", "example.com", "attribute", "lang").
		redirectsTo(t, "/admin/users/preferences?u=alice&d=example.com")
	if ps, _ := e.st.Preferences(context.Background(), "alice", "example.com"); len(ps) != 1 {
		t.Errorf("after delete %+v", ps)
	}
}
