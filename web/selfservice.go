package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"ser/core/store"
)

// subject is whose data a self-service page (call forwarding, speed
// dial, stored messages) shows and changes: the logged-in user on
// /forwarding, /speeddial, /messages; any subscriber on the
// administrator's /admin/users/forwarding?u=&d=, … variants, which are
// the same handlers behind needAdmin.
type subject struct {
	Username, Domain string
	Admin            bool   // the administrator's variant
	Base             string // path prefix of the page's forms and links: "" or "/admin/users"
	Query            string // "?u=…&d=…" on the administrator's variant, else ""
	Hidden           bool   // the forms carry u and d
}

// AOR returns user@domain.
func (s subject) AOR() string { return s.Username + "@" + s.Domain }

// Path returns the page path p ("/forwarding") of this variant with the
// subject's query.
func (s subject) Path(p string) string { return s.Base + p + s.Query }

// subjectOf resolves the subject of r: the logged-in user, or on an
// /admin/ path the subscriber named by u and d (query on GET, form on
// POST), which must exist (else a 404 page is written and ok is false).
func (a *App) subjectOf(w http.ResponseWriter, r *http.Request) (s subject, ok bool) {
	if !strings.HasPrefix(r.URL.Path, "/admin/") {
		me := reqCtx(r).me
		return subject{Username: me.Username, Domain: me.Domain}, true
	}
	u, err := a.loadUser(r)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r)
		return s, false
	case err != nil:
		a.fail(w, r, err)
		return s, false
	}
	return subject{Username: u.Username, Domain: u.Domain, Admin: true, Base: "/admin/users", Hidden: true,
		Query: "?u=" + url.QueryEscape(u.Username) + "&d=" + url.QueryEscape(u.Domain)}, true
}

// section is the navigation tab of a self-service page: the user's own
// tab, or "users" on the administrator's variant.
func (s subject) section(own string) string {
	if s.Admin {
		return "users"
	}
	return own
}

// fwdKind is a call forwarding condition: the usr_preferences attribute
// the avpops recipes load (avp_db_load("$ruri/username", "s:callfwd")
// …) and its plain-language name.
type fwdKind struct {
	Attr, Label, Hint string
}

// fwdKinds are unconditional, busy and no-answer forwarding.
var fwdKinds = []fwdKind{
	{"callfwd", "Always", "every call goes straight to this address; your phones do not ring"},
	{"fwdbusy", "When busy", "when your phone answers busy (486 Busy Here)"},
	{"fwdnoanswer", "When not answered", "when no phone answers in time (or none is registered)"},
}

// fwdType is the usr_preferences.type of a forwarding row: avpops's
// database flags, 0 = string name and string value.
const fwdType = 0

// forwarding is a user's call forwarding, for the forwarding page and the
// user page's summary.
type forwarding struct {
	Kinds []fwdKind
	Form  *form
	Set   int // how many conditions forward
}

// forwardingOf reads username@domain's forwarding preferences.
func (a *App) forwardingOf(ctx context.Context, username, domain string) (forwarding, error) {
	prefs, err := a.st.Preferences(ctx, username, domain)
	if err != nil {
		return forwarding{}, err
	}
	vals := map[string]string{}
	for _, p := range prefs {
		vals[p.Attribute] = p.Value
	}
	fw := forwarding{Kinds: fwdKinds, Form: emptyForm(nil)}
	for _, k := range fwdKinds {
		if v := vals[k.Attr]; v != "" {
			fw.Form.Values[k.Attr] = v
			fw.Set++
		}
	}
	return fw, nil
}

// forwardingData is the forwarding page's content.
type forwardingData struct {
	Subject subject
	forwarding
}

// fwdTarget completes a forwarding target: "" stays empty (no
// forwarding), "5551234" or "bob" becomes sip:…@domain, "bob@host" gets
// "sip:"; a sip: or sips: URI is kept.
func fwdTarget(s, domain string) string {
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(strings.ToLower(s), "sip:") || strings.HasPrefix(strings.ToLower(s), "sips:"):
		return s
	case strings.Contains(s, "@"):
		return "sip:" + s
	}
	return "sip:" + s + "@" + domain
}

// handleForwarding shows the subject's call forwarding.
func (a *App) handleForwarding(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	fw, err := a.forwardingOf(r.Context(), s.Username, s.Domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "forwarding", view{Title: "Call forwarding", Section: s.section("forwarding"),
		Data: forwardingData{Subject: s, forwarding: fw}})
}

// handleForwardingSave writes the three forwarding targets (an empty one
// removes that forwarding) in one transaction.
func (a *App) handleForwardingSave(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	var names []string
	for _, k := range fwdKinds {
		names = append(names, k.Attr)
	}
	f := newForm(r, names...)
	vals := map[string]string{}
	for _, k := range fwdKinds {
		v := fwdTarget(f.Get(k.Attr), s.Domain)
		if v != "" {
			f.check(k.Attr, validSIPURI(v, 128))
			if u, h := uriUserHost(v); strings.EqualFold(u, s.Username) && strings.EqualFold(h, s.Domain) {
				f.fail(k.Attr, "this is the user's own address: calls would loop")
			}
		}
		f.Values[k.Attr], vals[k.Attr] = v, v
	}
	if !f.ok() {
		a.render(w, r, http.StatusUnprocessableEntity, "forwarding", view{Title: "Call forwarding", Section: s.section("forwarding"),
			Data: forwardingData{Subject: s, forwarding: forwarding{Kinds: fwdKinds, Form: f}}})
		return
	}
	if err := a.st.ReplacePreferences(r.Context(), s.Username, s.Domain, fwdType, vals); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("call forwarding changed", "user", s.AOR(), "by", reqCtx(r).me.AOR())
	a.flash(r, "Call forwarding saved.", true)
	redirect(w, r, s.Path("/forwarding"))
}

// speedDialData is the speed dial page's content.
type speedDialData struct {
	Subject subject
	Entries []store.SpeedDial
	Form    *form
}

// speedDialPage renders the subject's speed dial list and the add form.
func (a *App) speedDialPage(w http.ResponseWriter, r *http.Request, s subject, status int, f *form) {
	entries, err := a.st.SpeedDials(r.Context(), s.Username, s.Domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if f == nil {
		f = emptyForm(nil)
	}
	a.render(w, r, status, "speeddial", view{Title: "Speed dial", Section: s.section("speeddial"),
		Data: speedDialData{Subject: s, Entries: entries, Form: f}})
}

// handleSpeedDial lists the subject's speed dials.
func (a *App) handleSpeedDial(w http.ResponseWriter, r *http.Request) {
	if s, ok := a.subjectOf(w, r); ok {
		a.speedDialPage(w, r, s, http.StatusOK, nil)
	}
}

// handleSpeedDialSave adds or replaces a short number: dialling
// short@domain (the subject's domain) reaches the target (the speeddial
// module's sd_lookup).
func (a *App) handleSpeedDialSave(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	f := newForm(r, "short", "calls", "fname", "lname", "description")
	short := f.Get("short")
	switch {
	case short == "":
		f.fail("short", "required")
	case len(short) > 64:
		f.fail("short", "at most 64 characters")
	case !usernameRE.MatchString(short):
		f.fail("short", `digits (or letters, "._+-")`)
	}
	target := fwdTarget(f.Get("calls"), s.Domain)
	if target == "" {
		f.fail("calls", "required")
	} else {
		f.check("calls", validSIPURI(target, 192))
	}
	f.Values["calls"] = target
	f.check("fname", validText(f.Get("fname"), 128))
	f.check("lname", validText(f.Get("lname"), 128))
	f.check("description", validText(f.Get("description"), 64))
	if !f.ok() {
		a.speedDialPage(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	err := a.st.SetSpeedDial(r.Context(), store.SpeedDial{Username: s.Username, Domain: s.Domain, SDUsername: short,
		SDDomain: s.Domain, NewURI: target, FName: f.Get("fname"), LName: f.Get("lname"), Description: f.Get("description")})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "Speed dial "+short+" saved.", true)
	redirect(w, r, s.Path("/speeddial"))
}

// handleSpeedDialDelete removes one of the subject's short numbers.
func (a *App) handleSpeedDialDelete(w http.ResponseWriter, r *http.Request) {
	s, ok := a.subjectOf(w, r)
	if !ok {
		return
	}
	short := r.PostFormValue("short")
	err := a.st.DeleteSpeedDial(r.Context(), s.Username, s.Domain, short, r.PostFormValue("sd_domain"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: the entry was gone already.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.flash(r, "Speed dial "+short+" deleted.", true)
	}
	redirect(w, r, s.Path("/speeddial"))
}
