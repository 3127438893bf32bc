package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

func TestACL(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("root")
	b.get("/admin/acl").want(t, http.StatusOK, "Members of local", "free-pstn", "prepaid")
	tests := []struct {
		name, user, group string
		status            int
		want              string
	}{
		{name: "grant", user: "alice", group: "ld", status: http.StatusSeeOther},
		{name: "grant with domain", user: "bob@example.com", group: "ld", status: http.StatusSeeOther},
		{name: "duplicate", user: "alice", group: "ld", status: http.StatusUnprocessableEntity, want: "is in ld already"},
		{name: "unknown user", user: "mallory", group: "ld", status: http.StatusUnprocessableEntity, want: "no such user: mallory@example.com"},
		{name: "bad user", user: "a b", group: "ld", status: http.StatusUnprocessableEntity, want: "only letters"},
		{name: "unknown group", user: "alice", group: "vip", status: http.StatusUnprocessableEntity, want: "not one of the ACL groups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/admin/acl/grant", "user", tc.user, "group", tc.group)
			if tc.status == http.StatusSeeOther {
				p.redirectsTo(t, "/admin/acl?group="+tc.group)
				return
			}
			p.want(t, tc.status, tc.want, `value="`+tc.user+`"`)
		})
	}
	b.get("/admin/acl?group=ld").want(t, http.StatusOK, "alice@example.com", "bob@example.com")
	b.post("/admin/acl/revoke", "u", "bob", "d", "example.com", "group", "ld").redirectsTo(t, "/admin/acl?group=ld")
	b.post("/admin/acl/revoke", "u", "bob", "d", "example.com", "group", "ld").redirectsTo(t, "/admin/acl?group=ld")
	b.get("/admin/acl?group=ld").want(t, http.StatusOK, "was not in ld")
	if g, _ := e.st.UserGroups(ctx, "bob", "example.com"); len(g) != 0 {
		t.Errorf("bob's groups %v", g)
	}
	// From the user page: back to the user page.
	b.post("/admin/acl/grant", "user", "bob@example.com", "group", "int", "back", "user").
		redirectsTo(t, "/admin/users/edit?u=bob&d=example.com")
	b.get("/admin/users/edit?u=bob&d=example.com").want(t, http.StatusOK, "bob@example.com added to int.")
	b.post("/admin/acl/grant", "user", "bob@example.com", "group", "int", "back", "user").
		redirectsTo(t, "/admin/users/edit?u=bob&d=example.com")
	b.get("/admin/users/edit?u=bob&d=example.com").want(t, http.StatusOK, "Not granted: bob@example.com is in int already")

	// An admin with acl_control=ld only controls ld.
	if err := e.st.GrantPrivilege(ctx, "alice", "example.com", store.PrivIsAdmin, "1"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.GrantPrivilege(ctx, "alice", "example.com", store.PrivACLControl, "ld"); err != nil {
		t.Fatal(err)
	}
	a := e.as("alice")
	a.get("/admin/acl?group=int").want(t, http.StatusOK)
	a.post("/admin/acl/grant", "user", "root", "group", "int").want(t, http.StatusForbidden, "may not change the members of group int")
	a.post("/admin/acl/revoke", "u", "bob", "d", "example.com", "group", "int").want(t, http.StatusForbidden)
	a.post("/admin/acl/grant", "user", "root", "group", "ld").redirectsTo(t, "/admin/acl?group=ld")
	if g, _ := e.st.UserGroups(ctx, "bob", "example.com"); len(g) != 1 || g[0] != "int" {
		t.Errorf("bob's groups %v", g)
	}
}

func TestACLConfiguredGroups(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.Groups = []string{"gold", "silver"} })
	b := e.as("root")
	p := b.get("/admin/acl")
	p.want(t, http.StatusOK, "Members of gold", "silver")
	if strings.Contains(p.body, "?group=prepaid") {
		t.Error("default groups shown")
	}
	b.post("/admin/acl/grant", "user", "alice", "group", "ld").want(t, http.StatusUnprocessableEntity, "not one of the ACL groups")
	b.post("/admin/acl/grant", "user", "alice", "group", "gold").redirectsTo(t, "/admin/acl?group=gold")
	if _, err := New(Options{Store: e.st, Exec: e.exec, Groups: []string{"bad group"}}); err == nil {
		t.Error("a bad group name was accepted")
	}
}

func TestAliases(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	b := e.as("root")
	b.get("/admin/aliases").want(t, http.StatusOK, "No alias.")
	tests := []struct {
		name, alias, target string
		want                string
	}{
		{name: "bad target", alias: "8885551192", target: "http://example.com/", want: "not a SIP URI"},
		{name: "target with header", alias: "8885551192", target: "sip:alice@example.com?Subject=x", want: "not a SIP URI"},
		{name: "target bad host", alias: "8885551192", target: "sip:alice@exa..mple", want: "host: not a valid host name"},
		{name: "target bad port", alias: "8885551192", target: "sip:alice@example.com:70000", want: "port out of range"},
		{name: "alias is a user", alias: "bob", target: "sip:alice@example.com", want: "a user of this name exists"},
		{name: "bad alias", alias: "88 85", target: "sip:alice@example.com", want: "only letters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/admin/aliases/add", "alias", tc.alias, "domain", "example.com", "target", tc.target).
				want(t, http.StatusUnprocessableEntity, tc.want)
		})
	}
	b.post("/admin/aliases/add", "alias", "8885551192", "domain", "example.com", "target", "sip:alice@example.com").
		redirectsTo(t, "/admin/aliases")
	b.get("/admin/aliases").want(t, http.StatusOK, "8885551192", "sip:alice@example.com", "added.")
	cs, _ := ser.ShowContacts(ctx, "aliases", "8885551192@example.com")
	if len(cs) != 1 || !cs[0].Permanent || cs[0].URI != "sip:alice@example.com" {
		t.Fatalf("alias in ser: %+v", cs)
	}
	if p := e.exec.lastParams("ul_add"); strings.Join(p, "|") != "aliases|8885551192@example.com|sip:alice@example.com|0|1.00|0|128" {
		t.Errorf("ul_add params %q (want serctl alias add's)", p)
	}
	b.post("/admin/aliases/add", "alias", "8885551192", "domain", "example.com", "target", "sip:alice@example.com").
		want(t, http.StatusUnprocessableEntity, "points there already")
	// The user sees it on their account page.
	e.as("alice").get("/account").want(t, http.StatusOK, "8885551192")
	b.get("/admin/aliases?q=888").want(t, http.StatusOK, "8885551192")
	if p := b.get("/admin/aliases?q=zzz"); strings.Contains(p.body, "8885551192</code>") {
		t.Error("filter did not filter")
	}
	b.post("/admin/aliases/delete", "aor", "8885551192", "target", "sip:alice@example.com").redirectsTo(t, "/admin/aliases")
	b.get("/admin/aliases").want(t, http.StatusOK, "removed.")
	b.post("/admin/aliases/delete", "aor", "8885551192", "target", "sip:alice@example.com").redirectsTo(t, "/admin/aliases")
	b.get("/admin/aliases").want(t, http.StatusOK, "was gone already")
	b.post("/admin/aliases/delete").want(t, http.StatusBadRequest)
}

// noAliasesCfg has no aliases table.
const noAliasesCfg = `
fork=no
loadmodule "modules/sl/sl.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
route {
	if (method=="REGISTER") { save("location"); break; };
	sl_send_reply("404", "Not Found");
}
`

func TestAliasesWithoutTable(t *testing.T) {
	e := newEnv(t, noAliasesCfg)
	b := e.as("root")
	b.get("/admin/aliases").want(t, http.StatusOK, `ser has no "aliases" table`)
	b.post("/admin/aliases/add", "alias", "8885551192", "domain", "example.com", "target", "sip:alice@example.com").
		want(t, http.StatusUnprocessableEntity, "the routing script must use it")
	// Users can still be created (no aliases: nothing to overlap).
	b.post("/admin/users/new", "username", "carol", "domain", "example.com", "password", "password1",
		"confirm_password", "password1").redirectsTo(t, "/admin/users/edit?u=carol&d=example.com")
	// And the status page says what is missing.
	b.get("/admin/").want(t, http.StatusOK, "not available (module not loaded)")
}

func TestOnline(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	b := e.as("root")
	b.get("/admin/online").want(t, http.StatusOK, "Nobody is registered.")
	if err := ser.Add(ctx, "location", "alice@example.com", "sip:alice@192.0.2.1:5060", 3600, "0.5"); err != nil {
		t.Fatal(err)
	}
	if err := ser.Add(ctx, "location", "bob@example.com", "sip:bob@192.0.2.2:5062;transport=tcp", 60, "1"); err != nil {
		t.Fatal(err)
	}
	p := b.get("/admin/online")
	p.want(t, http.StatusOK, "sip:alice@192.0.2.1:5060", "sip:bob@192.0.2.2:5062;transport=tcp", "SIP Express Router FIFO",
		"in 1h 0m", "in 1m 0s", "users: 2, contacts: 2")
	p = b.get("/admin/online?q=bob")
	if strings.Contains(p.body, "192.0.2.1:5060") {
		t.Error("filter did not filter")
	}
	tests := []struct {
		name, user, contact, want string
	}{
		{name: "unknown user", user: "mallory", contact: "sip:m@192.0.2.9", want: "no such user"},
		{name: "bad contact", user: "alice", contact: "alice@192.0.2.9", want: "not a SIP URI"},
		{name: "no contact", user: "alice", contact: "", want: "required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/admin/online/add", "user", tc.user, "contact", tc.contact).want(t, http.StatusUnprocessableEntity, tc.want)
		})
	}
	b.post("/admin/online/add", "user", "alice", "contact", "sip:alice@192.0.2.77").redirectsTo(t, "/admin/online")
	b.get("/admin/online").want(t, http.StatusOK, "sip:alice@192.0.2.77", "never")
	b.post("/admin/online/delete", "aor", "bob", "contact", "sip:bob@192.0.2.2:5062;transport=tcp").redirectsTo(t, "/admin/online")
	p = b.get("/admin/online")
	p.want(t, http.StatusOK, "removed.")
	if strings.Contains(p.body, `<td class="uri">sip:bob@192.0.2.2:5062`) {
		t.Error("contact not removed")
	}
	b.post("/admin/online/delete", "aor", "bob", "contact", "sip:bob@192.0.2.2:5062;transport=tcp").redirectsTo(t, "/admin/online")
	b.get("/admin/online").want(t, http.StatusOK, "was gone already")
	// A back link outside the admin pages is ignored.
	b.post("/admin/online/delete", "aor", "alice", "contact", "sip:alice@192.0.2.77", "back", "//evil.example/").
		redirectsTo(t, "/admin/online")
	// The FIFO down: a clear error page.
	e.exec.setFail(true)
	b.get("/admin/online").want(t, http.StatusBadGateway, "SIP server unavailable")
}

func TestOnlinePaging(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	for i := 0; i < 60; i++ {
		if err := ser.Add(ctx, "location", "alice@example.com", "sip:alice@192.0.2."+itoa3(i), 3600, "1"); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("root")
	b.get("/admin/online").want(t, http.StatusOK, "page 1 of 2 (60)")
	b.get("/admin/online?page=2").want(t, http.StatusOK, "page 2 of 2 (60)")
	b.get("/admin/online?page=9").want(t, http.StatusOK, "page 2 of 2 (60)")
}

func itoa3(i int) string {
	return strings.TrimLeft(string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)}), "0") + "0"
}
