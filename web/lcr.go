package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"

	"github.com/go-chi/chi/v5"

	"ser/core/rpc/sercmd"
	"ser/core/store"
)

// gwNameRE is a gateway name.
var gwNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-]*$`)

// lcrData is the LCR page's content: gateways with their trunks
// (gw_cap), gateway groups, routing rules, and the four forms.
type lcrData struct {
	store.LCRData
	GroupNames                             map[int]string
	GwForm, TrunkForm, GroupForm, RuleForm *form
}

// lcrPage renders the LCR page; the form named by which (if any) is f.
func (a *App) lcrPage(w http.ResponseWriter, r *http.Request, status int, which string, f *form) {
	data, err := a.st.LoadLCR(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := lcrData{LCRData: data, GroupNames: map[int]string{},
		GwForm:    emptyForm(map[string]string{"scheme": "sip", "transport": "udp"}),
		TrunkForm: emptyForm(map[string]string{"priority": "0"}),
		GroupForm: emptyForm(nil),
		RuleForm:  emptyForm(map[string]string{"from_uri": "%", "priority": "0"}),
	}
	for _, g := range data.Groups {
		d.GroupNames[g.ID] = g.Name
	}
	switch which {
	case "gw":
		d.GwForm = f
	case "trunk":
		d.TrunkForm = f
	case "group":
		d.GroupForm = f
	case "rule":
		d.RuleForm = f
	}
	a.render(w, r, status, "admin_lcr", view{Title: "LCR gateways", Section: "lcr", Data: d})
}

// handleLCR shows gateways, trunks, groups and rules.
func (a *App) handleLCR(w http.ResponseWriter, r *http.Request) {
	a.lcrPage(w, r, http.StatusOK, "", nil)
}

// handleLCRAction runs one change (gw-add, gw-delete, trunk-set,
// trunk-delete, group-add, group-delete, rule-add, rule-delete), then asks
// ser to reload its LCR tables (lcr_reload).
func (a *App) handleLCRAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var (
		which string
		f     *form
		msg   string
		err   error
	)
	switch chi.URLParam(r, "action") {
	case "gw-add":
		which, f = "gw", newForm(r, "name", "group", "ip", "port", "scheme", "transport", "prefix")
		msg, err = a.lcrAddGateway(ctx, f)
	case "gw-delete":
		name := r.PostFormValue("name")
		msg, err = "Gateway "+name+" deleted.", a.st.DeleteGateway(ctx, name)
	case "trunk-set":
		which, f = "trunk", newForm(r, "gw", "cap", "prefix", "priority")
		msg, err = a.lcrSetTrunk(ctx, f)
	case "trunk-delete":
		capability, _ := strconv.Atoi(r.PostFormValue("cap"))
		msg, err = "Trunk deleted.", a.st.DeleteTrunk(ctx, r.PostFormValue("gw"), capability)
	case "group-add":
		which, f = "group", newForm(r, "name")
		msg, err = a.lcrAddGroup(ctx, f)
	case "group-delete":
		msg, err = a.lcrDeleteGroup(ctx, r.PostFormValue("id"))
	case "rule-add":
		which, f = "rule", newForm(r, "prefix", "from_uri", "group", "priority")
		msg, err = a.lcrAddRule(ctx, f)
	case "rule-delete":
		g, _ := strconv.Atoi(r.PostFormValue("group"))
		p, _ := strconv.Atoi(r.PostFormValue("priority"))
		msg, err = "Rule deleted.", a.st.DeleteLCRRule(ctx, store.LCRRule{Prefix: r.PostFormValue("prefix"),
			FromURI: r.PostFormValue("from_uri"), GroupID: g, Priority: p})
	default:
		a.notFound(w, r)
		return
	}
	var inUse errInUse
	switch {
	case f != nil && !f.ok():
		a.lcrPage(w, r, http.StatusUnprocessableEntity, which, f)
		return
	case errors.As(err, &inUse):
		a.flash(r, string(inUse), false)
		redirect(w, r, "/admin/lcr")
		return
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: the entry was gone already.", false)
		redirect(w, r, "/admin/lcr")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.log.Info("lcr changed", "action", chi.URLParam(r, "action"), "by", reqCtx(r).me.AOR())
	ok := true
	_, rerr := a.ser.Run(ctx, "lcr_reload")
	switch {
	case rerr == nil:
		msg += " ser reloaded its LCR tables."
	case sercmd.IsNotAvailable(rerr):
		msg += " (The lcr module is not loaded: nothing to reload.)"
	default:
		ok = false
		msg += " But lcr_reload failed: " + rerr.Error()
	}
	a.flash(r, msg, ok)
	redirect(w, r, "/admin/lcr")
}

// errInUse refuses deleting a group still referenced.
type errInUse string

func (e errInUse) Error() string { return string(e) }

// lcrGroupExists checks a gateway group id of form field k.
func (a *App) lcrGroupExists(ctx context.Context, f *form, k string) (int, error) {
	id, err := validInt(f.Get(k), 1, 1<<31-1)
	if err != nil {
		f.fail(k, "choose a gateway group")
		return 0, nil
	}
	data, err := a.st.LoadLCR(ctx)
	if err != nil {
		return 0, err
	}
	for _, g := range data.Groups {
		if g.ID == id {
			return id, nil
		}
	}
	f.fail(k, "no such gateway group")
	return 0, nil
}

func (a *App) lcrAddGateway(ctx context.Context, f *form) (string, error) {
	name := f.Get("name")
	if name == "" || len(name) > 128 || !gwNameRE.MatchString(name) {
		f.fail("name", `letters, digits and "._-", at most 128`)
	}
	group, err := a.lcrGroupExists(ctx, f, "group")
	if err != nil {
		return "", err
	}
	ip, perr := netip.ParseAddr(f.Get("ip"))
	if perr != nil || !ip.Is4() {
		f.fail("ip", "an IPv4 address")
	}
	port := 0
	if f.Get("port") != "" {
		if port, err = validInt(f.Get("port"), 1, 65535); err != nil {
			f.check("port", err)
		}
	}
	scheme := map[string]int{"sip": store.SchemeSIP, "sips": store.SchemeSIPS}[f.Get("scheme")]
	if scheme == 0 {
		f.fail("scheme", "sip or sips")
	}
	transport := map[string]int{"udp": store.TransportUDP, "tcp": store.TransportTCP, "tls": store.TransportTLS}[f.Get("transport")]
	if transport == 0 {
		f.fail("transport", "udp, tcp or tls")
	}
	checkPrefix(f, "prefix")
	if !f.ok() {
		return "", nil
	}
	err = a.st.AddGateway(ctx, store.Gateway{Name: name, GroupID: group, IP: ip, Port: port, Scheme: scheme,
		Transport: transport, Prefix: f.Get("prefix")})
	if errors.Is(err, store.ErrExists) {
		f.fail("name", "a gateway of this name exists")
		return "", nil
	}
	return "Gateway " + name + " added.", err
}

// checkPrefix checks a digit prefix (at most 16, "" allowed).
func checkPrefix(f *form, k string) {
	if p := f.Get(k); len(p) > 16 || !digitsRE.MatchString(p) {
		f.fail(k, "digits only, at most 16")
	}
}

func (a *App) lcrSetTrunk(ctx context.Context, f *form) (string, error) {
	capability, err := validInt(f.Get("cap"), 1, 1<<31-1)
	f.check("cap", err)
	prio, err := validInt(f.Get("priority"), 0, 255)
	f.check("priority", err)
	checkPrefix(f, "prefix")
	if f.Get("gw") == "" {
		f.fail("gw", "choose a gateway")
	}
	if !f.ok() {
		return "", nil
	}
	err = a.st.SetTrunk(ctx, f.Get("gw"), store.Trunk{Cap: capability, Prefix: f.Get("prefix"), Priority: prio})
	if errors.Is(err, store.ErrNotFound) {
		f.fail("gw", "no such gateway")
		return "", nil
	}
	return "Trunk " + strconv.Itoa(capability) + " of " + f.Get("gw") + " saved.", err
}

func (a *App) lcrAddGroup(ctx context.Context, f *form) (string, error) {
	f.check("name", validText(f.Get("name"), 64))
	if f.Get("name") == "" {
		f.fail("name", "required")
	}
	if !f.ok() {
		return "", nil
	}
	id, err := a.st.AddGatewayGroup(ctx, f.Get("name"))
	return "Gateway group " + f.Get("name") + " (" + strconv.Itoa(id) + ") added.", err
}

func (a *App) lcrDeleteGroup(ctx context.Context, idText string) (string, error) {
	id, err := strconv.Atoi(idText)
	if err != nil {
		return "", store.ErrNotFound
	}
	data, err := a.st.LoadLCR(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range data.Gateways {
		if g.GroupID == id {
			return "", errInUse("Group " + idText + " is used by gateway " + g.Name + ": not deleted.")
		}
	}
	for _, rl := range data.Rules {
		if rl.GroupID == id {
			return "", errInUse("Group " + idText + " is used by a routing rule: not deleted.")
		}
	}
	return "Gateway group " + idText + " deleted.", a.st.DeleteGatewayGroup(ctx, id)
}

func (a *App) lcrAddRule(ctx context.Context, f *form) (string, error) {
	checkPrefix(f, "prefix")
	if f.Get("from_uri") == "" {
		f.Values["from_uri"] = "%"
	}
	f.check("from_uri", validText(f.Get("from_uri"), 128))
	prio, err := validInt(f.Get("priority"), 0, 255)
	f.check("priority", err)
	group, err := a.lcrGroupExists(ctx, f, "group")
	if err != nil || !f.ok() {
		return "", err
	}
	err = a.st.AddLCRRule(ctx, store.LCRRule{Prefix: f.Get("prefix"), FromURI: f.Get("from_uri"), GroupID: group, Priority: prio})
	return "Rule for prefix \"" + f.Get("prefix") + "\" added.", err
}
