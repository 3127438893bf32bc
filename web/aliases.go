package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// aliasesData is the aliases page's content.
type aliasesData struct {
	Rows    []aliasEntry
	NoTable bool
	Table   string
	Q       string
	Form    *form
}

// aliasesPage renders the aliases page with form f.
func (a *App) aliasesPage(w http.ResponseWriter, r *http.Request, status int, f *form) {
	entries, ok, err := a.aliasEntries(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	d := aliasesData{NoTable: !ok, Table: a.opts.AliasTable, Q: q, Form: f}
	for _, e := range entries {
		if q == "" || strings.Contains(strings.ToLower(e.AOR), q) || strings.Contains(strings.ToLower(e.Target), q) {
			d.Rows = append(d.Rows, e)
		}
	}
	slices.SortFunc(d.Rows, func(x, y aliasEntry) int { return strings.Compare(x.AOR+" "+x.Target, y.AOR+" "+y.Target) })
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"domain": a.opts.Domain})
	}
	a.render(w, r, status, "admin_aliases", view{Title: "Aliases", Section: "aliases", Data: d})
}

// handleAliases lists the aliases table of ser's memory (ul_dump).
func (a *App) handleAliases(w http.ResponseWriter, r *http.Request) {
	a.aliasesPage(w, r, http.StatusOK, nil)
}

// handleAliasAdd adds an alias as serctl alias add (0.9): ul_add aliases
// alias@domain <uri> 0 1.00 0 128 — a permanent contact. The alias must
// not be a subscriber or a reserved name; the target must be a SIP URI.
func (a *App) handleAliasAdd(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := newForm(r, "alias", "domain", "target")
	f.Values["domain"] = strings.ToLower(f.Get("domain"))
	alias, domain, target := f.Get("alias"), f.Get("domain"), f.Get("target")
	f.check("alias", validUsername(alias))
	f.check("domain", validDomain(domain))
	f.check("target", validSIPURI(target, 128))
	if f.First("alias") == "" && f.First("domain") == "" {
		reserved, err := a.st.IsReserved(ctx, alias)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if reserved {
			f.fail("alias", "this name is reserved")
		}
		_, err = a.st.Subscriber(ctx, alias, domain)
		switch {
		case err == nil:
			f.fail("alias", "a user of this name exists; an alias cannot shadow it")
		case !errors.Is(err, store.ErrNotFound):
			a.fail(w, r, err)
			return
		}
	}
	if f.ok() {
		cs, err := a.ser.ShowContacts(ctx, a.opts.AliasTable, alias+"@"+domain)
		switch {
		case sercmd.IsNoTable(err) || sercmd.IsNotAvailable(err):
			f.fail("_", `ser has no "`+a.opts.AliasTable+`" table: the routing script must use it (lookup("`+a.opts.AliasTable+`")).`)
		case err != nil:
			a.fail(w, r, err)
			return
		}
		for _, c := range cs {
			if c.URI == target {
				f.fail("target", "this alias points there already")
			}
		}
	}
	if f.ok() {
		err := a.ser.AddPermanent(ctx, a.opts.AliasTable, alias+"@"+domain, target)
		switch {
		case sercmd.Code(err) >= 400 && sercmd.Code(err) < 500:
			f.fail("_", "ser refused the alias: "+err.Error())
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if !f.ok() {
		a.aliasesPage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	a.log.Info("alias added", "alias", alias+"@"+domain, "target", target, "by", reqCtx(r).me.AOR())
	a.flash(r, "Alias "+alias+"@"+domain+" → "+target+" added.", true)
	redirect(w, r, "/admin/aliases")
}

// handleAliasDelete removes one alias binding (ul_rm_contact aliases).
func (a *App) handleAliasDelete(w http.ResponseWriter, r *http.Request) {
	aor, target := r.PostFormValue("aor"), r.PostFormValue("target")
	if aor == "" || target == "" {
		a.errorPage(w, r, http.StatusBadRequest, "Bad request", "No alias given.")
		return
	}
	err := a.ser.RemoveContact(r.Context(), a.opts.AliasTable, aor, target)
	switch {
	case sercmd.Code(err) == 404:
		a.flash(r, "The alias "+aor+" → "+target+" was gone already.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.log.Info("alias removed", "alias", aor, "target", target, "by", reqCtx(r).me.AOR())
		a.flash(r, "Alias "+aor+" → "+target+" removed.", true)
	}
	redirect(w, r, "/admin/aliases")
}
