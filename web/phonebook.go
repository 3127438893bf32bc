package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"ser/core/store"
)

const phonebookPerPage = 25

// pbEntry is a phonebook entry with its online status.
type pbEntry struct {
	store.PhonebookEntry
	// Status is "online", "offline", "unknown" (ser did not answer) or
	// "" (not a local user: ser cannot tell).
	Status string
	// Presence is the user's presence from the pa module ("open" or
	// "closed", with Note), "" when ser runs no pa (see presence.go).
	Presence, Note string
}

// phonebookData is the phonebook page's content.
type phonebookData struct {
	Entries   []pbEntry
	Pager     pager
	StatusErr string
}

// isLocal reports whether host is a domain of this server: the console's
// domain or one in the domain table.
func (a *App) isLocal(ctx context.Context, host string) (bool, error) {
	if strings.EqualFold(host, a.opts.Domain) {
		return true, nil
	}
	return a.st.IsLocalDomain(ctx, host)
}

// handlePhonebook lists the user's phonebook with the online status of
// each local entry (ul_show_contact, as serweb did).
func (a *App) handlePhonebook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := reqCtx(r).me
	page, done := paging(r, phonebookPerPage)
	entries, total, err := a.st.Phonebook(ctx, me.Username, me.Domain, page)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := phonebookData{Pager: done(total)}
	for _, e := range entries {
		pe := pbEntry{PhonebookEntry: e}
		user, host := uriUserHost(e.SIPURI)
		local, err := a.isLocal(ctx, host)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		switch {
		case !local || user == "":
		case d.StatusErr != "":
			pe.Status = "unknown"
		default:
			cs, err := a.ser.ShowContacts(ctx, a.opts.LocationTable, user+"@"+host)
			switch {
			case err != nil:
				pe.Status, d.StatusErr = "unknown", cmdErrText(err)
			case len(cs) > 0:
				pe.Status = "online"
			default:
				pe.Status = "offline"
			}
			if err == nil {
				pe.Presence, pe.Note = a.presence(ctx, user+"@"+host)
			}
		}
		d.Entries = append(d.Entries, pe)
	}
	a.render(w, r, http.StatusOK, "phonebook", view{Title: "Phonebook", Section: "phonebook", Data: d})
}

// phonebookFormData is the entry form's content.
type phonebookFormData struct {
	ID   int64
	Form *form
}

// handlePhonebookForm shows the form for a new entry or, with ?id=, for
// one of the user's entries.
func (a *App) handlePhonebookForm(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	d := phonebookFormData{Form: emptyForm(map[string]string{"sip_uri": r.URL.Query().Get("uri")})}
	if idText := r.URL.Query().Get("id"); idText != "" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			a.notFound(w, r)
			return
		}
		e, err := a.st.PhonebookEntry(r.Context(), me.Username, me.Domain, id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		d = phonebookFormData{ID: e.ID, Form: emptyForm(map[string]string{"fname": e.FName, "lname": e.LName, "sip_uri": e.SIPURI})}
	}
	a.render(w, r, http.StatusOK, "phonebook_form", view{Title: "Phonebook entry", Section: "phonebook", Data: d})
}

// handlePhonebookSave adds or updates an entry of the user's own
// phonebook (names at most 32, a SIP URI at most 128, no duplicate URI).
func (a *App) handlePhonebookSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := reqCtx(r).me
	f := newForm(r, "fname", "lname", "sip_uri")
	var id int64
	if s := r.PostFormValue("id"); s != "" && s != "0" {
		var err error
		if id, err = strconv.ParseInt(s, 10, 64); err != nil {
			a.notFound(w, r)
			return
		}
	}
	f.check("fname", validText(f.Get("fname"), 32))
	f.check("lname", validText(f.Get("lname"), 32))
	if f.Get("fname") == "" && f.Get("lname") == "" {
		f.fail("fname", "give a name")
	}
	f.check("sip_uri", validSIPURI(f.Get("sip_uri"), 128))
	if f.ok() {
		all, _, err := a.st.Phonebook(ctx, me.Username, me.Domain, store.Page{})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		for _, e := range all {
			if e.ID != id && strings.EqualFold(e.SIPURI, f.Get("sip_uri")) {
				f.fail("sip_uri", "already in your phonebook ("+strings.TrimSpace(e.FName+" "+e.LName)+")")
			}
		}
	}
	if !f.ok() {
		a.render(w, r, http.StatusUnprocessableEntity, "phonebook_form", view{Title: "Phonebook entry", Section: "phonebook",
			Data: phonebookFormData{ID: id, Form: f}})
		return
	}
	e := store.PhonebookEntry{ID: id, Username: me.Username, Domain: me.Domain, FName: f.Get("fname"), LName: f.Get("lname"),
		SIPURI: f.Get("sip_uri")}
	var err error
	if id == 0 {
		_, err = a.st.AddPhonebookEntry(ctx, e)
	} else {
		err = a.st.UpdatePhonebookEntry(ctx, e)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(r, "Phonebook entry saved.", true)
	redirect(w, r, "/phonebook")
}

// handlePhonebookDelete deletes one of the user's entries.
func (a *App) handlePhonebookDelete(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	id, err := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	if err != nil {
		a.notFound(w, r)
		return
	}
	err = a.st.DeletePhonebookEntry(r.Context(), me.Username, me.Domain, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.flash(r, "Phonebook entry deleted.", true)
	redirect(w, r, "/phonebook")
}
