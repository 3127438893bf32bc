package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// usersPerPage is the length of a subscriber list page.
const usersPerPage = 25

// usersData is the subscriber list.
type usersData struct {
	Rows      []userRow
	Q         string
	Pager     pager
	OnlineErr string // ser could not be asked: online state unknown
}

// userRow is a subscriber of the list with its online state (registered
// contacts in the location table; -1 unknown) and ACL groups.
type userRow struct {
	store.Subscriber
	Contacts int
	Groups   []string
}

// userLink returns the edit page of user@domain.
func userLink(user, domain string) string {
	return "/admin/users/edit?u=" + url.QueryEscape(user) + "&d=" + url.QueryEscape(domain)
}

// handleUsers lists subscribers with search (user name, names, e-mail)
// and pagination.
func (a *App) handleUsers(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 128 {
		q = q[:128]
	}
	page, done := paging(r, usersPerPage)
	ctx := r.Context()
	subs, total, err := a.st.ListSubscribers(ctx, store.SubscriberFilter{Search: q, Page: page})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := usersData{Q: q, Pager: done(total)}
	for _, u := range subs {
		row := userRow{Subscriber: u, Contacts: -1}
		if row.Groups, err = a.st.UserGroups(ctx, u.Username, u.Domain); err != nil {
			a.fail(w, r, err)
			return
		}
		if d.OnlineErr == "" {
			// One ul_show_contact per listed user (a page is 25): never
			// the whole location table.
			cs, err := a.ser.ShowContacts(ctx, a.opts.LocationTable, u.Username+"@"+u.Domain)
			if err != nil {
				d.OnlineErr = cmdErrText(err)
			} else {
				row.Contacts = len(cs)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	a.render(w, r, http.StatusOK, "admin_users", view{Title: "Users", Section: "users", Data: d})
}

// userFields are the subscriber form's fields.
var userFields = []string{"username", "domain", "password", "confirm_password", "email", "first_name", "last_name", "phone"}

// checkProfile validates the profile fields of f.
func checkProfile(f *form) {
	f.check("email", validEmail(f.Get("email")))
	f.check("first_name", validText(f.Get("first_name"), 25))
	f.check("last_name", validText(f.Get("last_name"), 45))
	f.check("phone", validPhone(f.Get("phone")))
}

// handleUserNewForm shows the new-user form.
func (a *App) handleUserNewForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "admin_user_new", view{Title: "New user", Section: "users",
		Data: emptyForm(map[string]string{"domain": a.opts.Domain})})
}

// handleUserNew creates a subscriber (with its uri row) after checking
// the form, the reserved names, existing users and aliases (serctl add's
// check_alias).
func (a *App) handleUserNew(w http.ResponseWriter, r *http.Request) {
	f := newForm(r, userFields...)
	f.Values["domain"] = strings.ToLower(f.Get("domain"))
	user, domain := f.Get("username"), f.Get("domain")
	f.check("username", validUsername(user))
	f.check("domain", validDomain(domain))
	f.check("password", validNewPassword(f.Get("password"), f.Get("confirm_password")))
	checkProfile(f)
	ctx := r.Context()
	if f.First("username") == "" && f.First("domain") == "" {
		if err := a.checkNewName(ctx, f, "username", user, domain); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	show := func() {
		f.clearPasswords()
		a.render(w, r, http.StatusUnprocessableEntity, "admin_user_new", view{Title: "New user", Section: "users", Data: f})
	}
	if !f.ok() {
		show()
		return
	}
	err := a.st.AddSubscriber(ctx, store.Subscriber{Username: user, Domain: domain, Password: f.Get("password"),
		Email: f.Get("email"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Phone: f.Get("phone")})
	if errors.Is(err, store.ErrExists) {
		f.fail("username", "this user exists already")
		show()
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("user created", "user", user+"@"+domain, "by", reqCtx(r).me.AOR())
	a.flash(r, "User "+user+"@"+domain+" created.", true)
	redirect(w, r, userLink(user, domain))
}

// checkNewName refuses, as form errors on field, a name that is reserved,
// a subscriber already, or an alias in ser's aliases table. The returned
// error is a database or FIFO failure.
func (a *App) checkNewName(ctx context.Context, f *form, field, user, domain string) error {
	reserved, err := a.st.IsReserved(ctx, user)
	if err != nil {
		return err
	}
	if reserved {
		f.fail(field, "this name is reserved")
		return nil
	}
	_, err = a.st.Subscriber(ctx, user, domain)
	switch {
	case err == nil:
		f.fail(field, "a user of this name exists already")
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	cs, err := a.ser.ShowContacts(ctx, a.opts.AliasTable, user+"@"+domain)
	if sercmd.IsNoTable(err) {
		return nil // aliases are not used
	}
	if err != nil {
		return err
	}
	if len(cs) > 0 {
		f.fail(field, "this name is an alias already")
	}
	return nil
}

// groupState is one ACL group on the user page.
type groupState struct {
	Name    string
	Member  bool
	Control bool // the admin may grant/revoke it
}

// userEditData is the user page's content.
type userEditData struct {
	User        store.Subscriber
	Form        *form // profile
	PwForm      *form // password reset
	Groups      []groupState
	Contacts    []sercmd.Contact
	ContactsErr string
	Privileges  []store.Privilege
	Aliases     []aliasEntry // aliases pointing to the user
	AliasesErr  string
	Forwarding  forwarding
}

// loadUser reads the subscriber named by ?u=&d= (GET) or the form's u and
// d (POST).
func (a *App) loadUser(r *http.Request) (store.Subscriber, error) {
	u, d := r.URL.Query().Get("u"), r.URL.Query().Get("d")
	if r.Method == http.MethodPost {
		u, d = r.PostFormValue("u"), r.PostFormValue("d")
	}
	return a.st.Subscriber(r.Context(), u, d)
}

// userEdit gathers the user page; contacts come from ser (a failure is
// shown on the page, not as an error page).
func (a *App) userEdit(ctx context.Context, me *principal, u store.Subscriber, f, pw *form) (userEditData, error) {
	d := userEditData{User: u, Form: f, PwForm: pw}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"email": u.Email, "first_name": u.FirstName, "last_name": u.LastName, "phone": u.Phone})
	}
	if d.PwForm == nil {
		d.PwForm = emptyForm(nil)
	}
	groups, err := a.st.UserGroups(ctx, u.Username, u.Domain)
	if err != nil {
		return d, err
	}
	d.Groups = a.groupStates(me, groups)
	if d.Privileges, err = a.st.Privileges(ctx, u.Username, u.Domain); err != nil {
		return d, err
	}
	cs, err := a.ser.ShowContacts(ctx, a.opts.LocationTable, u.Username+"@"+u.Domain)
	if err != nil {
		d.ContactsErr = cmdErrText(err)
	}
	d.Contacts = cs
	if d.Aliases, err = a.aliasesOf(ctx, u.Username, u.Domain); err != nil {
		d.AliasesErr = cmdErrText(err)
	}
	if d.Forwarding, err = a.forwardingOf(ctx, u.Username, u.Domain); err != nil {
		return d, err
	}
	return d, nil
}

// groupStates lists the configured groups (and any other the user is in)
// with membership and the admin's control.
func (a *App) groupStates(me *principal, member []string) []groupState {
	in := map[string]bool{}
	for _, g := range member {
		in[g] = true
	}
	var out []groupState
	seen := map[string]bool{}
	for _, g := range append(append([]string{}, a.opts.Groups...), member...) {
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, groupState{Name: g, Member: in[g], Control: me.CanControl(g)})
	}
	return out
}

// handleUserEditForm shows a user: profile, password reset, groups,
// registered contacts, privileges.
func (a *App) handleUserEditForm(w http.ResponseWriter, r *http.Request) {
	u, err := a.loadUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d, err := a.userEdit(r.Context(), reqCtx(r).me, u, nil, nil)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "admin_user_edit", view{Title: "User " + u.Username + "@" + u.Domain, Section: "users", Data: d})
}

// handleUserEdit saves a user's profile.
func (a *App) handleUserEdit(w http.ResponseWriter, r *http.Request) {
	u, err := a.loadUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := newForm(r, "email", "first_name", "last_name", "phone")
	checkProfile(f)
	if !f.ok() {
		d, err := a.userEdit(r.Context(), reqCtx(r).me, u, f, nil)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnprocessableEntity, "admin_user_edit", view{Title: "User " + u.Username + "@" + u.Domain,
			Section: "users", Data: d})
		return
	}
	u.Email, u.FirstName, u.LastName, u.Phone = f.Get("email"), f.Get("first_name"), f.Get("last_name"), f.Get("phone")
	if err := a.st.UpdateSubscriber(r.Context(), u); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "Profile saved.", true)
	redirect(w, r, userLink(u.Username, u.Domain))
}

// handleUserPassword resets a user's password (ha1 and ha1b recomputed).
func (a *App) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	u, err := a.loadUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pw := newForm(r, "new_password", "confirm_password")
	pw.check("new_password", validNewPassword(pw.Get("new_password"), pw.Get("confirm_password")))
	if !pw.ok() {
		pw.clearPasswords()
		d, err := a.userEdit(r.Context(), reqCtx(r).me, u, nil, pw)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnprocessableEntity, "admin_user_edit", view{Title: "User " + u.Username + "@" + u.Domain,
			Section: "users", Data: d})
		return
	}
	if err := a.st.SetPassword(r.Context(), u.Username, u.Domain, pw.Get("new_password")); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("password reset", "user", u.Username+"@"+u.Domain, "by", reqCtx(r).me.AOR())
	a.flash(r, "Password of "+u.Username+"@"+u.Domain+" changed.", true)
	redirect(w, r, userLink(u.Username, u.Domain))
}
