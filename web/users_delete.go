package web

import (
	"context"
	"net/http"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// aliasEntry is one alias → target binding of the aliases table.
type aliasEntry struct {
	AOR    string
	Target string
	sercmd.Contact
}

// aliasEntries flattens the aliases table of ul_dump. ok is false when ser
// has no aliases table (or no usrloc at all).
func (a *App) aliasEntries(ctx context.Context) (entries []aliasEntry, ok bool, err error) {
	t, ok, err := a.ser.DumpTable(ctx, a.opts.AliasTable)
	if sercmd.IsNotAvailable(err) {
		return nil, false, nil
	}
	if err != nil || !ok {
		return nil, ok, err
	}
	for _, rec := range t.Records {
		for _, c := range rec.Contacts {
			entries = append(entries, aliasEntry{AOR: rec.AOR, Target: c.URI, Contact: c})
		}
	}
	return entries, true, nil
}

// aliasesOf returns the aliases whose target is user@domain.
func (a *App) aliasesOf(ctx context.Context, user, domain string) ([]aliasEntry, error) {
	all, _, err := a.aliasEntries(ctx)
	if err != nil {
		return nil, err
	}
	var out []aliasEntry
	for _, e := range all {
		if u, h := uriUserHost(e.Target); u == user && strings.EqualFold(h, domain) {
			out = append(out, e)
		}
	}
	return out, nil
}

// userDeleteData is the delete confirmation page.
type userDeleteData struct {
	User       store.Subscriber
	Groups     []string
	Aliases    []aliasEntry
	AliasesErr string
	Contacts   int
}

// handleUserDeleteForm asks for confirmation and shows what goes.
func (a *App) handleUserDeleteForm(w http.ResponseWriter, r *http.Request) {
	u, err := a.loadUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := userDeleteData{User: u}
	if d.Groups, err = a.st.UserGroups(r.Context(), u.Username, u.Domain); err != nil {
		a.fail(w, r, err)
		return
	}
	if d.Aliases, err = a.aliasesOf(r.Context(), u.Username, u.Domain); err != nil {
		d.AliasesErr = cmdErrText(err)
	}
	if cs, err := a.ser.ShowContacts(r.Context(), a.opts.LocationTable, u.Username+"@"+u.Domain); err == nil {
		d.Contacts = len(cs)
	}
	a.render(w, r, http.StatusOK, "admin_user_delete", view{Title: "Delete " + u.Username + "@" + u.Domain, Section: "users", Data: d})
}

// handleUserDelete deletes a user: first the in-memory state through the
// FIFO (its contacts with ul_rm, the aliases pointing to it with
// ul_rm_contact), then — only if that worked — the subscriber and its
// uri, grp, admin_privileges, phonebook, preferences … rows in one
// database transaction. A failure stops before the database is touched,
// so repeating the deletion finishes it. Accounting records stay.
func (a *App) handleUserDelete(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := reqCtx(r).me
	u, err := a.loadUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	aor := u.Username + "@" + u.Domain
	if u.Username == me.Username && u.Domain == me.Domain {
		a.errorPage(w, r, http.StatusConflict, "Not deleted", "You cannot delete your own account.")
		return
	}
	if last, err := a.lastHolder(ctx, u.Username, u.Domain, store.PrivIsAdmin); err != nil {
		a.fail(w, r, err)
		return
	} else if last {
		a.errorPage(w, r, http.StatusConflict, "Not deleted", aor+" is the last administrator.")
		return
	}
	aliases, err := a.aliasesOf(ctx, u.Username, u.Domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.ser.RemoveAOR(ctx, a.opts.LocationTable, aor); err != nil && !sercmd.IsNoTable(err) && !sercmd.IsNotAvailable(err) {
		a.fail(w, r, err)
		return
	}
	for _, al := range aliases {
		if err := a.ser.RemoveContact(ctx, a.opts.AliasTable, al.AOR, al.Target); err != nil && sercmd.Code(err) != 404 {
			a.fail(w, r, err)
			return
		}
	}
	if err := a.st.PurgeSubscriber(ctx, u.Username, u.Domain); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("user deleted", "user", aor, "aliases", len(aliases), "by", me.AOR())
	a.flash(r, "User "+aor+" deleted.", true)
	redirect(w, r, "/admin/users")
}

// lastHolder reports whether user@domain is the only holder of privilege
// name=1 (is_admin, change_privileges).
func (a *App) lastHolder(ctx context.Context, user, domain, name string) (bool, error) {
	all, err := a.st.AllPrivileges(ctx)
	if err != nil {
		return false, err
	}
	holds, others := false, false
	for _, p := range all {
		if p.Name != name || p.Value != "1" {
			continue
		}
		if p.Username == user && p.Domain == domain {
			holds = true
		} else {
			others = true
		}
	}
	return holds && !others, nil
}
