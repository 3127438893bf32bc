package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ser/core/store"
)

const (
	accPerPage = 50
	// maxExport caps a CSV export.
	maxExport = 100_000
)

// accTables maps the page's table choice to the store's table.
var accTables = map[string]string{"acc": "acc", "missed": "missed_calls"}

// accFilter is the parsed filter of an accounting page.
type accFilter struct {
	Table  string // "acc" or "missed"
	Form   *form  // the filter as typed, with errors
	Filter store.AccFilter
}

// parseAccFilter reads ?table=&user=&from=&to= (dates as YYYY-MM-DD,
// "to" inclusive). With me set the user is forced to me (a user's own
// calls). A user (user, or user@domain; the default domain when none) is
// selected under every spelling at attributes to it: its aliases and the
// server's names for its domain.
func (a *App) parseAccFilter(r *http.Request, me *principal, at attribution) accFilter {
	q := r.URL.Query()
	af := accFilter{Table: q.Get("table"), Form: emptyForm(map[string]string{
		"user": strings.TrimSpace(q.Get("user")), "from": strings.TrimSpace(q.Get("from")), "to": strings.TrimSpace(q.Get("to"))})}
	if _, ok := accTables[af.Table]; !ok {
		af.Table = "acc"
	}
	f := af.Form
	if me != nil {
		af.Filter.AnyOf = at.spellings(me.Username, me.Domain)
	} else if u := f.Get("user"); u != "" {
		user, domain, hasDomain := strings.Cut(u, "@")
		f.check("user", validUsername(user))
		if hasDomain {
			f.check("user", validDomain(domain))
		} else {
			domain = a.opts.Domain
		}
		af.Filter.AnyOf = at.spellings(user, strings.ToLower(domain))
	}
	from, err := parseDate(f.Get("from"))
	f.check("from", err)
	to, err := parseDate(f.Get("to"))
	f.check("to", err)
	af.Filter.Since = from
	if !to.IsZero() {
		af.Filter.Until = to.Add(24 * time.Hour)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		f.fail("to", "before the start date")
	}
	return af
}

// query returns the filter as a query string (for links).
func (af accFilter) query() string {
	v := url.Values{"table": {af.Table}}
	for _, k := range []string{"user", "from", "to"} {
		if s := af.Form.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// accData is an accounting page's content.
type accData struct {
	accFilter
	Rows      []accRow
	Counts    []accTotal
	Pager     pager
	ExportURL string
	AliasErr  string // the aliases could not be read: calls to aliases are shown under the alias
}

// handleAcc lists completed calls (acc) or missed calls (missed_calls),
// overall or for one user, by date, with per-user totals.
func (a *App) handleAcc(w http.ResponseWriter, r *http.Request) {
	at := a.attribution(r.Context())
	af := a.parseAccFilter(r, nil, at)
	d := accData{accFilter: af, ExportURL: "/admin/acc/export?" + af.query(), AliasErr: at.AliasErr}
	status := http.StatusOK
	if af.Form.ok() {
		page, done := paging(r, accPerPage)
		f := af.Filter
		f.Page = page
		rows, total, err := a.st.ListAcc(r.Context(), accTables[af.Table], f)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		f.Page = store.Page{}
		counts, err := a.st.AccCounts(r.Context(), accTables[af.Table], f)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		d.Rows, d.Counts, d.Pager = at.rows(rows), at.totals(counts, 10), done(total)
	} else {
		status = http.StatusUnprocessableEntity
	}
	a.render(w, r, status, "admin_acc", view{Title: "Accounting", Section: "acc", Data: d})
}

// handleAccExport sends the filtered records as CSV.
func (a *App) handleAccExport(w http.ResponseWriter, r *http.Request) {
	at := a.attribution(r.Context())
	a.exportAcc(w, r, a.parseAccFilter(r, nil, at), at)
}

// exportAcc writes the records of af as a CSV attachment (at most
// maxExport rows, newest first).
func (a *App) exportAcc(w http.ResponseWriter, r *http.Request, af accFilter, at attribution) {
	if !af.Form.ok() {
		a.errorPage(w, r, http.StatusBadRequest, "Bad filter", firstError(af.Form))
		return
	}
	f := af.Filter
	f.Page = store.Page{Limit: maxExport}
	rows, _, err := a.st.ListAcc(r.Context(), accTables[af.Table], f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("%s-%s.csv", accTables[af.Table], a.now().UTC().Format("20060102-150405"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "method", "status", "from", "to", "from_uri", "to_uri", "i_uri", "o_uri", "call_id",
		"username", "domain", "fromtag", "totag", "user"})
	for _, x := range at.rows(rows) {
		rec := []string{x.Time.UTC().Format("2006-01-02 15:04:05"), x.Method, x.Status, x.From, x.To, x.FromURI, x.ToURI,
			x.IURI, x.OURI, x.CallID, x.Username, x.Domain, x.FromTag, x.ToTag, x.AOR}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		a.log.Warn("csv export cut short", "err", err)
	}
}

// csvSafe defuses a cell a spreadsheet would take for a formula (it
// starts with = + - @ or a tab/CR) by prefixing a quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
