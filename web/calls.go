package web

import "net/http"

// callsData is the user's calls page.
type callsData struct {
	accData
}

// handleCalls shows the user's own missed calls (missed_calls) or call
// history (acc), by date.
func (a *App) handleCalls(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	at := a.attribution(r.Context())
	af := a.parseAccFilter(r, me, at)
	if r.URL.Query().Get("table") == "" {
		af.Table = "missed"
	}
	d := callsData{accData{accFilter: af, ExportURL: "/calls/export?" + af.query(), AliasErr: at.AliasErr}}
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
		d.Rows, d.Pager = at.rows(rows), done(total)
	} else {
		status = http.StatusUnprocessableEntity
	}
	a.render(w, r, status, "calls", view{Title: "My calls", Section: "calls", Data: d})
}

// handleCallsExport sends the user's own records as CSV.
func (a *App) handleCallsExport(w http.ResponseWriter, r *http.Request) {
	at := a.attribution(r.Context())
	af := a.parseAccFilter(r, reqCtx(r).me, at)
	if r.URL.Query().Get("table") == "" {
		af.Table = "missed"
	}
	a.exportAcc(w, r, af, at)
}
