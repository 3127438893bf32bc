package web

import (
	"errors"
	"net/http"
	"slices"

	"ser/core/store"
)

// privRow is one user's privileges.
type privRow struct {
	Username, Domain        string
	Admin, ChangePrivileges bool
	ACL                     []string
}

// privilegesData is the admin privileges page's content.
type privilegesData struct {
	Rows    []privRow
	Form    *form
	Groups  []string
	CanEdit bool
}

// privilegesPage renders the page with form f.
func (a *App) privilegesPage(w http.ResponseWriter, r *http.Request, status int, f *form) {
	all, err := a.st.AllPrivileges(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := privilegesData{Form: f, Groups: a.opts.Groups, CanEdit: reqCtx(r).me.ChangePrivileges}
	index := map[string]int{}
	for _, p := range all {
		k := p.Username + "@" + p.Domain
		i, ok := index[k]
		if !ok {
			i = len(d.Rows)
			index[k] = i
			d.Rows = append(d.Rows, privRow{Username: p.Username, Domain: p.Domain})
		}
		row := &d.Rows[i]
		switch {
		case p.Name == store.PrivIsAdmin && p.Value == "1":
			row.Admin = true
		case p.Name == store.PrivChangePrivileges && p.Value == "1":
			row.ChangePrivileges = true
		case p.Name == store.PrivACLControl:
			row.ACL = append(row.ACL, p.Value)
		}
	}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"priv": store.PrivIsAdmin})
	}
	a.render(w, r, status, "admin_privileges", view{Title: "Admin privileges", Section: "privileges", Data: d})
}

// handlePrivileges lists who may administer, change privileges and
// control which ACL groups.
func (a *App) handlePrivileges(w http.ResponseWriter, r *http.Request) {
	a.privilegesPage(w, r, http.StatusOK, nil)
}

// privValue returns the priv_value of a grant: "1" for is_admin and
// change_privileges, the group for acl_control.
func (a *App) privValue(f *form) string {
	switch f.Get("priv") {
	case store.PrivIsAdmin, store.PrivChangePrivileges:
		return "1"
	case store.PrivACLControl:
		if g := f.Get("group"); slices.Contains(a.opts.Groups, g) {
			return g
		}
		f.fail("group", "choose an ACL group")
		return ""
	}
	f.fail("priv", "choose a privilege")
	return ""
}

// handlePrivilegeGrant grants a privilege (needs change_privileges).
func (a *App) handlePrivilegeGrant(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	if !me.ChangePrivileges {
		a.forbidden(w, r, "Changing privileges needs the change_privileges privilege.")
		return
	}
	f := newForm(r, "user", "priv", "group")
	user, domain := splitAOR(f.Get("user"), a.opts.Domain)
	f.check("user", validUsername(user))
	value := a.privValue(f)
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
		err := a.st.GrantPrivilege(r.Context(), user, domain, f.Get("priv"), value)
		switch {
		case errors.Is(err, store.ErrExists):
			f.fail("user", user+"@"+domain+" has this privilege already")
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if !f.ok() {
		a.privilegesPage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	a.log.Info("privilege granted", "user", user+"@"+domain, "priv", f.Get("priv"), "value", value, "by", me.AOR())
	a.flash(r, "Granted "+f.Get("priv")+"="+value+" to "+user+"@"+domain+".", true)
	redirect(w, r, "/admin/privileges")
}

// handlePrivilegeRevoke revokes a privilege (needs change_privileges). The
// last is_admin and the last change_privileges cannot be revoked.
func (a *App) handlePrivilegeRevoke(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	if !me.ChangePrivileges {
		a.forbidden(w, r, "Changing privileges needs the change_privileges privilege.")
		return
	}
	user, domain, name, value := r.PostFormValue("u"), r.PostFormValue("d"), r.PostFormValue("priv"), r.PostFormValue("value")
	if name == "" || value == "" {
		a.errorPage(w, r, http.StatusBadRequest, "Bad request", "No privilege given.")
		return
	}
	if name == store.PrivIsAdmin || name == store.PrivChangePrivileges {
		last, err := a.lastHolder(r.Context(), user, domain, name)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if last {
			a.flash(r, user+"@"+domain+" is the last holder of "+name+": not revoked.", false)
			redirect(w, r, "/admin/privileges")
			return
		}
	}
	err := a.st.RevokePrivilege(r.Context(), user, domain, name, value)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to revoke.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.log.Info("privilege revoked", "user", user+"@"+domain, "priv", name, "value", value, "by", me.AOR())
		a.flash(r, "Revoked "+name+"="+value+" from "+user+"@"+domain+".", true)
	}
	redirect(w, r, "/admin/privileges")
}
