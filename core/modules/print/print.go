// Package print is SER's example module: print(txt) writes its argument
// and a newline to the server's standard output (SER 0.9's only function),
// with the later SER line's variants print(), print(a, b), print1, print2,
// print3 and printv. Configs of the distribution (examples/msilo.cfg,
// etc/im_gw.cfg) load it; it is useful to trace a script in the
// foreground (-D/-E), where standard output is the terminal.
package print

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"ser/core/module"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

// MaxVarArgs bounds printv's arguments (SER's VAR_PARAM_NO).
const MaxVarArgs = 32

// Exports is the print module's export table: SER 0.9's print(txt) and
// the functions and parameters of the later SER line's print module.
var Exports = &module.Exports{
	Name: "print",
	Params: []module.Param{
		{Name: "str_param", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.strParam = s })},
		{Name: "string_param", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.stringParam = s })},
		{Name: "int_param", Kind: module.Int, Set: module.IntParam(func(m *Module, n int) error { m.intParam = n; return nil })},
	},
	Funcs: []module.Func{
		{Name: "print", MinArgs: 0, MaxArgs: 2, Routes: module.Request, Fixup: fixup("<null>\n")},
		{Name: "print1", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixup("")},
		{Name: "print2", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixup("")},
		{Name: "print3", MinArgs: 3, MaxArgs: 3, Routes: module.Request, Fixup: fixup("")},
		{Name: "printv", MinArgs: 0, MaxArgs: MaxVarArgs, Routes: module.Request, Fixup: fixup("\n")},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}

// Module is one server's print instance.
type Module struct {
	strParam, stringParam string
	intParam              int

	mu  sync.Mutex
	out io.Writer
}

// New returns an instance writing to os.Stdout.
func New() *Module { return &Module{out: os.Stdout} }

// SetOutput replaces the writer the functions print to (tests).
func (m *Module) SetOutput(w io.Writer) {
	m.mu.Lock()
	m.out = w
	m.mu.Unlock()
}

func initModule(m *Module, env *module.Env) error {
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	// SER's print module reports its (example) parameters at start-up.
	log.Debug("print: example module parameters", "string_param", m.stringParam,
		"str_param", m.strParam, "int_param", m.intParam)
	return nil
}

// fixup joins the arguments once, followed by a newline; without
// arguments the function prints none (SER's print() prints "<null>",
// printv() an empty line).
func fixup(none string) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
		line := none
		if len(args) > 0 {
			var b strings.Builder
			for _, a := range args {
				b.WriteString(a.String())
			}
			b.WriteByte('\n')
			line = b.String()
		}
		return func(*sipmsg.Msg) (int, error) {
			m.Print(line)
			return 1, nil
		}, nil
	})
}

// Print writes line to the module's output in one write, so lines of
// concurrent workers do not interleave.
func (m *Module) Print(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = io.WriteString(m.out, line)
}
