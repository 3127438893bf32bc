package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// domainRow is a row of the domain table with whether ser has it in
// memory.
type domainRow struct {
	store.Domain
	Loaded bool
}

// domainsData is the domains page's content.
type domainsData struct {
	Rows []domainRow
	// NoModule: ser has no domain_dump (the domain module is not loaded);
	// DumpErr: it failed.
	NoModule bool
	DumpErr  string
	Form     *form
}

// domainsPage renders the domain table and what ser has loaded
// (domain_dump).
func (a *App) domainsPage(w http.ResponseWriter, r *http.Request, status int, f *form) {
	ctx := r.Context()
	rows, err := a.st.Domains(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := domainsData{Form: f}
	if d.Form == nil {
		d.Form = emptyForm(nil)
	}
	loaded := map[string]bool{}
	names, err := a.ser.DomainDump(ctx)
	switch {
	case sercmd.IsNotAvailable(err):
		d.NoModule = true
	case err != nil:
		d.DumpErr = cmdErrText(err)
	}
	for _, n := range names {
		loaded[strings.ToLower(n)] = true
	}
	for _, row := range rows {
		d.Rows = append(d.Rows, domainRow{Domain: row, Loaded: loaded[row.Domain]})
	}
	a.render(w, r, status, "admin_domains", view{Title: "Domains", Section: "domains", Data: d})
}

// handleDomains lists the domains.
func (a *App) handleDomains(w http.ResponseWriter, r *http.Request) {
	a.domainsPage(w, r, http.StatusOK, nil)
}

// domainReload asks ser to re-read the domain table and says how that
// went, for the flash message.
func (a *App) domainReload(ctx context.Context) (string, bool) {
	_, err := a.ser.Run(ctx, "domain_reload")
	switch {
	case err == nil:
		return " ser reloaded its domain table.", true
	case sercmd.IsNotAvailable(err):
		return " ser has no domain_reload command (the domain module is not loaded), so it does not use the table yet.", false
	}
	return " But domain_reload failed: " + err.Error(), false
}

// handleDomainAdd adds a domain to the domain table, then runs
// domain_reload.
func (a *App) handleDomainAdd(w http.ResponseWriter, r *http.Request) {
	f := newForm(r, "domain")
	dom := strings.ToLower(f.Get("domain"))
	f.Values["domain"] = dom
	f.check("domain", validDomain(dom))
	if f.ok() {
		err := a.st.AddDomain(r.Context(), dom)
		switch {
		case errors.Is(err, store.ErrExists):
			f.fail("domain", "in the table already")
		case err != nil:
			a.fail(w, r, err)
			return
		}
	}
	if !f.ok() {
		a.domainsPage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	a.log.Info("domain added", "domain", dom, "by", reqCtx(r).me.AOR())
	msg, ok := a.domainReload(r.Context())
	a.flash(r, "Domain "+dom+" added."+msg, ok)
	redirect(w, r, "/admin/domains")
}

// handleDomainDelete removes a domain, then runs domain_reload.
func (a *App) handleDomainDelete(w http.ResponseWriter, r *http.Request) {
	dom := strings.ToLower(r.PostFormValue("domain"))
	err := a.st.DeleteDomain(r.Context(), dom)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: "+dom+" was not in the table.", false)
		redirect(w, r, "/admin/domains")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.log.Info("domain deleted", "domain", dom, "by", reqCtx(r).me.AOR())
	msg, ok := a.domainReload(r.Context())
	a.flash(r, "Domain "+dom+" deleted."+msg, ok)
	redirect(w, r, "/admin/domains")
}
