package web

import (
	"errors"
	"net/http"
	"strings"

	"ser/core/store"
)

// The jabber gateway's account page: the XMPP account (jusers) the
// gateway logs the subject in with. The password is written, never shown
// back (SER's table keeps it in clear; see the README's security notes).

type jabberData struct {
	Subject  subject
	JabID    string
	Disabled bool
	Exists   bool
	Form     *form
}

// sipID is the subject's jusers.sip_id, as SER's pages wrote it.
func (s subject) sipID() string { return "sip:" + s.AOR() }

func (a *App) jabberPage(w http.ResponseWriter, r *http.Request, s subject, status int, f *form) {
	d := jabberData{Subject: s, Form: f}
	id, off, err := a.st.JabberAccountID(r.Context(), s.sipID())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		d.JabID, d.Disabled, d.Exists = id, off, true
	}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"jab_id": d.JabID})
	}
	d.Form.clearPasswords()
	a.render(w, r, status, "jabber", view{Title: "XMPP account", Section: s.section("jabber"), Data: d})
}

// handleJabber shows the subject's gateway account (no password).
func (a *App) handleJabber(w http.ResponseWriter, r *http.Request) {
	if s, ok := a.subjectOf(w, r); ok {
		a.jabberPage(w, r, s, http.StatusOK, nil)
	}
}

// handleJabberSave sets the XMPP user name and, when given, the password;
// "disabled" switches the account off (jusers.type 1) without removing it.
func (a *App) handleJabberSave(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	f := newForm(r, "jab_id", "xmpp_password", "disabled")
	id := f.Get("jab_id")
	switch {
	case id == "":
		f.fail("jab_id", "required")
	case len(id) > 128:
		f.fail("jab_id", "at most 128 characters")
	case strings.ContainsAny(id, " \t/<>'\"&") || strings.Count(id, "@") > 1:
		f.fail("jab_id", "an XMPP user name or user@domain")
	}
	pw := f.Get("xmpp_password")
	if len(pw) > 50 {
		f.fail("xmpp_password", "at most 50 characters")
	}
	if _, _, err := a.st.JabberAccountID(r.Context(), s.sipID()); errors.Is(err, store.ErrNotFound) && pw == "" {
		f.fail("xmpp_password", "required for a new account")
	}
	if !f.ok() {
		a.jabberPage(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	err := a.st.SetJabberAccount(r.Context(), store.JabberAccount{SIPID: s.sipID(), JabID: id, Password: pw, Disabled: f.Get("disabled") != ""})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "XMPP account saved.", true)
	redirect(w, r, s.Path("/jabber"))
}

// handleJabberDelete removes the subject's gateway account.
func (a *App) handleJabberDelete(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	err := a.st.DeleteJabberAccount(r.Context(), s.sipID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: there was no XMPP account.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.flash(r, "XMPP account removed.", true)
	}
	redirect(w, r, s.Path("/jabber"))
}

func init() {
	fieldLabels["jab_id"] = "XMPP user"
	fieldLabels["xmpp_password"] = "XMPP password"
}
