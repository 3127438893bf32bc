package web

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"ser/core/store"
)

// prefData is the administrator's user-preferences page.
type prefData struct {
	Subject subject
	Rows    []store.Preference
	Form    *form
}

// attrRE is an AVP name as avpops loads it from usr_preferences.
var attrRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)

// internalPref reports whether an attribute is the console's own (the
// one-time password mark): shown, never edited here.
func internalPref(attr string) bool { return strings.HasPrefix(attr, "web_") }

// prefsPage renders the subject's usr_preferences rows and the add form.
func (a *App) prefsPage(w http.ResponseWriter, r *http.Request, s subject, status int, f *form) {
	rows, err := a.st.Preferences(r.Context(), s.Username, s.Domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if f == nil {
		f = emptyForm(map[string]string{"type": "string"})
	}
	a.render(w, r, status, "admin_preferences", view{Title: "Preferences", Section: "users",
		Data: prefData{Subject: s, Rows: rows, Form: f}})
}

// handlePreferences lists a user's preferences (usr_preferences: the
// attributes avpops loads, call forwarding among them).
func (a *App) handlePreferences(w http.ResponseWriter, r *http.Request) {
	if s, ok := a.subjectOf(w, r); ok {
		a.prefsPage(w, r, s, http.StatusOK, nil)
	}
}

// handlePreferenceSet sets one preference: a string value (type 0, as
// avpops writes s: names with string values) or an integer (type 1).
func (a *App) handlePreferenceSet(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	f := newForm(r, "attribute", "value", "type")
	attr, val := f.Get("attribute"), f.Get("value")
	switch {
	case attr == "":
		f.fail("attribute", "required")
	case len(attr) > 32:
		f.fail("attribute", "at most 32 characters")
	case !attrRE.MatchString(attr):
		f.fail("attribute", `letters, digits, "_" and "-", starting with a letter or "_"`)
	case internalPref(attr):
		f.fail("attribute", "the console's own attribute: not editable")
	}
	typ := 0
	switch f.Get("type") {
	case "string":
		f.check("value", validText(val, 128))
	case "integer":
		typ = 1
		if _, err := strconv.ParseInt(val, 10, 32); err != nil {
			f.fail("value", "a whole number")
		}
	default:
		f.fail("type", "text or number")
	}
	if !f.ok() {
		a.prefsPage(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	if err := a.st.SetPreference(r.Context(), store.Preference{Username: s.Username, Domain: s.Domain,
		Attribute: attr, Value: val, Type: typ}); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("preference set", "user", s.AOR(), "attribute", attr, "by", reqCtx(r).me.AOR())
	a.flash(r, "Preference "+attr+" saved.", true)
	redirect(w, r, s.Path("/preferences"))
}

// handlePreferenceDelete removes one preference.
func (a *App) handlePreferenceDelete(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	attr := r.PostFormValue("attribute")
	if internalPref(attr) {
		a.flash(r, "The console's own attribute "+attr+" is not deleted here.", false)
		redirect(w, r, s.Path("/preferences"))
		return
	}
	err := a.st.DeletePreference(r.Context(), s.Username, s.Domain, attr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: "+attr+" was gone already.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.log.Info("preference deleted", "user", s.AOR(), "attribute", attr, "by", reqCtx(r).me.AOR())
		a.flash(r, "Preference "+attr+" deleted.", true)
	}
	redirect(w, r, s.Path("/preferences"))
}
