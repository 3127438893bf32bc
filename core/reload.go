package core

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/rpc"
	"ser/core/script"
)

// A configuration reload (cfg_reload, SIGHUP) replaces the routing script
// of a running server: the new file is parsed and checked as ser -c checks
// it, its route blocks are compiled against the running module instances
// (their fixups bind to the instances that hold the registrations,
// transactions and connections) and the compiled program is installed
// with one atomic store. Messages received from then on run it; a
// transaction keeps running the failure and onreply routes of the script
// it started under (sipmsg.Msg.Script). What is set up once at start-up —
// global options, loadmodule lines, modparams — must be unchanged: a
// reload that changes one is refused, each change named at its position
// with the reason, and the running script is kept.

// CmdCfgReload is the management command that reloads the configuration.
const CmdCfgReload = "cfg_reload"

// ReloadResult is the outcome of a reload attempt, the structured value of
// cfg_reload's reply.
type ReloadResult struct {
	// File is the configuration file read.
	File string `json:"file"`
	// Reloaded is true when the new script was installed.
	Reloaded bool `json:"reloaded"`
	// Routes names the route blocks of the installed script.
	Routes []string `json:"routes,omitempty"`
	// Params are the module parameters the reload changed (those a
	// module can take at run time, module.Param.Reload).
	Params []string `json:"params,omitempty"`
	// Errors are the reasons the reload was refused, each
	// "file:line:col: message".
	Errors []string `json:"errors,omitempty"`
}

// WriteBody writes the reply lines: the routes installed, or one error a
// line.
func (r *ReloadResult) WriteBody(b *strings.Builder) {
	if r.Reloaded {
		fmt.Fprintf(b, "%s: %s\n", r.File, strings.Join(r.Routes, " "))
		for _, p := range r.Params {
			b.WriteString(p + "\n")
		}
		return
	}
	for _, e := range r.Errors {
		b.WriteString(e)
		b.WriteByte('\n')
	}
}

// reloadState is what an Instance keeps to reload its configuration.
type reloadState struct {
	name   string                   // the config's name in positions (its path)
	source func() ([]byte, error)   // reads the configuration again
	newEnv func(string) *module.Env // the environments Load made
}

// ReloadConfig reads the configuration again (LoadOptions.Source, else the
// file it was loaded from) and reloads it (Reload). Success and every
// error are logged.
func (in *Instance) ReloadConfig() *ReloadResult {
	log := in.Server.Logger()
	res := &ReloadResult{File: in.reload.name}
	src, err := in.readSource()
	if err == nil {
		res.Routes, res.Params, err = in.reload1(src)
	}
	if err != nil {
		if el, ok := err.(cfg.ErrorList); ok {
			for _, e := range el {
				res.Errors = append(res.Errors, e.Error())
				log.Error("config reload: "+e.Error(), "module", "core")
			}
		} else {
			res.Errors = append(res.Errors, err.Error())
			log.Error("config reload: "+err.Error(), "module", "core")
		}
		log.Error("configuration not reloaded; the running configuration is kept", "module", "core",
			"file", res.File, "errors", len(res.Errors))
		return res
	}
	res.Reloaded = true
	for _, p := range res.Params {
		log.Info("config reload: "+p, "module", "core")
	}
	log.Info("configuration reloaded", "module", "core", "file", res.File, "routes", strings.Join(res.Routes, " "))
	return res
}

// readSource returns the configuration text to reload.
func (in *Instance) readSource() ([]byte, error) {
	if in.reload.source != nil {
		return in.reload.source()
	}
	b, err := os.ReadFile(in.reload.name)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	return b, nil
}

// Reload installs the routing script of src, the new text of the
// configuration file the instance was loaded from, when it passes the
// checks of ser -c and changes nothing that is set up at start-up (global
// options, loadmodule lines, modparams). Otherwise it returns every error
// (a cfg.ErrorList of "file:line:col: message") and the running script
// stays. Reloads are serialised; messages are never blocked.
func (in *Instance) Reload(src []byte) error {
	_, _, err := in.reload1(src)
	return err
}

// reload1 is Reload; it also returns the route blocks installed and the
// modparam changes applied.
func (in *Instance) reload1(src []byte) (routes, params []string, err error) {
	in.reloadMu.Lock()
	defer in.reloadMu.Unlock()
	name := in.reload.name
	f, errs := cfg.Parse(name, src)
	// The option values are checked as at start-up (on a scratch copy).
	scratch := DefaultOptions()
	for _, o := range f.Options {
		for _, v := range o.Values {
			if err := scratch.Set(o.Name, optValue(v)); err != nil {
				errs = append(errs, cfg.Errorf(o.Pos, "%v", err))
			}
		}
	}
	// Module names and modparam values are checked on instances that are
	// never initialised; the script binds to the running ones.
	_, merrs := module.Load(f)
	errs = append(errs, merrs...)
	refused, changes := startupChanges(in.File, f, in.Modules, errs)
	errs = append(errs, refused...)
	prog, cerrs := script.Compile(f, in.Modules, in.Server, in.reload.newEnv)
	errs = append(errs, cerrs...)
	if len(errs) > 0 {
		return nil, nil, sorted(errs)
	}
	// Parameters that may change at run time (module.Param.Reload), then
	// the script.
	var applied []string
	for _, p := range changes {
		if err := p.apply(); err != nil {
			return nil, applied, sorted(cfg.ErrorList{cfg.Errorf(p.pos, "%s: %v", p.what, err)})
		}
		applied = append(applied, p.what)
	}
	in.Server.SetRouter(prog)
	in.Program, in.File = prog, f
	in.Server.Stats.Reloads.Add(1)
	return routeNames(f), applied, nil
}

// routeNames lists a file's route blocks: "route[0] failure_route[1] …".
func routeNames(f *cfg.File) []string {
	var out []string
	for _, rb := range f.Routes {
		if rb.Body != nil {
			out = append(out, rb.Name())
		}
	}
	return out
}

// paramChange is a modparam a reload applies to a running module.
type paramChange struct {
	what  string // modparam("tm", "fr_inv_timer") changed from 120 to 60
	pos   cfg.Pos
	apply func() error
}

// startupChanges compares what a running server set up at start-up —
// global options, loadmodule lines and modparams — between the running
// configuration old and the new one, and returns an error for each
// change, at its position in the new file (a removed line at the file,
// naming its line in the running configuration), except for modparams
// the running modules ms can take at run time (module.Param.Reload):
// those are returned as changes to apply. Directives that already have
// an error in have are skipped.
func startupChanges(old, nf *cfg.File, ms *module.Modules, have cfg.ErrorList) (cfg.ErrorList, []paramChange) {
	d := &startupDiff{old: old, nf: nf, ms: ms, bad: map[cfg.Pos]bool{}, removed: cfg.Pos{File: nf.Name}}
	for _, e := range have {
		d.bad[e.Pos] = true
	}
	d.options()
	d.modules()
	d.modparams()
	return d.errs, d.params
}

// startupDiff is one comparison of startupChanges.
type startupDiff struct {
	old, nf *cfg.File
	ms      *module.Modules
	bad     map[cfg.Pos]bool // positions that have an error already
	removed cfg.Pos          // where a line that is gone is reported: the file
	errs    cfg.ErrorList
	params  []paramChange
}

// options compares the global options.
func (d *startupDiff) options() {
	old, nf, bad, removed := d.old, d.nf, d.bad, d.removed
	// Global options: the sequence of values of each name. Options that
	// have no effect (listed at start-up) may change.
	type optUse struct {
		vals []string
		pos  []cfg.Pos
	}
	optUses := func(f *cfg.File) (map[string]*optUse, []string) {
		m := map[string]*optUse{}
		var order []string
		for _, o := range f.Options {
			u := m[o.Name]
			if u == nil {
				u = &optUse{}
				m[o.Name] = u
				order = append(order, o.Name)
			}
			u.vals = append(u.vals, valuesKey(o.Values))
			u.pos = append(u.pos, o.Pos)
		}
		return m, order
	}
	oldOpts, oldOrder := optUses(old)
	newOpts, newOrder := optUses(nf)
	for _, name := range newOrder {
		n, o := newOpts[name], oldOpts[name]
		if d, ok := optDefs[name]; !ok || d.ignored != "" {
			continue // unknown (reported) or without effect
		}
		var was []string
		if o != nil {
			was = o.vals
		}
		if i := firstDiff(was, n.vals); i >= 0 {
			pos := n.pos[min(i, len(n.pos)-1)]
			if bad[pos] {
				continue
			}
			if i < len(was) && i < len(n.vals) {
				d.errs.Addf(pos, "option '%s' changed from %s to %s: %s; restart ser to apply it", name, was[i], n.vals[i], optionRestartReason(name))
			} else if i < len(n.vals) {
				d.errs.Addf(pos, "option '%s' added: %s; restart ser to apply it", name, optionRestartReason(name))
			} else {
				d.errs.Addf(pos, "option '%s' removed (line %d of the running configuration): %s; restart ser to apply it",
					name, o.pos[i].Line, optionRestartReason(name))
			}
		}
	}
	for _, name := range oldOrder {
		if _, ok := newOpts[name]; ok {
			continue
		}
		if d, ok := optDefs[name]; !ok || d.ignored != "" {
			continue
		}
		d.errs.Addf(removed, "option '%s' removed (line %d of the running configuration): %s; restart ser to apply it",
			name, oldOpts[name].pos[0].Line, optionRestartReason(name))
	}
}

// modules compares the loadmodule lines.
func (d *startupDiff) modules() {
	old, nf, bad, removed := d.old, d.nf, d.bad, d.removed
	// loadmodule: the same modules in the same order (the order decides
	// which module a function name binds to).
	mods := func(f *cfg.File) ([]string, map[string]*cfg.LoadModule) {
		var names []string
		by := map[string]*cfg.LoadModule{}
		for _, lm := range f.LoadModules {
			n := module.BaseName(lm.Path.Text)
			if by[n] == nil {
				by[n] = lm
				names = append(names, n)
			}
		}
		return names, by
	}
	oldMods, oldBy := mods(old)
	newMods, newBy := mods(nf)
	for _, n := range newMods {
		if lm := newBy[n]; oldBy[n] == nil && !bad[lm.Path.Pos] {
			d.errs.Addf(lm.Pos, "loadmodule %q added: modules are loaded and initialised once, at start-up; restart ser to load it", lm.Path.Text)
		}
	}
	for _, n := range oldMods {
		if newBy[n] == nil {
			d.errs.Addf(removed, "loadmodule %q removed (line %d of the running configuration): a running module cannot be unloaded; restart ser to drop it",
				oldBy[n].Path.Text, oldBy[n].Pos.Line)
		}
	}
	{
		// The same modules in another order.
		var common, commonNew []string
		for _, n := range oldMods {
			if newBy[n] != nil {
				common = append(common, n)
			}
		}
		for _, n := range newMods {
			if oldBy[n] != nil {
				commonNew = append(commonNew, n)
			}
		}
		if i := firstDiff(common, commonNew); i >= 0 {
			lm := newBy[commonNew[i]]
			d.errs.Addf(lm.Pos, "loadmodule %q moved: the order of loadmodule lines decides which module a function binds to and is fixed at start-up; restart ser to change it", lm.Path.Text)
		}
	}
}

// modparams compares the modparams.
func (d *startupDiff) modparams() {
	old, nf, ms, bad, removed := d.old, d.nf, d.ms, d.bad, d.removed
	// modparam: the sequence of values of each (module, parameter).
	type mpUse struct {
		vals []string
		mps  []*cfg.ModParam
	}
	mpUses := func(f *cfg.File) (map[string]*mpUse, []string) {
		m := map[string]*mpUse{}
		var order []string
		for _, mp := range f.ModParams {
			k := mp.Module.Text + "\x00" + mp.Param.Text
			u := m[k]
			if u == nil {
				u = &mpUse{}
				m[k] = u
				order = append(order, k)
			}
			u.vals = append(u.vals, valuesKey([]cfg.Value{mp.Value}))
			u.mps = append(u.mps, mp)
		}
		return m, order
	}
	oldMPs, oldMPOrder := mpUses(old)
	newMPs, newMPOrder := mpUses(nf)
	const mpReason = "module parameters are applied when the module is initialised at start-up"
	for _, k := range newMPOrder {
		n, o := newMPs[k], oldMPs[k]
		var was []string
		if o != nil {
			was = o.vals
		}
		i := firstDiff(was, n.vals)
		if i < 0 {
			continue
		}
		mp := n.mps[min(i, len(n.mps)-1)]
		if bad[mp.Value.Pos] || bad[mp.Module.Pos] || bad[mp.Param.Pos] {
			continue
		}
		what := fmt.Sprintf("modparam(%q, %q)", mp.Module.Text, mp.Param.Text)
		{
			// A parameter the module can change at run time gets the
			// new file's last value.
			last := n.mps[len(n.mps)-1]
			if apply, ok := ms.Reloadable(last); ok {
				from := "its default"
				if o != nil {
					from = was[len(was)-1]
				}
				d.params = append(d.params, paramChange{what: fmt.Sprintf("%s changed from %s to %s", what, from, n.vals[len(n.vals)-1]),
					pos: last.Value.Pos, apply: apply})
				continue
			}
		}
		switch {
		case i < len(was) && i < len(n.vals):
			d.errs.Addf(mp.Value.Pos, "%s changed from %s to %s: %s; restart ser to apply it", what, was[i], n.vals[i], mpReason)
		case i < len(n.vals):
			d.errs.Addf(mp.Pos, "%s added: %s; restart ser to apply it", what, mpReason)
		default:
			d.errs.Addf(mp.Pos, "%s removed (line %d of the running configuration): %s; restart ser to apply it", what, o.mps[i].Pos.Line, mpReason)
		}
	}
	for _, k := range oldMPOrder {
		if _, ok := newMPs[k]; ok {
			continue
		}
		mp := oldMPs[k].mps[0]
		reason := mpReason
		if _, ok := ms.Reloadable(mp); ok {
			reason = "a reload does not restore a parameter's default; set the value explicitly"
		}
		d.errs.Addf(removed, "modparam(%q, %q) removed (line %d of the running configuration): %s; restart ser to apply it",
			mp.Module.Text, mp.Param.Text, mp.Pos.Line, reason)
	}
}

// firstDiff returns the first index where a and b differ, -1 when equal.
func firstDiff(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

// valuesKey renders values for comparison: numbers by value (0x10 and 16
// are one value), strings as written.
func valuesKey(vs []cfg.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if v.IsNumber() {
			parts[i] = strconv.Itoa(v.N)
		} else {
			parts[i] = strconv.Quote(v.Text)
		}
	}
	return strings.Join(parts, ", ")
}

// optionRestartReason says why a global option cannot change while ser
// runs.
func optionRestartReason(name string) string {
	switch {
	case name == "listen" || name == "port" || name == "alias" || name == "advertised_address" || name == "advertised_port" ||
		name == "disable_tcp" || name == "maxbuffer" || strings.HasPrefix(name, "tcp_"):
		return "the SIP sockets, their addresses and limits are set up at start-up"
	case name == "children" || name == "fork":
		return "the workers are started once, at start-up"
	case name == "debug" || strings.HasPrefix(name, "log_"):
		return "the logger is set up at start-up"
	case strings.HasPrefix(name, "fifo") || strings.HasPrefix(name, "sock_") || name == "file_mode" || strings.HasPrefix(name, "unix_") ||
		strings.HasPrefix(name, "xmlrpc_") || strings.HasPrefix(name, "http_") || name == "web":
		return "the FIFO, unix socket and HTTP listener are started at start-up"
	case name == "db_url" || name == "db_file_mode" || name == "store_plaintext_passwords" || name == "sip_domain":
		return "the databases are opened (and the web console set up) at start-up"
	case name == "user" || name == "uid" || name == "group" || name == "gid" || name == "wdir" || name == "workdir" || name == "chroot":
		return "the process drops privileges and changes directory once, at start-up"
	}
	return "the core reads it at start-up"
}

// registerReload adds cfg_reload to the server's command registry.
func (in *Instance) registerReload() error {
	return in.Server.rpc.Register(rpc.Command{
		Name: CmdCfgReload,
		Help: "re-read the configuration file and install its routing script (refused, with every error, when it does not pass the checks of ser -c or changes what needs a restart)",
		Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			res := in.ReloadConfig()
			if res.Reloaded {
				return rpc.Typed(req.OK(), res)
			}
			return rpc.Typed("400 configuration not reloaded, the running one is kept", res)
		},
	})
}
