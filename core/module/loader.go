package module

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"ser/core/cfg"
	"ser/core/sipmsg"
)

// Loaded is one module instance of a configuration: one implementation,
// whichever names loaded it.
type Loaded struct {
	name string // the implementation's name
	exp  *Exports
	inst any
	pos  cfg.Pos // of the first loadmodule directive that needed it
	env  *Env
	init bool // Init ran
}

// loadedName is one loadmodule directive's name and the instances its
// tables bind to.
type loadedName struct {
	name  string
	pos   cfg.Pos
	def   *Name
	insts []*Loaded // insts[i] runs def.Parts[i]
}

// findFunc returns the function called fn, with the instance it runs on,
// from the name's tables that are fallbacks (Table.Fallback) or
// not.
func (ln *loadedName) findFunc(fn string, fallback bool) (*Func, *Loaded) {
	for i, p := range ln.def.Parts {
		if p.Fallback != fallback {
			continue
		}
		for j := range p.Funcs {
			if p.Funcs[j].Name == fn {
				return &p.Funcs[j], ln.insts[i]
			}
		}
	}
	return nil, nil
}

// Modules are the instances of the modules one config loads.
type Modules struct {
	list    []*Loaded // implementations, load order
	byName  map[string]*Loaded
	names   []*loadedName // loadmodule names, load order
	byLoad  map[string]*loadedName
	order   []*Loaded // init order (dependencies first)
	started []*Loaded
	halted  map[*Loaded]bool // Stop already called on the instance
	stopped bool
}

// Load makes an instance of each module a loadmodule directive
// names (the path's base name without ".so": "modules/tm/tm.so" → tm) and
// applies the modparam directives to them. Every error is returned with
// its position: an unknown module, a modparam for a module that is not
// loaded, an unknown parameter, a value of the wrong type, or a value the
// module refuses.
//
// A name may be one of several names of one implementation (SER 0.9's
// auth_db and auth are one here; SER 0.8's auth also holds group's and
// uri's functions): a config that loads several of them gets one instance
// of the implementation, and a modparam set under any of the names
// reaches it (Exports.Also).
//
// Types: an integer parameter accepts numbers, yes/no/on/off/true/false
// and quoted strings holding a number ("10"); a string parameter accepts a
// number too and gets its text (SER 0.9 refused both mismatches). A module
// name in modparam that is not loaded is tried as a regular expression
// over the loaded modules' names, as SER 0.9 did ("usrloc|registrar").
// Loading a module twice is a warning; the second directive is ignored.
func Load(f *cfg.File) (*Modules, cfg.ErrorList) {
	ms := &Modules{byName: map[string]*Loaded{}, byLoad: map[string]*loadedName{}}
	var errs cfg.ErrorList
	for _, lm := range f.LoadModules {
		name := BaseName(lm.Path.Text)
		if prev, dup := ms.byLoad[name]; dup {
			slog.Warn("module already loaded, directive ignored", "module", "core",
				"name", name, "pos", lm.Pos.String(), "first", prev.pos.String())
			continue
		}
		def, ok := LookupName(name)
		if !ok {
			errs.Addf(lm.Path.Pos, "loadmodule: unknown module '%s' (from %q)", name, lm.Path.Text)
			continue
		}
		ln := &loadedName{name: name, pos: lm.Pos, def: def}
		for _, p := range def.Parts {
			l := ms.byName[p.Impl.Name]
			if l == nil {
				l = &Loaded{name: p.Impl.Name, exp: p.Impl, inst: p.Impl.New(), pos: lm.Pos}
				ms.list = append(ms.list, l)
				ms.byName[l.name] = l
			}
			ln.insts = append(ln.insts, l)
		}
		ms.names = append(ms.names, ln)
		ms.byLoad[name] = ln
	}
	for _, mp := range f.ModParams {
		errs.Append(ms.modparam(mp))
	}
	errs.Sort()
	return ms, errs
}

// modparam applies one modparam directive.
func (ms *Modules) modparam(mp *cfg.ModParam) cfg.ErrorList {
	var errs cfg.ErrorList
	modName, param := mp.Module.Text, mp.Param.Text
	targets := []*loadedName{}
	if ln, ok := ms.byLoad[modName]; ok {
		targets = append(targets, ln)
	} else if strings.ContainsAny(modName, "|*.?+[]()^$\\") {
		re, err := regexp.Compile("^(" + modName + ")$")
		if err != nil {
			errs.Addf(mp.Module.Pos, "modparam: bad module name pattern %q: %v", modName, err)
			return errs
		}
		for _, ln := range ms.names {
			if re.MatchString(ln.name) && ln.def.HasParam(param) {
				targets = append(targets, ln)
			}
		}
		if len(targets) == 0 {
			errs.Addf(mp.Module.Pos, "modparam: no loaded module matching '%s' has a parameter '%s'", modName, param)
			return errs
		}
	} else {
		if _, known := LookupName(BaseName(modName)); known {
			errs.Addf(mp.Module.Pos, "modparam: module '%s' not loaded (missing loadmodule?)", modName)
		} else {
			errs.Addf(mp.Module.Pos, "modparam: module '%s' not loaded", modName)
		}
		return errs
	}
	for _, ln := range targets {
		if !ln.def.HasParam(param) {
			errs.Addf(mp.Param.Pos, "modparam: module '%s' has no parameter '%s'", ln.name, param)
			continue
		}
		// A name whose tables come from several implementations may
		// have the parameter in more than one (SER 0.8's auth db_url
		// served authentication and groups): each gets the value.
		for i, part := range ln.def.Parts {
			for _, p := range part.Params {
				if p.Name != param {
					continue
				}
				v, err := paramValue(p.Kind, mp.Value)
				if err == nil {
					err = p.Set(ln.insts[i].inst, v)
				}
				if err != nil {
					errs.Addf(mp.Value.Pos, "modparam: %s: %s: %v", ln.name, param, err)
				}
			}
		}
	}
	return errs
}

// Reloadable returns how to apply the modparam directive mp of a new
// configuration to the running instances when every parameter it reaches
// can change at run time (Param.Reload); ok is false otherwise (a module
// name pattern, an unknown parameter, one without Reload).
func (ms *Modules) Reloadable(mp *cfg.ModParam) (apply func() error, ok bool) {
	ln, found := ms.byLoad[mp.Module.Text]
	if !found {
		return nil, false
	}
	var fns []func() error
	for i, part := range ln.def.Parts {
		for _, p := range part.Params {
			if p.Name != mp.Param.Text {
				continue
			}
			if p.Reload == nil {
				return nil, false
			}
			v, err := paramValue(p.Kind, mp.Value)
			if err != nil {
				return nil, false
			}
			inst, reload := ln.insts[i].inst, p.Reload
			fns = append(fns, func() error { return reload(inst, v) })
		}
	}
	if len(fns) == 0 {
		return nil, false
	}
	return func() error {
		for _, f := range fns {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}, true
}

// paramValue converts a modparam value to the parameter's kind.
func paramValue(kind Kind, v cfg.Value) (Value, error) {
	switch kind {
	case Int:
		if v.IsNumber() {
			return Value{N: v.N, IsInt: true, S: strconv.Itoa(v.N)}, nil
		}
		n, err := (Value{S: v.Text}).Int()
		if err != nil {
			return Value{}, fmt.Errorf("integer expected, got %q", v.Text)
		}
		return Value{N: n, IsInt: true, S: strconv.Itoa(n)}, nil
	default:
		if v.IsNumber() {
			return Value{S: strconv.Itoa(v.N)}, nil
		}
		return Value{S: v.Text, Quoted: v.Kind == cfg.StringValue}, nil
	}
}

// Names returns the loaded modules' names (as loadmodule named them) in
// load order.
func (ms *Modules) Names() []string {
	names := make([]string, len(ms.names))
	for i, ln := range ms.names {
		names[i] = ln.name
	}
	return names
}

// Instances returns every module instance once, in load order (a config
// that loads auth and auth_db has one auth instance).
func (ms *Modules) Instances() []any {
	out := make([]any, len(ms.list))
	for i, l := range ms.list {
		out[i] = l.inst
	}
	return out
}

// Instance returns the instance of a loaded module, or nil. name is an
// implementation's name ("auth") or any name it was loaded under
// ("auth_db").
func (ms *Modules) Instance(name string) any {
	if l, ok := ms.byName[name]; ok {
		return l.inst
	}
	if ln, ok := ms.byLoad[name]; ok && len(ln.insts) > 0 {
		return ln.insts[0].inst
	}
	return nil
}

// RequestHooks returns the loaded modules' request hooks
// (Exports.OnRequest) bound to their instances, in load order.
func (ms *Modules) RequestHooks() []func(*sipmsg.Msg) bool {
	var out []func(*sipmsg.Msg) bool
	for _, l := range ms.list {
		if h, inst := l.exp.OnRequest, l.inst; h != nil {
			out = append(out, func(m *sipmsg.Msg) bool { return h(inst, m) })
		}
	}
	return out
}

// ReplyHooks returns the loaded modules' reply hooks (Exports.OnReply)
// bound to their instances, in load order.
func (ms *Modules) ReplyHooks() []func(*sipmsg.Msg) bool {
	var out []func(*sipmsg.Msg) bool
	for _, l := range ms.list {
		if h, inst := l.exp.OnReply, l.inst; h != nil {
			out = append(out, func(m *sipmsg.Msg) bool { return h(inst, m) })
		}
	}
	return out
}

// FindFunc returns the function a script call of name with nargs
// arguments binds to, and the instance it runs on, or nil: the first
// loaded name (in load order) that has the function with a matching
// arity, else the first that has it at all (its arity is then reported).
// An older generation's functions (Table.Fallback) count only when no
// loaded name has the function otherwise.
func (ms *Modules) FindFunc(name string, nargs int) (*Func, *Loaded) {
	var (
		found *Loaded
		fn    *Func
	)
	for _, fallback := range []bool{false, true} {
		for _, ln := range ms.names {
			f, l := ln.findFunc(name, fallback)
			if f == nil {
				continue
			}
			if found == nil {
				found, fn = l, f
			}
			if nargs >= f.MinArgs && nargs <= f.MaxArgs {
				return f, l
			}
		}
		if found != nil {
			break
		}
	}
	return fn, found
}

// Name returns the implementation's name.
func (l *Loaded) Name() string { return l.name }

// Inst returns the instance.
func (l *Loaded) Inst() any { return l.inst }

// Env returns the environment l's functions are bound with: the one its
// Init got, or (Init did not run) one made by newEnv with core.
func (ms *Modules) Env(l *Loaded, newEnv func(string) *Env, core Core) *Env {
	if l.env != nil {
		return l.env
	}
	return ms.envFor(l.name, newEnv, core)
}

// initOrder sorts the modules so that each comes after the modules it
// depends on (Exports.Deps), keeping load order otherwise.
func (ms *Modules) initOrder() ([]*Loaded, error) {
	var (
		order []*Loaded
		state = map[*Loaded]int{} // 1 visiting, 2 done
		visit func(l *Loaded, path []string) error
	)
	visit = func(l *Loaded, path []string) error {
		switch state[l] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("module dependency cycle: %s", strings.Join(append(path, l.name), " → "))
		}
		state[l] = 1
		for _, d := range l.exp.Deps {
			dl, ok := ms.byName[d]
			if !ok {
				return fmt.Errorf("module '%s' (loaded at %s) needs module '%s': add loadmodule \"%s.so\"", l.name, l.pos, d, d)
			}
			if err := visit(dl, append(path, l.name)); err != nil {
				return err
			}
		}
		state[l] = 2
		order = append(order, l)
		return nil
	}
	for _, l := range ms.list {
		if err := visit(l, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Init initialises the modules, dependencies first, then in load order.
// newEnv makes each module's environment; when its Instance is nil it is
// set to Modules.Instance.
func (ms *Modules) Init(newEnv func(name string) *Env) error {
	order, err := ms.initOrder()
	if err != nil {
		return err
	}
	ms.order = order
	for _, l := range order {
		l.env = ms.envFor(l.name, newEnv, nil)
		if err := l.exp.Initialize(l.inst, l.env); err != nil {
			return fmt.Errorf("init module '%s': %w", l.name, err)
		}
		l.init = true
	}
	return nil
}

// envFor returns an environment for the module called name.
func (ms *Modules) envFor(name string, newEnv func(string) *Env, core Core) *Env {
	var env *Env
	if newEnv != nil {
		env = newEnv(name)
	}
	if env == nil {
		env = &Env{}
	}
	if env.Log == nil {
		env.Log = slog.Default().With("module", name)
	}
	if env.Instance == nil {
		env.Instance = ms.Instance
	}
	if env.Core == nil {
		env.Core = core
	}
	return env
}

// Start starts the background work of the modules whose table has
// Start, in init order. When one fails, the ones already started are
// stopped.
func (ms *Modules) Start(ctx context.Context) error {
	order := ms.order
	if order == nil {
		order = ms.list
	}
	for _, l := range order {
		if l.exp.Start == nil {
			continue
		}
		if err := l.exp.Start(l.inst, ctx); err != nil {
			ms.stopStarted()
			return fmt.Errorf("start module '%s': %w", l.name, err)
		}
		ms.started = append(ms.started, l)
	}
	return nil
}

// stopStarted stops the started instances in reverse order.
func (ms *Modules) stopStarted() {
	for i := len(ms.started) - 1; i >= 0; i-- {
		ms.stopOne(ms.started[i])
	}
	ms.started = nil
}

// stopOne calls Stop on an instance once.
func (ms *Modules) stopOne(l *Loaded) {
	if ms.halted[l] {
		return
	}
	if ms.halted == nil {
		ms.halted = map[*Loaded]bool{}
	}
	ms.halted[l] = true
	if l.exp.Stop != nil {
		l.exp.Stop(l.inst)
	}
}

// Stop stops every module whose table has Stop, in reverse init order. It is safe to call more than once; later calls do nothing.
func (ms *Modules) Stop() {
	if ms.stopped {
		return
	}
	ms.stopped = true
	order := ms.order
	if order == nil {
		order = ms.list
	}
	for i := len(order) - 1; i >= 0; i-- {
		ms.stopOne(order[i])
	}
	ms.started = nil
}
