package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"ser/core/store"
)

// aclGroup is one group on the ACL page.
type aclGroup struct {
	Name    string
	Members int
	Control bool
}

// aclData is the ACL page's content.
type aclData struct {
	Groups   []aclGroup
	Group    string // the group shown
	Members  []store.Membership
	Control  bool
	Form     *form
	AllNames []string
}

// aclPage renders the ACL page for group (with form f).
func (a *App) aclPage(w http.ResponseWriter, r *http.Request, status int, group string, f *form) {
	ctx := r.Context()
	me := reqCtx(r).me
	d := aclData{Group: group, Form: f, AllNames: a.opts.Groups}
	for _, g := range a.opts.Groups {
		members, err := a.st.GroupMembers(ctx, g)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		d.Groups = append(d.Groups, aclGroup{Name: g, Members: len(members), Control: me.CanControl(g)})
		if g == group {
			d.Members, d.Control = members, me.CanControl(g)
		}
	}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"group": group})
	}
	a.render(w, r, status, "admin_acl", view{Title: "ACL groups", Section: "acl", Data: d})
}

// handleACL shows the groups with their member counts and the members of
// the selected group (?group=).
func (a *App) handleACL(w http.ResponseWriter, r *http.Request) {
	g := r.URL.Query().Get("group")
	if !slices.Contains(a.opts.Groups, g) {
		g = a.opts.Groups[0]
	}
	a.aclPage(w, r, http.StatusOK, g, nil)
}

// aclBack returns where a grant/revoke form goes back to: the user page
// (back=user) or the group's page.
func aclBack(r *http.Request, user, domain, group string) string {
	if r.PostFormValue("back") == "user" {
		return userLink(user, domain)
	}
	return "/admin/acl?group=" + url.QueryEscape(group)
}

// handleACLGrant adds a user to a group (serctl acl grant: the group must
// be one of the configured ones, the user a subscriber).
func (a *App) handleACLGrant(w http.ResponseWriter, r *http.Request) {
	f := newForm(r, "user", "group")
	user, domain := splitAOR(f.Get("user"), a.opts.Domain)
	group := f.Get("group")
	if !slices.Contains(a.opts.Groups, group) {
		f.fail("group", "not one of the ACL groups")
		group = a.opts.Groups[0]
	} else if !reqCtx(r).me.CanControl(group) {
		a.forbidden(w, r, "You may not change the members of group "+group+".")
		return
	}
	f.check("user", validUsername(user))
	if f.ok() {
		_, err := a.st.Subscriber(r.Context(), user, domain)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.fail("user", "no such user: "+user+"@"+domain)
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if f.ok() {
		err := a.st.Grant(r.Context(), user, domain, group)
		switch {
		case errors.Is(err, store.ErrExists):
			f.fail("user", user+"@"+domain+" is in "+group+" already")
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if !f.ok() {
		if r.PostFormValue("back") == "user" {
			a.flash(r, "Not granted: "+firstError(f), false)
			redirect(w, r, aclBack(r, user, domain, group))
			return
		}
		a.aclPage(w, r, http.StatusUnprocessableEntity, group, f)
		return
	}
	a.log.Info("acl grant", "user", user+"@"+domain, "group", group, "by", reqCtx(r).me.AOR())
	a.flash(r, user+"@"+domain+" added to "+group+".", true)
	redirect(w, r, aclBack(r, user, domain, group))
}

// handleACLRevoke removes a user from a group.
func (a *App) handleACLRevoke(w http.ResponseWriter, r *http.Request) {
	user, domain, group := r.PostFormValue("u"), r.PostFormValue("d"), r.PostFormValue("group")
	if !reqCtx(r).me.CanControl(group) {
		a.forbidden(w, r, "You may not change the members of group "+group+".")
		return
	}
	if group == "" {
		a.errorPage(w, r, http.StatusBadRequest, "Bad request", "No group given.")
		return
	}
	err := a.st.Revoke(r.Context(), user, domain, group)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, user+"@"+domain+" was not in "+group+".", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.log.Info("acl revoke", "user", user+"@"+domain, "group", group, "by", reqCtx(r).me.AOR())
		a.flash(r, user+"@"+domain+" removed from "+group+".", true)
	}
	redirect(w, r, aclBack(r, user, domain, group))
}

// firstError returns one of the form's errors, for a flash message.
func firstError(f *form) string {
	for _, k := range []string{"_", "user", "group"} {
		if e := f.First(k); e != "" {
			return e
		}
	}
	for _, k := range f.order {
		return f.First(k)
	}
	return ""
}
