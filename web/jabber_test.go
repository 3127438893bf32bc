package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestJabberPage: a user sets up the gateway account, the password is
// stored for the gateway but never shown back, an empty password keeps
// it, the account is switched off and removed; the administrator edits
// another user's account; a user cannot reach the admin variant.
func TestJabberPage(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b := e.as("alice")
	b.get("/jabber").want(t, http.StatusOK, "No XMPP account yet.")
	b.post("/jabber/save", "jab_id", "alice", "xmpp_password", "").want(t, http.StatusUnprocessableEntity,
		"<strong>XMPP password</strong>: required for a new account")
	b.post("/jabber/save", "jab_id", "al ice", "xmpp_password", "s3cret-xmpp").want(t, http.StatusUnprocessableEntity,
		"<strong>XMPP user</strong>: an XMPP user name")
	b.post("/jabber/save", "jab_id", "alice", "xmpp_password", "s3cret-xmpp").redirectsTo(t, "/jabber")
	a, err := e.st.EnabledJabberAccount(ctx, "sip:alice@example.com")
	if err != nil || a.JabID != "alice" || a.Password != "s3cret-xmpp" {
		t.Fatalf("account %+v %v", a, err)
	}
	page := b.get("/jabber")
	page.want(t, http.StatusOK, "XMPP account saved.", "The gateway logs in as <strong>alice</strong>")
	if strings.Contains(page.body, "s3cret-xmpp") {
		t.Fatal("the XMPP password is shown on the page")
	}
	b.post("/jabber/save", "jab_id", "alice@xmpp.example.org", "xmpp_password", "", "disabled", "1").redirectsTo(t, "/jabber")
	if _, err := e.st.EnabledJabberAccount(ctx, "sip:alice@example.com"); err == nil {
		t.Fatal("a switched-off account is still enabled")
	}
	b.get("/jabber").want(t, http.StatusOK, "alice@xmpp.example.org", "switched off")
	b.post("/jabber/delete").redirectsTo(t, "/jabber")
	b.get("/jabber").want(t, http.StatusOK, "XMPP account removed.", "No XMPP account yet.")
	b.get("/admin/users/jabber?u=bob&d=example.com").want(t, http.StatusForbidden)

	root := e.as("root")
	root.get("/admin/users/jabber?u=bob&d=example.com").want(t, http.StatusOK, "No XMPP account yet.")
	root.post("/admin/users/jabber/save", "u", "bob", "d", "example.com", "jab_id", "bob", "xmpp_password", "bobpw").
		redirectsTo(t, "/admin/users/jabber?u=bob&d=example.com")
	if a, err := e.st.EnabledJabberAccount(ctx, "sip:bob@example.com"); err != nil || a.Password != "bobpw" {
		t.Fatalf("bob's account %+v %v", a, err)
	}
	root.get("/admin/users/jabber?u=bob&d=example.com").want(t, http.StatusOK, "bob@example.com", "logs in as <strong>bob</strong>")
}
