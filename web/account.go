package web

import (
	"context"
	"net/http"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// accountData is the "my account" page's content.
type accountData struct {
	User       store.Subscriber
	Form       *form // profile
	PwForm     *form
	Devices    []sercmd.Contact
	DevicesErr string
	Aliases    []aliasEntry
	AliasesErr string
	Groups     []string
}

// account gathers the page; the FIFO parts (devices, aliases) show their
// failure on the page instead of failing it.
func (a *App) account(ctx context.Context, me *principal, f *form) (accountData, error) {
	u, err := a.st.Subscriber(ctx, me.Username, me.Domain)
	if err != nil {
		return accountData{}, err
	}
	d := accountData{User: u, Form: f, PwForm: emptyForm(nil)}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"email": u.Email, "first_name": u.FirstName, "last_name": u.LastName, "phone": u.Phone})
	}
	if d.Groups, err = a.st.UserGroups(ctx, me.Username, me.Domain); err != nil {
		return d, err
	}
	if d.Devices, err = a.ser.ShowContacts(ctx, a.opts.LocationTable, me.AOR()); err != nil {
		d.DevicesErr = cmdErrText(err)
	}
	if d.Aliases, err = a.aliasesOf(ctx, me.Username, me.Domain); err != nil {
		d.AliasesErr = cmdErrText(err)
	}
	return d, nil
}

// handleAccount shows the user's profile, password form, registered
// devices, aliases and groups (read-only).
func (a *App) handleAccount(w http.ResponseWriter, r *http.Request) {
	d, err := a.account(r.Context(), reqCtx(r).me, nil)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "account", view{Title: "My account", Section: "account", Data: d})
}

// handleProfile saves the user's own e-mail, names and phone.
func (a *App) handleProfile(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	f := newForm(r, "email", "first_name", "last_name", "phone")
	checkProfile(f)
	if !f.ok() {
		d, err := a.account(r.Context(), me, f)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnprocessableEntity, "account", view{Title: "My account", Section: "account", Data: d})
		return
	}
	u, err := a.st.Subscriber(r.Context(), me.Username, me.Domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	u.Email, u.FirstName, u.LastName, u.Phone = f.Get("email"), f.Get("first_name"), f.Get("last_name"), f.Get("phone")
	if err := a.st.UpdateSubscriber(r.Context(), u); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "Your profile was saved.", true)
	redirect(w, r, "/account")
}

// handleDeviceDelete removes one of the user's own registered contacts.
func (a *App) handleDeviceDelete(w http.ResponseWriter, r *http.Request) {
	contact := r.PostFormValue("contact")
	if contact == "" {
		a.errorPage(w, r, http.StatusBadRequest, "Bad request", "No contact given.")
		return
	}
	if _, err := a.removeContact(w, r, reqCtx(r).me.AOR(), contact); err != nil {
		return
	}
	redirect(w, r, "/account")
}
