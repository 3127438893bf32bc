package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ser/core/store"
)

var (
	adminGets = []string{"/admin/", "/admin/users", "/admin/users/new", "/admin/users/edit?u=alice&d=example.com",
		"/admin/users/delete?u=alice&d=example.com", "/admin/acl", "/admin/acl?group=ld", "/admin/aliases", "/admin/online",
		"/admin/acc", "/admin/acc?table=missed", "/admin/acc/export", "/admin/lcr", "/admin/privileges",
		"/admin/users/forwarding?u=alice&d=example.com", "/admin/users/speeddial?u=alice&d=example.com", "/admin/messages",
		"/admin/users/preferences?u=alice&d=example.com",
		"/admin/domains", "/admin/dispatcher"}
	userGets = []string{"/account", "/password", "/phonebook", "/phonebook/edit", "/calls", "/calls?table=acc", "/calls/export", "/im",
		"/forwarding", "/speeddial", "/messages"}
	adminPosts = []string{"/admin/users/new", "/admin/users/edit", "/admin/users/password", "/admin/users/delete",
		"/admin/acl/grant", "/admin/acl/revoke", "/admin/aliases/add", "/admin/aliases/delete", "/admin/online/add",
		"/admin/online/delete", "/admin/lcr/gw-add", "/admin/lcr/gw-delete", "/admin/lcr/trunk-set", "/admin/lcr/trunk-delete",
		"/admin/lcr/group-add", "/admin/lcr/group-delete", "/admin/lcr/rule-add", "/admin/lcr/rule-delete",
		"/admin/privileges/grant", "/admin/privileges/revoke", "/admin/users/forwarding", "/admin/users/speeddial/save",
		"/admin/users/speeddial/delete", "/admin/messages/delete", "/admin/domains/add", "/admin/domains/delete",
		"/admin/dispatcher/add", "/admin/dispatcher/delete", "/admin/dispatcher/state",
		"/admin/users/preferences", "/admin/users/preferences/delete"}
	userPosts = []string{"/logout", "/password", "/account/profile", "/account/devices/delete", "/phonebook/save",
		"/phonebook/delete", "/im", "/forwarding", "/speeddial/save", "/speeddial/delete", "/messages/delete"}
)

func TestAnonymous(t *testing.T) {
	e := newEnv(t, "")
	b := e.browser()
	for _, p := range append(append([]string{}, adminGets...), userGets...) {
		t.Run("GET "+p, func(t *testing.T) {
			b.get(p).redirectsTo(t, "/login?next="+url.QueryEscape(p))
		})
	}
	for _, p := range append(append([]string{}, adminPosts...), userPosts...) {
		t.Run("POST "+p, func(t *testing.T) {
			b.post(p).want(t, http.StatusForbidden)
		})
	}
	b.get("/nosuch").want(t, http.StatusNotFound, "There is no such page.")
	b.get("/static/style.css").want(t, http.StatusOK, ":root")
	b.get("/static/app.js").want(t, http.StatusOK, "data-confirm")
	// The icon, linked from every page and at the path browsers ask for
	// anyway, without a login.
	b.get("/static/favicon.svg").want(t, http.StatusOK, "<svg")
	b.get("/favicon.ico").want(t, http.StatusOK, "<svg")
}

func TestUserCannotAdminister(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("alice")
	for _, p := range adminGets {
		t.Run("GET "+p, func(t *testing.T) {
			b.get(p).want(t, http.StatusForbidden, "This page is for administrators.")
		})
	}
	b.get("/account")
	for _, p := range adminPosts {
		t.Run("POST "+p, func(t *testing.T) {
			b.post(p, "username", "eve", "domain", "example.com", "password", "password1", "confirm_password", "password1",
				"user", "alice", "group", "ld", "priv", "is_admin").want(t, http.StatusForbidden)
		})
	}
	if _, err := e.st.Subscriber(context.Background(), "eve", "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a user created a subscriber: %v", err)
	}
	if g, _ := e.st.UserGroups(context.Background(), "alice", "example.com"); len(g) != 0 {
		t.Errorf("a user granted a group: %v", g)
	}
	// The navigation offers no admin tabs to users.
	if p := b.get("/account"); strings.Contains(p.body, "/admin/users") {
		t.Error("admin tabs shown to a user")
	}
}

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t, "")
	admin := e.as("root")
	for _, p := range adminGets {
		t.Run(p, func(t *testing.T) {
			pg := admin.get(p)
			pg.want(t, http.StatusOK)
			if strings.HasSuffix(strings.SplitN(p, "?", 2)[0], "/export") {
				if ct := pg.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
					t.Errorf("content type %q", ct)
				}
				return
			}
			if !strings.Contains(pg.body, `<main>`) || !strings.Contains(pg.body, "/admin/users") {
				t.Errorf("no layout:\n%s", pg.body)
			}
		})
	}
	user := e.as("alice")
	for _, p := range userGets {
		t.Run(p, func(t *testing.T) {
			user.get(p).want(t, http.StatusOK)
		})
	}
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t, "")
	b := e.as("root")
	b.get("/admin/users/new")
	good := b.csrf
	for _, token := range []string{"", "forged", good + "x"} {
		for _, p := range append(append([]string{}, adminPosts...), userPosts...) {
			t.Run(p+" token="+token, func(t *testing.T) {
				v := url.Values{"username": {"eve"}, "domain": {"example.com"}, "password": {"password1"},
					"confirm_password": {"password1"}, "u": {"alice"}, "d": {"example.com"}}
				if token != "" {
					v.Set("csrf", token)
				}
				b.postValues(p, v).want(t, http.StatusForbidden, "security token")
			})
		}
	}
	if _, err := e.st.Subscriber(context.Background(), "eve", "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("created without a token: %v", err)
	}
	if _, err := e.st.Subscriber(context.Background(), "alice", "example.com"); err != nil {
		t.Errorf("deleted without a token: %v", err)
	}
	// Another session's token does not work either.
	other := e.as("bob")
	other.get("/account")
	b.postValues("/admin/users/new", url.Values{"csrf": {other.csrf}, "username": {"eve"}, "domain": {"example.com"},
		"password": {"password1"}, "confirm_password": {"password1"}}).want(t, http.StatusForbidden)
	// With the right token it works.
	b.csrf = good
	b.post("/admin/users/new", "username", "eve", "domain", "example.com", "password", "password1",
		"confirm_password", "password1").redirectsTo(t, "/admin/users/edit?u=eve&d=example.com")
}
