package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// dsRow is a destination: its row of the dispatcher table (ID 0 when ser
// has it from a list file only) and its state in ser.
type dsRow struct {
	ID          int
	SetID       int
	URI         string
	Priority    int
	Description string
	// State is ds_list's letter (A, I, D, T; "" when ser does not have
	// the destination: module not loaded, or not reloaded yet); Probing
	// its P.
	State   string
	Probing bool
}

// StateText names State in plain language.
func (d dsRow) StateText() string {
	switch d.State {
	case "A":
		return "active"
	case "I":
		return "inactive"
	case "D":
		return "disabled"
	case "T":
		return "trying"
	}
	return "not loaded"
}

// dsSet is a dispatcher set with its destinations.
type dsSet struct {
	ID    int
	Dests []dsRow
}

// dispatcherData is the dispatcher page's content.
type dispatcherData struct {
	Sets     []dsSet
	NoModule bool   // ser has no ds_list: the dispatcher module is not loaded
	ListErr  string // ds_list failed
	Form     *form
}

// dispatcherPage renders the dispatcher table merged with ser's sets and
// states (ds_list): destinations ser has from a list file appear too.
func (a *App) dispatcherPage(w http.ResponseWriter, r *http.Request, status int, f *form) {
	ctx := r.Context()
	rows, err := a.st.DispatcherDests(ctx, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := dispatcherData{Form: f}
	if d.Form == nil {
		d.Form = emptyForm(map[string]string{"setid": "1", "priority": "0"})
	}
	live, err := a.ser.DSList(ctx)
	switch {
	case sercmd.IsNotAvailable(err):
		d.NoModule = true
	case err != nil:
		d.ListErr = cmdErrText(err)
	}
	type key struct {
		set int
		uri string
	}
	state := map[key]sercmd.DSDest{}
	for _, s := range live {
		for _, dst := range s.Dests {
			state[key{s.ID, strings.ToLower(dst.URI)}] = dst
		}
	}
	sets := map[int]*dsSet{}
	add := func(row dsRow) {
		s := sets[row.SetID]
		if s == nil {
			s = &dsSet{ID: row.SetID}
			sets[row.SetID] = s
		}
		s.Dests = append(s.Dests, row)
	}
	for _, row := range rows {
		k := key{row.SetID, strings.ToLower(row.Destination)}
		st := state[k]
		delete(state, k)
		add(dsRow{ID: row.ID, SetID: row.SetID, URI: row.Destination, Priority: row.Priority, Description: row.Description,
			State: st.State, Probing: st.Probing})
	}
	for _, s := range live {
		for _, dst := range s.Dests {
			if _, only := state[key{s.ID, strings.ToLower(dst.URI)}]; only {
				add(dsRow{SetID: s.ID, URI: dst.URI, Priority: dst.Priority, State: dst.State, Probing: dst.Probing})
			}
		}
	}
	for _, s := range sets {
		d.Sets = append(d.Sets, *s)
	}
	sort.Slice(d.Sets, func(i, j int) bool { return d.Sets[i].ID < d.Sets[j].ID })
	a.render(w, r, status, "admin_dispatcher", view{Title: "Dispatcher", Section: "dispatcher", Data: d})
}

// handleDispatcher shows the sets.
func (a *App) handleDispatcher(w http.ResponseWriter, r *http.Request) {
	a.dispatcherPage(w, r, http.StatusOK, nil)
}

// dsReload runs ds_reload after a table change, for the flash message.
func (a *App) dsReload(r *http.Request) (string, bool) {
	_, err := a.ser.Run(r.Context(), "ds_reload")
	switch {
	case err == nil:
		return " ser reloaded the dispatcher table.", true
	case sercmd.IsNotAvailable(err):
		return " (The dispatcher module is not loaded: nothing to reload.)", true
	}
	return " But ds_reload failed (does the module read a list file instead of the table?): " + err.Error(), false
}

// handleDispatcherAdd adds a destination to the dispatcher table, then
// runs ds_reload.
func (a *App) handleDispatcherAdd(w http.ResponseWriter, r *http.Request) {
	f := newForm(r, "setid", "destination", "priority", "description")
	set, err := validInt(f.Get("setid"), 0, 1_000_000)
	f.check("setid", err)
	prio := 0
	if f.Get("priority") != "" {
		prio, err = validInt(f.Get("priority"), -1000, 1000)
		f.check("priority", err)
	}
	f.check("destination", validSIPURI(f.Get("destination"), 192))
	f.check("description", validText(f.Get("description"), 64))
	if !f.ok() {
		a.dispatcherPage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if _, err := a.st.AddDispatcherDest(r.Context(), "", store.DispatcherDest{SetID: set, Destination: f.Get("destination"),
		Priority: prio, Description: f.Get("description")}); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("dispatcher destination added", "set", set, "destination", f.Get("destination"), "by", reqCtx(r).me.AOR())
	msg, ok := a.dsReload(r)
	a.flash(r, "Destination "+f.Get("destination")+" added to set "+strconv.Itoa(set)+"."+msg, ok)
	redirect(w, r, "/admin/dispatcher")
}

// handleDispatcherDelete removes a destination row, then runs ds_reload.
func (a *App) handleDispatcherDelete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PostFormValue("id"))
	if err != nil {
		a.notFound(w, r)
		return
	}
	err = a.st.DeleteDispatcherDest(r.Context(), "", id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: the destination was gone already.", false)
		redirect(w, r, "/admin/dispatcher")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.log.Info("dispatcher destination deleted", "id", id, "by", reqCtx(r).me.AOR())
	msg, ok := a.dsReload(r)
	a.flash(r, "Destination deleted."+msg, ok)
	redirect(w, r, "/admin/dispatcher")
}

// dsStates are the states an administrator may set (ds_set_state's
// letters), in plain language.
var dsStates = map[string]string{"a": "active", "i": "inactive", "d": "disabled", "t": "trying"}

// handleDispatcherState sets a destination's state in ser (ds_set_state;
// not stored: the table's flags are the state at load).
func (a *App) handleDispatcherState(w http.ResponseWriter, r *http.Request) {
	state := r.PostFormValue("state")
	uri := r.PostFormValue("uri")
	set, err := strconv.Atoi(r.PostFormValue("setid"))
	if _, ok := dsStates[state]; !ok || err != nil || uri == "" {
		a.flash(r, "Unknown state or destination.", false)
		redirect(w, r, "/admin/dispatcher")
		return
	}
	if err := a.ser.DSSetState(r.Context(), state, set, uri); err != nil {
		if sercmd.Code(err) == 404 {
			a.flash(r, "ser does not have "+uri+" in set "+strconv.Itoa(set)+" (reload the table first).", false)
			redirect(w, r, "/admin/dispatcher")
			return
		}
		a.fail(w, r, err)
		return
	}
	a.log.Info("dispatcher state set", "set", set, "destination", uri, "state", dsStates[state], "by", reqCtx(r).me.AOR())
	a.flash(r, uri+" in set "+strconv.Itoa(set)+" is now "+dsStates[state]+".", true)
	redirect(w, r, "/admin/dispatcher")
}
