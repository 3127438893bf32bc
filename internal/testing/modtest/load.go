package modtest

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"ser/core/module"
	"ser/core/rpc"
)

// Str is a quoted string argument or modparam value.
func Str(s string) module.Value { return module.Value{S: s, Quoted: true} }

// Int is a number argument or modparam value.
func Int(n int) module.Value { return module.Value{N: n, IsInt: true} }

// Values converts Go values to config literals: int → Int, string → Str,
// module.Value as is. It panics on other types (a test bug).
func Values(args ...any) []module.Value {
	vs := make([]module.Value, 0, len(args))
	for _, a := range args {
		switch v := a.(type) {
		case int:
			vs = append(vs, Int(v))
		case string:
			vs = append(vs, Str(v))
		case module.Value:
			vs = append(vs, v)
		default:
			panic(fmt.Sprintf("modtest: unsupported argument type %T", a))
		}
	}
	return vs
}

// Env returns a module environment over core with a fresh command
// registry and a logger writing to the test log. Instances maps module
// names for env.Instance.
func Env(tb testing.TB, core *Core, instances map[string]any) *module.Env {
	return &module.Env{
		Log:  slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RPC:  rpc.NewRegistry(),
		Core: core,
		Instance: func(name string) any {
			return instances[name]
		},
	}
}

// DiscardEnv is Env with logging discarded (benchmarks, fuzzing).
func DiscardEnv(core *Core) *module.Env {
	return &module.Env{
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		RPC:      rpc.NewRegistry(),
		Core:     core,
		Instance: func(string) any { return nil },
	}
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(string(p))
	return len(p), nil
}

// Load makes an instance of the module, applies params (modparam name →
// value, see Values for the Go types accepted) and initialises it as the
// loader does (Init, then the table's commands in env.RPC); the test fails
// on any error.
func Load(tb testing.TB, e *module.Exports, core *Core, params map[string]any) (any, *module.Env) {
	tb.Helper()
	env := Env(tb, core, nil)
	inst, err := LoadEnv(e, env, params)
	if err != nil {
		tb.Fatalf("modtest: %v", err)
	}
	return inst, env
}

// LoadEnv is Load over a given environment, returning the error.
func LoadEnv(e *module.Exports, env *module.Env, params map[string]any) (any, error) {
	inst := e.New()
	for name, v := range params {
		p, ok := e.FindParam(name)
		if !ok {
			return nil, fmt.Errorf("%s: unknown modparam %q", e.Name, name)
		}
		if err := p.Set(inst, Values(v)[0]); err != nil {
			return nil, fmt.Errorf("%s: modparam %q: %w", e.Name, name, err)
		}
	}
	if err := e.Initialize(inst, env); err != nil {
		return nil, fmt.Errorf("%s: init: %w", e.Name, err)
	}
	return inst, nil
}

// Bind binds a script call fname(args…) as the interpreter does (arity
// check, then Fixup); the test fails on error.
func Bind(tb testing.TB, e *module.Exports, inst any, env *module.Env, fname string, args ...any) module.Handler {
	tb.Helper()
	h, err := BindErr(e, inst, env, fname, args...)
	if err != nil {
		tb.Fatalf("modtest: %v", err)
	}
	return h
}

// BindErr is Bind returning the error (for load-time validation tests).
func BindErr(e *module.Exports, inst any, env *module.Env, fname string, args ...any) (module.Handler, error) {
	f, ok := e.FindFunc(fname)
	if !ok {
		return nil, fmt.Errorf("%s: unknown function %s", e.Name, fname)
	}
	if len(args) < f.MinArgs || len(args) > f.MaxArgs {
		return nil, fmt.Errorf("%s: %s takes %d..%d arguments, got %d", e.Name, fname, f.MinArgs, f.MaxArgs, len(args))
	}
	return f.Fixup(inst, env, Values(args...))
}
