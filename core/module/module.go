// Package module defines what a SER module exports — script functions,
// modparams, an init hook — and the registry that maps a loadmodule
// directive's base name ("tm" from "/usr/lib/ser/modules/tm.so") to a
// built-in module.
//
// A module registers itself once, from init:
//
//	func init() { module.Register(Exports) }
//
// Each running server makes its own instance of every module it loads (New),
// applies modparams to it (Param.Set), initialises it (Init) and then binds
// the script's calls to handlers (Func.Fixup). Everything a call needs is
// converted at that point; nothing is re-parsed per packet.
package module

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	// It may register FIFO commands (env.RPC) and look up other modules.
	Init func(inst any, env *Env) error
	// Deps names modules this one needs loaded (and initialised) first.
	Deps []string
}

// Starter is implemented by instances with background work (timers).
type Starter interface {
	Start(ctx context.Context) error
}

// Stopper is implemented by instances that must release resources or flush
// state at shutdown.
type Stopper interface {
	Stop()
}

var (
	regMu    sync.RWMutex
	registry = map[string]*Exports{}
)

// Register makes a module available to loadmodule. It panics on a duplicate
// name or a malformed export table, as database/sql.Register does.
func Register(e *Exports) {
	regMu.Lock()
	defer regMu.Unlock()
	if e == nil || e.Name == "" || e.New == nil {
		panic("module: Register of an incomplete export table")
	}
	if _, dup := registry[e.Name]; dup {
		panic("module: Register called twice for " + e.Name)
	}
	seen := map[string]bool{}
	for _, f := range e.Funcs {
		if seen[f.Name] || f.Fixup == nil || f.Routes == 0 || f.MaxArgs < f.MinArgs {
			panic("module: " + e.Name + ": bad or duplicate function " + f.Name)
		}
		seen[f.Name] = true
	}
	registry[e.Name] = e
}

// Lookup returns the module registered under name.
func Lookup(name string) (*Exports, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	e, ok := registry[name]
	return e, ok
}

// Names lists the registered modules, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Aliases maps loadmodule base names that differ from the module name
// (SER's maxfwd lives in mf.so in some distributions, the MySQL driver
// module is a no-op here because the store picks the driver from db_url).
var Aliases = map[string]string{
	"mf": "maxfwd",
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

// FindFunc returns the exported function called name.
func (e *Exports) FindFunc(name string) (*Func, bool) {
	for i := range e.Funcs {
		if e.Funcs[i].Name == name {
			return &e.Funcs[i], true
		}
	}
	return nil, false
}

// FindParam returns the modparam called name.
func (e *Exports) FindParam(name string) (*Param, bool) {
	for i := range e.Params {
		if e.Params[i].Name == name {
			return &e.Params[i], true
		}
	}
	return nil, false
}
