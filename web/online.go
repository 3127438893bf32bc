package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// onlinePerPage is the length of an online-users page.
const onlinePerPage = 50

// onlineRow is one registered contact.
type onlineRow struct {
	AOR string
	sercmd.Contact
}

// onlineData is the online users page's content.
type onlineData struct {
	Rows    []onlineRow
	AORs    int
	NoTable bool
	Table   string
	Q       string
	Pager   pager
	Form    *form
}

// onlinePage renders the registered contacts of everyone (ul_dump of the
// location table), filtered by ?q= and paged.
func (a *App) onlinePage(w http.ResponseWriter, r *http.Request, status int, f *form) {
	t, ok, err := a.ser.DumpTable(r.Context(), a.opts.LocationTable)
	if err != nil && !sercmd.IsNotAvailable(err) {
		a.fail(w, r, err)
		return
	}
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	d := onlineData{NoTable: !ok, Table: a.opts.LocationTable, Q: q, Form: f}
	var rows []onlineRow
	for _, rec := range t.Records {
		match := q == "" || strings.Contains(strings.ToLower(rec.AOR), q)
		n := 0
		for _, c := range rec.Contacts {
			if match || strings.Contains(strings.ToLower(c.URI), q) || strings.Contains(strings.ToLower(c.UserAgent), q) {
				rows = append(rows, onlineRow{AOR: rec.AOR, Contact: c})
				n++
			}
		}
		if n > 0 {
			d.AORs++
		}
	}
	slices.SortStableFunc(rows, func(x, y onlineRow) int { return strings.Compare(x.AOR, y.AOR) })
	page, done := pagingClamped(r, onlinePerPage, len(rows))
	d.Pager = done(len(rows))
	lo := min(page.Offset, len(rows))
	d.Rows = rows[lo:min(lo+page.Limit, len(rows))]
	if d.Form == nil {
		d.Form = emptyForm(nil)
	}
	a.render(w, r, status, "admin_online", view{Title: "Online users", Section: "online", Data: d})
}

// handleOnline lists the registered contacts with expires, user agent and
// received address.
func (a *App) handleOnline(w http.ResponseWriter, r *http.Request) {
	a.onlinePage(w, r, http.StatusOK, nil)
}

// handleOnlineAdd adds a permanent contact for a subscriber (serctl ul
// add: ul_add location user@domain <uri> 0 1.00 0 128).
func (a *App) handleOnlineAdd(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := newForm(r, "user", "contact")
	user, domain := splitAOR(f.Get("user"), a.opts.Domain)
	f.check("user", validUsername(user))
	f.check("contact", validSIPURI(f.Get("contact"), 255))
	if f.ok() {
		_, err := a.st.Subscriber(ctx, user, domain)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.fail("user", "no such user: "+user+"@"+domain)
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if f.ok() {
		err := a.ser.AddPermanent(ctx, a.opts.LocationTable, user+"@"+domain, f.Get("contact"))
		switch {
		case sercmd.Code(err) >= 400 && sercmd.Code(err) < 500:
			f.fail("_", "ser refused the contact: "+err.Error())
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if !f.ok() {
		a.onlinePage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	a.log.Info("permanent contact added", "user", user+"@"+domain, "contact", f.Get("contact"), "by", reqCtx(r).me.AOR())
	a.flash(r, "Permanent contact "+f.Get("contact")+" added for "+user+"@"+domain+".", true)
	redirect(w, r, "/admin/online")
}

// handleOnlineDelete removes one contact (ul_rm_contact).
func (a *App) handleOnlineDelete(w http.ResponseWriter, r *http.Request) {
	aor, contact := r.PostFormValue("aor"), r.PostFormValue("contact")
	if aor == "" || contact == "" {
		a.errorPage(w, r, http.StatusBadRequest, "Bad request", "No contact given.")
		return
	}
	removed, err := a.removeContact(w, r, aor, contact)
	if err != nil {
		return
	}
	if removed {
		a.log.Info("contact removed", "aor", aor, "contact", contact, "by", reqCtx(r).me.AOR())
	}
	back := "/admin/online"
	if p := localPath(r.PostFormValue("back")); strings.HasPrefix(p, "/admin/") {
		back = p
	}
	redirect(w, r, back)
}

// removeContact runs ul_rm_contact and sets the flash message; removed is
// false when the contact was gone already. On a failure it renders the
// error page and returns the error.
func (a *App) removeContact(w http.ResponseWriter, r *http.Request, aor, contact string) (removed bool, err error) {
	err = a.ser.RemoveContact(r.Context(), a.opts.LocationTable, aor, contact)
	switch {
	case sercmd.Code(err) == 404:
		a.flash(r, "The contact "+contact+" was gone already.", false)
		return false, nil
	case err != nil:
		a.fail(w, r, err)
		return false, err
	}
	a.flash(r, "Contact "+contact+" removed.", true)
	return true, nil
}
