// Package module defines what a SER module exports — script functions,
// modparams, an init hook — and the registry that maps a loadmodule
// directive's base name ("tm" from "/usr/lib/ser/modules/tm.so") to a
// built-in module.
//
// A module registers itself once, from init:
//
//	func init() { module.Register(Exports) }
//
// An implementation may answer to several loadmodule names (Exports.Also),
// each with the functions and modparams that name had in SER: SER 0.9's
// auth and auth_db are one implementation, and SER 0.8's auth gathers
// tables of the auth, group and uri implementations. A config that loads
// several names of an implementation gets one instance of it.
//
// Each running server makes its own instance of every module it loads (New),
// applies modparams to it (Param.Set), initialises it (Init) and then binds
// the script's calls to handlers (Func.Fixup). Everything a call needs is
// converted at that point; nothing is re-parsed per packet.
//
// The table holds instances as any, but a module writes every entry
// against its own instance type and binds it with an adapter — InitOf,
// FixupOf, SetOf (or the one-line BoolParam, IntParam, StrParam,
// IdentParam), CommandsOf, MsgHookOf, StartOf, StopOf — so the only type
// assertions are the adapters' own.
package module

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"ser/core/rpc"
	"ser/core/sipmsg"
)

// Route is a set of block kinds.
type Route uint8

// Block kinds a function may be called from.
const (
	// Request is route{} / route[n]{} (and the later branch routes).
	Request Route = 1 << iota
	// Failure is failure_route[n]{} (SER 0.8's reply_route[n]{}).
	Failure
	// OnReply is onreply_route[n]{}.
	OnReply

	// Any allows every block kind.
	Any = Request | Failure | OnReply
)

// String names the block kinds in r.
func (r Route) String() string {
	var parts []string
	if r&Request != 0 {
		parts = append(parts, "route")
	}
	if r&Failure != 0 {
		parts = append(parts, "failure_route")
	}
	if r&OnReply != 0 {
		parts = append(parts, "onreply_route")
	}
	return strings.Join(parts, "|")
}

// Kind is the type of a modparam value or function argument.
type Kind uint8

// Value kinds.
const (
	Str Kind = iota + 1
	Int
)

// String returns "string" or "integer".
func (k Kind) String() string {
	if k == Int {
		return "integer"
	}
	return "string"
}

// Value is a literal from the config: a modparam value or a function
// argument. Numbers written in the config (and yes/no/on/off/true/false)
// have IsInt set; everything else is a string, quoted or not.
type Value struct {
	S     string
	N     int
	IsInt bool
	// Quoted is true when the value was a quoted string in the config.
	Quoted bool
}

// String returns the value as text.
func (v Value) String() string {
	if v.IsInt {
		return strconv.Itoa(v.N)
	}
	return v.S
}

// Int returns the value as an integer, converting a numeric string.
func (v Value) Int() (int, error) {
	if v.IsInt {
		return v.N, nil
	}
	s := strings.TrimSpace(v.S)
	switch strings.ToLower(s) {
	case "yes", "on", "true":
		return 1, nil
	case "no", "off", "false":
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", v.S)
	}
	return n, nil
}

// Handler runs a bound script call. It returns SER's convention: >0 true,
// <0 false, 0 stops the script. An error is an internal fault: the
// interpreter logs it and treats the call as false.
type Handler func(m *sipmsg.Msg) (int, error)

// Param is a modparam the module accepts.
type Param struct {
	Name string
	Kind Kind
	// Set applies a value to the module instance; it returns an error for
	// an invalid value (the config loader adds file:line:col).
	Set func(inst any, v Value) error
	// Reload, when set, applies a new value to a running instance — safe
	// while messages are processed — so that a configuration reload may
	// change the parameter (the new value was checked with Set on a fresh
	// instance first). Without it a changed value refuses the reload.
	Reload func(inst any, v Value) error
}

// Func is a script function the module exports.
type Func struct {
	Name string
	// MinArgs and MaxArgs bound the number of arguments.
	MinArgs, MaxArgs int
	// Routes are the block kinds the function may be used in.
	Routes Route
	// Fixup validates and converts the arguments once, at load time, and
	// returns the handler the interpreter calls per message.
	//
	// A configuration reload (cfg_reload, SIGHUP) runs the fixups of the
	// new script on the running instance, after Start, while the old
	// script's handlers keep running on other goroutines: a fixup must
	// not change state those handlers read without synchronisation, and
	// when it needs something Start prepares only for the functions the
	// script uses (a database, a table check), it prepares it itself once
	// the instance has started — an error then refuses the reload (see
	// group, uri, auth, acc, avpops, speeddial, permissions and usrloc's
	// Register).
	Fixup func(inst any, env *Env, args []Value) (Handler, error)
}

// Exports is a module's whole contract.
type Exports struct {
	Name   string
	Params []Param
	Funcs  []Func
	// New returns a fresh instance with default parameters.
	New func() any
	// Init is called after every modparam was applied and before any Fixup.
	// It may look up other modules (Get, env.Instance) and open its
	// database.
	Init func(inst any, env *Env) error
	// Deps names modules this one needs loaded (and initialised) first.
	Deps []string
	// Commands returns the management commands (FIFO, unix socket,
	// XML-RPC) of an initialised instance, each with its parameter
	// names and doc string: SER's FIFO commands, Kamailio's RPC exports.
	// The loader registers them in the server's registry right after
	// Init. Bind a method with CommandsOf.
	Commands func(inst any) []rpc.Command
	// OnRequest, when set, sees every request before the script runs and
	// returns true when it consumed it (sl absorbs the ACKs to its own
	// negative replies). Bind a method with MsgHookOf.
	OnRequest func(inst any, m *sipmsg.Msg) bool
	// OnReply, when set, sees every reply before the core routes it
	// statelessly and returns true when it consumed it (tm claims the
	// replies of its transactions).
	OnReply func(inst any, m *sipmsg.Msg) bool
	// Start, when set, starts the instance's background work (timers,
	// probes) once the server is bound, in init order; ctx ends at
	// shutdown. Bind a method with StartOf.
	Start func(inst any, ctx context.Context) error
	// Stop, when set, releases the instance's resources and flushes its
	// state at shutdown, in reverse init order; it runs once, whether or
	// not Start ran. Bind a method with StopOf.
	Stop func(inst any)
	// Also lists further loadmodule names under which this implementation
	// is loaded, each with its own export table: SER split and regrouped
	// modules between releases (0.8's auth held what 0.9 put in auth_db,
	// group and uri_db), so one implementation answers to the names of
	// both generations. A name may gather tables from several
	// implementations (SER 0.8's "auth" is auth's own table plus parts
	// of group's and uri's). Every table's functions and params get the
	// implementation's instance; a config that loads several names of one
	// implementation gets one instance, shared.
	Also []Table
}

// Table is one loadmodule name's share of an implementation: the
// functions and modparams that name had in SER.
type Table struct {
	Name   string
	Params []Param
	Funcs  []Func
	// Fallback marks the functions of an older generation under a name
	// the newer one kept: they are bound only when no other loaded
	// module has a function of that name. A SER 0.9 config loads "auth"
	// and "uri_db" and gets uri_db's check_to, a SER 0.8 config loads
	// "auth" alone and gets 0.8's.
	Fallback bool
}

// Part is what one implementation contributes to a loadmodule name.
type Part struct {
	Impl     *Exports
	Params   []Param
	Funcs    []Func
	Fallback bool // Table.Fallback
}

// Name is what a loadmodule directive loads: the tables registered under
// one name, the implementation whose own name it is first.
type Name struct {
	Name  string
	Parts []Part
}

// FindFunc returns the function called name and the part it belongs to.
func (n *Name) FindFunc(name string) (*Func, *Part, bool) {
	for i := range n.Parts {
		for j := range n.Parts[i].Funcs {
			if n.Parts[i].Funcs[j].Name == name {
				return &n.Parts[i].Funcs[j], &n.Parts[i], true
			}
		}
	}
	return nil, nil, false
}

// HasParam reports whether any part of the name has the modparam.
func (n *Name) HasParam(name string) bool {
	for _, p := range n.Parts {
		for _, q := range p.Params {
			if q.Name == name {
				return true
			}
		}
	}
	return false
}

var (
	regMu    sync.RWMutex
	registry = map[string]*Exports{} // by implementation name
	names    = map[string]*Name{}    // by loadmodule name
)

// Register makes a module available to loadmodule, under its own name and
// the names of e.Also. It panics on a duplicate implementation name, a
// malformed export table, or a function name that a name already has from
// another table, as database/sql.Register does.
func Register(e *Exports) {
	regMu.Lock()
	defer regMu.Unlock()
	if e == nil || e.Name == "" || e.New == nil {
		panic("module: Register of an incomplete export table")
	}
	if _, dup := registry[e.Name]; dup {
		panic("module: Register called twice for " + e.Name)
	}
	tables := append([]Table{{Name: e.Name, Params: e.Params, Funcs: e.Funcs}}, e.Also...)
	for _, t := range tables {
		if t.Name == "" {
			panic("module: " + e.Name + ": table without a name")
		}
		n := names[t.Name]
		if n == nil {
			n = &Name{Name: t.Name}
		}
		seen := map[string]bool{}
		for _, f := range t.Funcs {
			_, _, other := n.FindFunc(f.Name)
			if seen[f.Name] || other || f.Fixup == nil || f.Routes == 0 || f.MaxArgs < f.MinArgs {
				panic("module: " + e.Name + ": bad or duplicate function " + f.Name + " in " + t.Name)
			}
			seen[f.Name] = true
		}
		for _, p := range t.Params {
			if p.Set == nil {
				panic("module: " + e.Name + ": parameter " + p.Name + " in " + t.Name + " has no setter")
			}
		}
		part := Part{Impl: e, Params: t.Params, Funcs: t.Funcs, Fallback: t.Fallback}
		if t.Name == e.Name {
			// The implementation whose own name it is comes first.
			n.Parts = append([]Part{part}, n.Parts...)
		} else {
			n.Parts = append(n.Parts, part)
		}
		names[t.Name] = n
	}
	registry[e.Name] = e
}

// Lookup returns the implementation registered under name.
func Lookup(name string) (*Exports, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	e, ok := registry[name]
	return e, ok
}

// LookupName returns what loadmodule loads under name: the tables of one
// or more implementations.
func LookupName(name string) (*Name, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	n, ok := names[name]
	return n, ok
}

// Names lists the loadmodule names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Aliases maps loadmodule base names that differ from the module name
// (SER's maxfwd lives in mf.so in some distributions, the MySQL driver
// module is a no-op here because the store picks the driver from db_url;
// SER 0.9.6's etc/im_gw.cfg loads tm from tm_mod.so, and its modparams
// still say "tm", the name the module gives itself).
var Aliases = map[string]string{
	"mf":     "maxfwd",
	"tm_mod": "tm",
}

// BaseName turns a loadmodule path into a module name:
// "/usr/local/lib/ser/modules/tm.so" → "tm".
func BaseName(path string) string {
	if i := strings.LastIndexAny(path, "/\\"); i >= 0 {
		path = path[i+1:]
	}
	path = strings.TrimSuffix(path, ".so")
	if a, ok := Aliases[path]; ok {
		return a
	}
	return path
}

// Initialize runs the module's Init on inst and then registers its
// Commands in env.RPC (when env has a registry): what the loader does for
// each module, dependencies first.
func (e *Exports) Initialize(inst any, env *Env) error {
	if e.Init != nil {
		if err := e.Init(inst, env); err != nil {
			return err
		}
	}
	if e.Commands == nil || env == nil || env.RPC == nil {
		return nil
	}
	for _, c := range e.Commands(inst) {
		if err := env.RPC.Register(c); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	return nil
}

// Tables returns the implementation's export tables: its own name's
// first, then Also's.
func (e *Exports) Tables() []Table {
	return append([]Table{{Name: e.Name, Params: e.Params, Funcs: e.Funcs}}, e.Also...)
}

// Table returns the implementation's table for the loadmodule name.
func (e *Exports) Table(name string) (Table, bool) {
	for _, t := range e.Tables() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// FindFunc returns the function called name: from the implementation's
// own table, else from the first of Also's that has it.
func (e *Exports) FindFunc(name string) (*Func, bool) {
	for _, t := range e.Tables() {
		if f, ok := t.FindFunc(name); ok {
			return f, true
		}
	}
	return nil, false
}

// FindParam returns the modparam called name, searched as FindFunc.
func (e *Exports) FindParam(name string) (*Param, bool) {
	for _, t := range e.Tables() {
		if p, ok := t.FindParam(name); ok {
			return p, true
		}
	}
	return nil, false
}

// FindFunc returns the table's function called name.
func (t Table) FindFunc(name string) (*Func, bool) {
	for i := range t.Funcs {
		if t.Funcs[i].Name == name {
			return &t.Funcs[i], true
		}
	}
	return nil, false
}

// FindParam returns the table's modparam called name.
func (t Table) FindParam(name string) (*Param, bool) {
	for i := range t.Params {
		if t.Params[i].Name == name {
			return &t.Params[i], true
		}
	}
	return nil, false
}
