package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
)

func TestAccount(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	if err := e.st.Grant(ctx, "alice", "example.com", "ld"); err != nil {
		t.Fatal(err)
	}
	if err := ser.Add(ctx, "location", "alice@example.com", "sip:alice@192.0.2.1:5060", 3600, "1"); err != nil {
		t.Fatal(err)
	}
	if err := ser.Add(ctx, "location", "bob@example.com", "sip:bob@192.0.2.2:5060", 3600, "1"); err != nil {
		t.Fatal(err)
	}
	b := e.as("alice")
	p := b.get("/account")
	p.want(t, http.StatusOK, "alice@example.com", "sip:alice@192.0.2.1:5060", `<ul class="tags" id="groups"><li>ld</li>`, "No alias points to you.")
	if strings.Contains(p.body, "192.0.2.2") {
		t.Error("someone else's device shown")
	}
	b.post("/account/profile", "first_name", "Alice", "last_name", "L", "email", "nope", "phone", "").
		want(t, http.StatusUnprocessableEntity, "not an e-mail address", `value="nope"`)
	b.post("/account/profile", "first_name", "Alice", "last_name", "L", "email", "alice@example.com", "phone", "").
		redirectsTo(t, "/account")
	b.get("/account").want(t, http.StatusOK, "Your profile was saved.", `value="alice@example.com"`)
	if u, _ := e.st.Subscriber(ctx, "alice", "example.com"); u.LastName != "L" || u.Email != "alice@example.com" {
		t.Errorf("profile %+v", u)
	}
	// Removing a device only ever touches the user's own AOR.
	b.post("/account/devices/delete", "contact", "sip:bob@192.0.2.2:5060", "aor", "bob@example.com").redirectsTo(t, "/account")
	if cs, _ := ser.ShowContacts(ctx, "location", "bob@example.com"); len(cs) != 1 {
		t.Error("alice removed bob's device")
	}
	b.get("/account").want(t, http.StatusOK, "was gone already")
	b.post("/account/devices/delete", "contact", "sip:alice@192.0.2.1:5060").redirectsTo(t, "/account")
	b.get("/account").want(t, http.StatusOK, "No device is registered now.")
	// Own password change.
	b.post("/password", "password", testPW, "new_password", "another-pw", "confirm_password", "another-pw").redirectsTo(t, "/account")
	e.browser().login("alice", "another-pw")
	// The FIFO down: the account page still shows the database part.
	e.exec.setFail(true)
	b.get("/account").want(t, http.StatusOK, "Cannot ask the SIP server", `value="alice@example.com"`)
}

func TestPhonebook(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	if err := ser.Add(ctx, "location", "bob@example.com", "sip:bob@192.0.2.2:5060", 3600, "1"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddDomain(ctx, "second.example"); err != nil {
		t.Fatal(err)
	}
	b := e.as("alice")
	b.get("/phonebook").want(t, http.StatusOK, "Your phonebook is empty.")
	b.get("/phonebook/edit").want(t, http.StatusOK, "New entry")
	tests := []struct {
		name, fname, uri, want string
	}{
		{name: "no uri", fname: "Bob", uri: "", want: "required"},
		{name: "bad uri", fname: "Bob", uri: "tel:+431234", want: "not a SIP URI"},
		{name: "long uri", fname: "Bob", uri: "sip:" + strings.Repeat("b", 130) + "@example.com", want: "at most 128"},
		{name: "no name", fname: "", uri: "sip:bob@example.com", want: "give a name"},
		{name: "long name", fname: strings.Repeat("B", 33), uri: "sip:bob@example.com", want: "at most 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/phonebook/save", "fname", tc.fname, "lname", "", "sip_uri", tc.uri).want(t, http.StatusUnprocessableEntity, tc.want)
		})
	}
	for _, x := range [][2]string{{"Bob", "sip:bob@example.com"}, {"Carol", "sip:carol@example.com"},
		{"Dave", "sip:dave@remote.example"}, {"Erin", "sip:erin@second.example"}} {
		b.post("/phonebook/save", "fname", x[0], "lname", "X", "sip_uri", x[1]).redirectsTo(t, "/phonebook")
	}
	b.post("/phonebook/save", "fname", "Bobby", "sip_uri", "sip:BOB@example.com").
		want(t, http.StatusUnprocessableEntity, "already in your phonebook (Bob X)")
	p := b.get("/phonebook")
	status := func(name string) string {
		m := regexp.MustCompile(name + ` X</td>\s*<td class="uri"[^>]*>.*?</td>\s*<td[^>]*><span class="status (\w+)"`).FindStringSubmatch(p.body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	if status("Bob") != "online" || status("Carol") != "offline" || status("Dave") != "none" || status("Erin") != "offline" {
		t.Errorf("status bob=%q carol=%q dave=%q erin=%q\n%s", status("Bob"), status("Carol"), status("Dave"), status("Erin"), p.body)
	}
	if !strings.Contains(p.body, `href="/im?to=sip%3abob%40example.com"`) {
		t.Errorf("no message link:\n%s", p.body)
	}
	entries, _, _ := e.st.Phonebook(ctx, "alice", "example.com", store.Page{})
	id := entries[0].ID
	b.get(fmt.Sprintf("/phonebook/edit?id=%d", id)).want(t, http.StatusOK, "Edit entry", `value="`+entries[0].SIPURI+`"`)
	b.post("/phonebook/save", "id", fmt.Sprint(id), "fname", entries[0].FName, "lname", "Changed", "sip_uri", entries[0].SIPURI).
		redirectsTo(t, "/phonebook")
	if got, _ := e.st.PhonebookEntry(ctx, "alice", "example.com", id); got.LName != "Changed" {
		t.Errorf("entry %+v", got)
	}
	// Bob cannot see, change or delete alice's entries.
	bob := e.as("bob")
	bob.get(fmt.Sprintf("/phonebook/edit?id=%d", id)).want(t, http.StatusNotFound)
	bob.get("/phonebook")
	bob.post("/phonebook/save", "id", fmt.Sprint(id), "fname", "Mine", "sip_uri", "sip:x@example.com").want(t, http.StatusNotFound)
	bob.post("/phonebook/delete", "id", fmt.Sprint(id)).want(t, http.StatusNotFound)
	if _, err := e.st.PhonebookEntry(ctx, "alice", "example.com", id); err != nil {
		t.Errorf("bob deleted alice's entry: %v", err)
	}
	b.post("/phonebook/delete", "id", fmt.Sprint(id)).redirectsTo(t, "/phonebook")
	if _, n, _ := e.st.Phonebook(ctx, "alice", "example.com", store.Page{}); n != 3 {
		t.Errorf("%d entries left", n)
	}
	// The FIFO down: entries shown, status unknown.
	e.exec.setFail(true)
	b.get("/phonebook").want(t, http.StatusOK, "Online status unknown", `class="status unknown"`)
}

func TestCalls(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	for i, x := range []struct{ table, user, from string }{
		{"missed_calls", "alice", "sip:bob@example.com"},
		{"missed_calls", "alice", "sip:carol@example.com"},
		{"missed_calls", "bob", "sip:alice@example.com"},
		{"acc", "alice", "sip:alice@example.com"},
	} {
		if err := e.st.InsertAcc(ctx, x.table, store.AccRecord{Username: x.user, Domain: "example.com", Method: "INVITE",
			Status: "486 Busy", FromURI: x.from, ToURI: "sip:" + x.user + "@example.com", CallID: fmt.Sprintf("call-%d", i),
			Time: t0.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("alice")
	p := b.get("/calls")
	p.want(t, http.StatusOK, "Missed calls", "call-0", "call-1")
	if strings.Contains(p.body, "call-2") || strings.Contains(p.body, "call-3") {
		t.Error("someone else's or completed calls shown as missed")
	}
	b.get("/calls?table=acc").want(t, http.StatusOK, "call-3")
	// The user filter is ignored: a user sees only their own calls.
	if p := b.get("/calls?user=bob"); strings.Contains(p.body, "call-2") {
		t.Error("user filter let alice see bob's calls")
	}
	p = b.get("/calls?from=2025-03-15")
	if strings.Contains(p.body, "call-0") || !strings.Contains(p.body, "call-1") {
		t.Errorf("date filter:\n%s", p.body)
	}
	b.get("/calls?from=2025-13-01").want(t, http.StatusUnprocessableEntity, "YYYY-MM-DD")
	b.get("/calls?from=2025-03-20&to=2025-03-10").want(t, http.StatusUnprocessableEntity, "before the start date")
	csv := b.get("/calls/export")
	csv.want(t, http.StatusOK, "time,method,status", "call-0", "call-1")
	if strings.Contains(csv.body, "call-2") {
		t.Error("export holds someone else's call")
	}
	if !strings.Contains(csv.header.Get("Content-Disposition"), `attachment; filename="missed_calls-`) {
		t.Errorf("disposition %q", csv.header.Get("Content-Disposition"))
	}
}

func TestIM(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.OutboundProxy = "sip:127.0.0.1:5060" })
	var got []string
	e.exec.on("t_uac_dlg", func(p []string) (*rpc.Reply, error) {
		got = p
		if p[1] == "sip:away@example.com" {
			return rpc.Raw("480 Temporarily Unavailable\n.\n.\n.\n"), nil
		}
		return rpc.Raw("200 OK\n.\n.\n.\nVia: x\n"), nil
	})
	b := e.as("alice")
	b.get("/im?to=sip:bob@example.com").want(t, http.StatusOK, `value="sip:bob@example.com"`)
	tests := []struct{ name, to, body, want string }{
		{name: "bad to", to: "bob", body: "hi", want: "not a SIP URI"},
		{name: "header injection", to: "sip:bob@example.com\r\nX: y", body: "hi", want: "not a SIP URI"},
		{name: "empty", to: "sip:bob@example.com", body: "  \n ", want: "write a message"},
		{name: "long", to: "sip:bob@example.com", body: strings.Repeat("x", 1001), want: "at most 1000"},
		{name: "control", to: "sip:bob@example.com", body: "a\x00b", want: "control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/im", "to", tc.to, "body", tc.body).want(t, http.StatusUnprocessableEntity, tc.want)
		})
	}
	b.post("/im", "to", "sip:bob@example.com", "body", "hello\r\n.\r\nbye").redirectsTo(t, "/im?to=sip%3Abob%40example.com")
	b.get("/im?to=sip%3Abob%40example.com").want(t, http.StatusOK, "Message delivered to sip:bob@example.com (200 OK).")
	want := "MESSAGE|sip:bob@example.com|sip:127.0.0.1:5060|From: <sip:alice@example.com>|To: <sip:bob@example.com>|" +
		"Content-Type: text/plain; charset=UTF-8|.|hello| .|bye|."
	if strings.Join(got, "|") != want {
		t.Errorf("t_uac_dlg lines\n%q\nwant\n%q", strings.Join(got, "|"), want)
	}
	b.post("/im", "to", "sip:away@example.com", "body", "hello").want(t, http.StatusOK, "Not delivered: 480 Temporarily Unavailable",
		`value="sip:away@example.com"`, ">hello</textarea>")
	e.exec.setFail(true)
	b.post("/im", "to", "sip:bob@example.com", "body", "hello").want(t, http.StatusBadGateway, "SIP server unavailable")
}
