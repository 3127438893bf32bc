package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

func TestUserCreate(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if err := e.st.AddReserved(ctx, "postmaster"); err != nil {
		t.Fatal(err)
	}
	ser := &sercmd.Client{Exec: e.exec}
	if err := ser.AddPermanent(ctx, "aliases", "8885551192@example.com", "sip:alice@example.com"); err != nil {
		t.Fatal(err)
	}
	b := e.as("root")
	b.get("/admin/users/new").want(t, http.StatusOK, `value="example.com"`)
	base := map[string]string{"username": "carol", "domain": "example.com", "password": "s3cret-pw",
		"confirm_password": "s3cret-pw", "email": "carol@example.com", "first_name": "Carol", "last_name": "Ng", "phone": "+43 1 234"}
	tests := []struct {
		name      string
		change    map[string]string
		wantError string
	}{
		{name: "empty name", change: map[string]string{"username": ""}, wantError: "required"},
		{name: "bad name", change: map[string]string{"username": "ca rol"}, wantError: "only letters, digits"},
		{name: "long name", change: map[string]string{"username": strings.Repeat("c", 65)}, wantError: "at most 64"},
		{name: "bad domain", change: map[string]string{"domain": "exa_mple..com"}, wantError: "not a valid host name"},
		{name: "reserved", change: map[string]string{"username": "postmaster"}, wantError: "this name is reserved"},
		{name: "duplicate", change: map[string]string{"username": "alice"}, wantError: "exists already"},
		{name: "alias", change: map[string]string{"username": "8885551192"}, wantError: "this name is an alias already"},
		{name: "short password", change: map[string]string{"password": "abc", "confirm_password": "abc"}, wantError: "at least 8"},
		{name: "long password", change: map[string]string{"password": strings.Repeat("p", 26), "confirm_password": strings.Repeat("p", 26)},
			wantError: "at most 25"},
		{name: "passwords differ", change: map[string]string{"confirm_password": "other-pw1"}, wantError: "the two passwords differ"},
		{name: "bad email", change: map[string]string{"email": "carol at example"}, wantError: "not an e-mail address"},
		{name: "email with name", change: map[string]string{"email": "Carol <carol@example.com>"}, wantError: "not an e-mail address"},
		{name: "long first name", change: map[string]string{"first_name": strings.Repeat("n", 26)}, wantError: "at most 25"},
		{name: "control characters", change: map[string]string{"last_name": "Ng\x07"}, wantError: "control characters"},
		{name: "bad phone", change: map[string]string{"phone": "call me"}, wantError: "digits and"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var kv []string
			for k, v := range base {
				if c, ok := tc.change[k]; ok {
					v = c
				}
				kv = append(kv, k, v)
			}
			p := b.post("/admin/users/new", kv...)
			p.want(t, http.StatusUnprocessableEntity, tc.wantError)
			// The values typed are shown again, passwords are not.
			if _, changed := tc.change["first_name"]; !changed && !strings.Contains(p.body, `value="Carol"`) {
				t.Errorf("typed values not kept")
			}
			if strings.Contains(p.body, "s3cret-pw") {
				t.Errorf("password shown again")
			}
		})
	}
	// Every error of every field, and a summary at the top naming the
	// fields in plain language.
	p := b.post("/admin/users/new", "username", strings.Repeat("c", 64)+" x", "domain", "example.com",
		"password", "abc", "confirm_password", "abd", "email", "nope")
	p.want(t, http.StatusUnprocessableEntity, "at most 64 characters", "only letters, digits", "at least 8 characters",
		"the two passwords differ", `id="errsummary"`, "<strong>User name</strong>: at most 64 characters",
		"<strong>Password</strong>: the two passwords differ", "<strong>E-mail</strong>: not an e-mail address")
	var kv []string
	for k, v := range base {
		kv = append(kv, k, v)
	}
	b.post("/admin/users/new", kv...).redirectsTo(t, "/admin/users/edit?u=carol&d=example.com")
	b.get("/admin/users/edit?u=carol&d=example.com").want(t, http.StatusOK, "User carol@example.com created.", "carol@example.com")
	u, err := e.st.Subscriber(ctx, "carol", "example.com")
	if err != nil || u.HA1 != store.HA1("carol", "example.com", "s3cret-pw") || u.Password != "" || u.Email != "carol@example.com" || u.Phone != "+43 1 234" {
		t.Fatalf("subscriber %+v, %v", u, err)
	}
	// The new user can log in.
	e.browser().login("carol", "s3cret-pw")
	if strings.Contains(e.logs.String(), "s3cret-pw") {
		t.Error("password logged")
	}
}

func TestUserCreateFIFODown(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("root")
	b.get("/admin/users/new")
	e.exec.setFail(true)
	b.post("/admin/users/new", "username", "carol", "domain", "example.com", "password", "s3cret-pw",
		"confirm_password", "s3cret-pw").want(t, http.StatusBadGateway, "SIP server unavailable", "nothing was changed")
	if _, err := e.st.Subscriber(context.Background(), "carol", "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("created although the alias check failed: %v", err)
	}
}

func TestUserListSearchPaging(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if err := e.st.AddSubscriber(ctx, store.Subscriber{Username: fmt.Sprintf("user%02d", i), Domain: "example.com",
			Password: "x", Email: fmt.Sprintf("u%d@mail.example", i)}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("root")
	p := b.get("/admin/users")
	p.want(t, http.StatusOK, "page 1 of 2 (33)", "alice@example.com", `rel="next"`)
	p = b.get("/admin/users?page=2")
	p.want(t, http.StatusOK, "page 2 of 2", "user29@example.com", `rel="prev"`)
	p = b.get("/admin/users?q=user1")
	p.want(t, http.StatusOK, "user10@example.com", "user19@example.com", "10 in all")
	if strings.Contains(p.body, "alice@") {
		t.Error("search did not filter")
	}
	b.get("/admin/users?q=%25").want(t, http.StatusOK, "No user matches.")
	b.get("/admin/users?page=-3").want(t, http.StatusOK, "page 1 of 2")
}

func TestUserEditAndPassword(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("root")
	b.get("/admin/users/edit?u=alice&d=example.com").want(t, http.StatusOK, `value="Alice"`)
	b.get("/admin/users/edit?u=nobody&d=example.com").want(t, http.StatusNotFound)
	b.post("/admin/users/edit", "u", "alice", "d", "example.com", "first_name", "Alice", "last_name", "Liddell",
		"email", "bad@", "phone", "").want(t, http.StatusUnprocessableEntity, "not an e-mail address", `value="Liddell"`)
	b.post("/admin/users/edit", "u", "alice", "d", "example.com", "first_name", "Alice", "last_name", "Liddell",
		"email", "alice@example.com", "phone", "123").redirectsTo(t, "/admin/users/edit?u=alice&d=example.com")
	if u, _ := e.st.Subscriber(ctx, "alice", "example.com"); u.LastName != "Liddell" || u.Email != "alice@example.com" {
		t.Errorf("profile %+v", u)
	}
	b.get("/admin/users/edit?u=alice&d=example.com")
	b.post("/admin/users/password", "u", "alice", "d", "example.com", "new_password", "x", "confirm_password", "x").
		want(t, http.StatusUnprocessableEntity, "at least 8")
	b.post("/admin/users/password", "u", "alice", "d", "example.com", "new_password", "n3w-password",
		"confirm_password", "n3w-password").redirectsTo(t, "/admin/users/edit?u=alice&d=example.com")
	u, _ := e.st.Subscriber(ctx, "alice", "example.com")
	if u.HA1 != store.HA1("alice", "example.com", "n3w-password") || u.HA1B != store.HA1B("alice", "example.com", "example.com", "n3w-password") || u.Password != "" {
		t.Errorf("ha1/ha1b not recomputed (or plain text stored): %+v", u)
	}
	e.browser().login("alice", "n3w-password")
	if strings.Contains(e.logs.String(), "n3w-password") {
		t.Error("password logged")
	}
	// Contacts of the user are shown, with a remove button that returns here.
	ser := &sercmd.Client{Exec: e.exec}
	if err := ser.Add(ctx, "location", "alice@example.com", "sip:alice@192.0.2.1:5060", 3600, "1"); err != nil {
		t.Fatal(err)
	}
	p := b.get("/admin/users/edit?u=alice&d=example.com")
	p.want(t, http.StatusOK, "sip:alice@192.0.2.1:5060")
	b.post("/admin/online/delete", "aor", "alice@example.com", "contact", "sip:alice@192.0.2.1:5060",
		"back", "/admin/users/edit?u=alice&d=example.com").redirectsTo(t, "/admin/users/edit?u=alice&d=example.com")
	if cs, _ := ser.ShowContacts(ctx, "location", "alice@example.com"); len(cs) != 0 {
		t.Errorf("contact left: %v", cs)
	}
}

func TestUserDelete(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.st.Grant(ctx, "alice", "example.com", "ld"))
	must(ser.Add(ctx, "location", "alice@example.com", "sip:alice@192.0.2.1", 3600, "1"))
	must(ser.AddPermanent(ctx, "aliases", "8885551192@example.com", "sip:alice@example.com"))
	must(ser.AddPermanent(ctx, "aliases", "8885551192@example.com", "sip:bob@example.com"))
	must(ser.AddPermanent(ctx, "aliases", "al@example.com", "sip:alice@example.com;transport=tcp"))
	_, err := e.st.AddPhonebookEntry(ctx, store.PhonebookEntry{Username: "alice", Domain: "example.com", SIPURI: "sip:bob@example.com"})
	must(err)
	b := e.as("root")
	b.get("/admin/users/delete?u=alice&d=example.com").want(t, http.StatusOK, "Delete alice@example.com?", "ld", "8885551192", "al", "(1 now)")
	// A FIFO failure stops before the database.
	e.exec.setFail(true)
	b.post("/admin/users/delete", "u", "alice", "d", "example.com").want(t, http.StatusBadGateway)
	e.exec.setFail(false)
	if _, err := e.st.Subscriber(ctx, "alice", "example.com"); err != nil {
		t.Fatalf("deleted despite the failure: %v", err)
	}
	b.get("/admin/users")
	b.post("/admin/users/delete", "u", "alice", "d", "example.com").redirectsTo(t, "/admin/users")
	b.get("/admin/users").want(t, http.StatusOK, "User alice@example.com deleted.")
	if _, err := e.st.Subscriber(ctx, "alice", "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("subscriber left: %v", err)
	}
	if g, _ := e.st.UserGroups(ctx, "alice", "example.com"); len(g) != 0 {
		t.Errorf("groups left: %v", g)
	}
	if pb, n, _ := e.st.Phonebook(ctx, "alice", "example.com", store.Page{}); n != 0 {
		t.Errorf("phonebook left: %v", pb)
	}
	if cs, _ := ser.ShowContacts(ctx, "location", "alice@example.com"); len(cs) != 0 {
		t.Errorf("contacts left: %v", cs)
	}
	// Aliases to alice are gone; the one to bob stays.
	cs, _ := ser.ShowContacts(ctx, "aliases", "8885551192@example.com")
	if len(cs) != 1 || cs[0].URI != "sip:bob@example.com" {
		t.Errorf("alias 8885551192: %v", cs)
	}
	if cs, _ := ser.ShowContacts(ctx, "aliases", "al@example.com"); len(cs) != 0 {
		t.Errorf("alias al: %v", cs)
	}
	// Again: not found.
	b.post("/admin/users/delete", "u", "alice", "d", "example.com").want(t, http.StatusNotFound)
	// Not yourself, not the last admin.
	b.post("/admin/users/delete", "u", "root", "d", "example.com").want(t, http.StatusConflict, "your own account")
	must(e.st.GrantPrivilege(ctx, "bob", "example.com", store.PrivIsAdmin, "1"))
	bob := e.as("bob")
	bob.get("/admin/users")
	// Two admins: bob may delete root; then bob is the last one.
	bob.post("/admin/users/delete", "u", "root", "d", "example.com").redirectsTo(t, "/admin/users")
	if last, _ := e.app.lastHolder(ctx, "bob", "example.com", store.PrivIsAdmin); !last {
		t.Error("bob should be the last admin")
	}
}
