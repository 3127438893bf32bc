package script

import (
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
)

// Two implementations under several names, as SER's auth/auth_db/group
// split: tsplit is loaded as "tsplit" and "tsplit_db"; the old name
// "tlegacy" gathers tables of tsplit and tother.
func init() {
	param := func(name string) module.Param {
		return module.Param{Name: name, Kind: module.Str, Set: func(inst any, v module.Value) error {
			t := inst.(*testInst)
			t.mu.Lock()
			t.params[name] = v
			t.mu.Unlock()
			return nil
		}}
	}
	fn := func(name string) module.Func {
		return module.Func{Name: name, Routes: module.Request, Fixup: func(inst any, _ *module.Env, _ []module.Value) (module.Handler, error) {
			t := inst.(*testInst)
			return func(*sipmsg.Msg) (int, error) { t.add(t.name + "." + name); return 1, nil }, nil
		}}
	}
	dbParam := param("db")
	module.Register(&module.Exports{
		Name:   "tsplit",
		New:    func() any { return &testInst{name: "tsplit", params: map[string]module.Value{}} },
		Params: []module.Param{param("secret")},
		Funcs:  []module.Func{fn("challenge")},
		Also: []module.Table{
			{Name: "tsplit_db", Params: []module.Param{dbParam}, Funcs: []module.Func{fn("authorize")}},
			{Name: "tlegacy", Params: []module.Param{param("secret"), dbParam}, Funcs: []module.Func{fn("challenge"), fn("authorize")}},
		},
	})
	module.Register(&module.Exports{
		Name:   "tother",
		New:    func() any { return &testInst{name: "tother", params: map[string]module.Value{}} },
		Params: []module.Param{dbParam, param("table")},
		Funcs:  []module.Func{fn("member")},
		Also: []module.Table{
			{Name: "tlegacy", Params: []module.Param{dbParam, param("legacy_table")}, Funcs: []module.Func{fn("member")}, Fallback: true},
		},
	})
	// tnewer has member() too: a config loading it gets its member()
	// even with tlegacy loaded first (tlegacy's is a fallback).
	module.Register(&module.Exports{
		Name:  "tnewer",
		New:   func() any { return &testInst{name: "tnewer", params: map[string]module.Value{}} },
		Funcs: []module.Func{fn("member")},
	})
}

func TestFallbackFunctions(t *testing.T) {
	p, ms := build(t, "loadmodule \"tlegacy.so\"\nloadmodule \"tnewer.so\"\nroute { member(); }", nil)
	runAll(t, p)
	if tr := ms.Instance("tnewer").(*testInst).trace; strings.Join(tr, " ") != "tnewer.member" {
		t.Errorf("tnewer trace %q", tr)
	}
	if tr := ms.Instance("tother").(*testInst).trace; len(tr) != 0 {
		t.Errorf("the fallback ran: %q", tr)
	}
}

func runAll(t *testing.T, p *Program) {
	t.Helper()
	if v := p.Run(module.Request, 0, request(t, "INVITE", "sip:a@b")); v < 0 {
		t.Fatalf("script returned %d", v)
	}
}

func TestNamesShareOneInstance(t *testing.T) {
	p, ms := build(t, `loadmodule "tsplit.so"
loadmodule "tsplit_db.so"
modparam("tsplit", "secret", "s")
modparam("tsplit_db", "db", "sqlite:///x")
route { challenge(); authorize(); }`, nil)
	if n := len(ms.Instances()); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
	in := ms.Instance("tsplit").(*testInst)
	if ms.Instance("tsplit_db") != any(in) {
		t.Error("Instance(tsplit_db) is not tsplit's instance")
	}
	if in.params["secret"].S != "s" || in.params["db"].S != "sqlite:///x" {
		t.Errorf("params %v", in.params)
	}
	runAll(t, p)
	if got := strings.Join(in.trace, " "); got != "tsplit.challenge tsplit.authorize" {
		t.Errorf("trace %q", got)
	}
	if got := strings.Join(ms.Names(), " "); got != "tsplit tsplit_db" {
		t.Errorf("Names() = %q", got)
	}
}

func TestNameGathersImplementations(t *testing.T) {
	p, ms := build(t, `loadmodule "tlegacy.so"
modparam("tlegacy", "db", "mysql://u@h/db")
modparam("tlegacy", "legacy_table", "grp")
route { challenge(); authorize(); member(); }`, nil)
	if n := len(ms.Instances()); n != 2 {
		t.Fatalf("%d instances, want 2", n)
	}
	sp, ot := ms.Instance("tsplit").(*testInst), ms.Instance("tother").(*testInst)
	// db is in both tables of the name: both implementations get it.
	if sp.params["db"].S != "mysql://u@h/db" || ot.params["db"].S != "mysql://u@h/db" {
		t.Errorf("db: tsplit %v, tother %v", sp.params, ot.params)
	}
	if ot.params["legacy_table"].S != "grp" {
		t.Errorf("tother params %v", ot.params)
	}
	runAll(t, p)
	if got := strings.Join(append(sp.trace, ot.trace...), " "); got != "tsplit.challenge tsplit.authorize tother.member" {
		t.Errorf("trace %q", got)
	}
}

func TestNameTablesAreWhatTheNameHad(t *testing.T) {
	_, _, errs := buildErrs(t, "loadmodule \"tsplit.so\"\nroute { authorize(); }", nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "unknown command 'authorize'") {
		t.Errorf("authorize without tsplit_db: %v", errs)
	}
	_, got := loadErrs(t, "loadmodule \"tsplit.so\"\nmodparam(\"tsplit\", \"db\", \"x\")")
	if want := "2:20: modparam: module 'tsplit' has no parameter 'db'"; strings.Join(got, "\n") != want {
		t.Errorf("db on tsplit: %q, want %q", got, want)
	}
	// Not loaded under the name the modparam uses, although the
	// implementation is loaded under another.
	_, got = loadErrs(t, "loadmodule \"tlegacy.so\"\nmodparam(\"tother\", \"table\", \"x\")")
	if want := "2:10: modparam: module 'tother' not loaded (missing loadmodule?)"; strings.Join(got, "\n") != want {
		t.Errorf("tother not loaded: %q, want %q", got, want)
	}
	// A regular expression reaches the matching names whose tables
	// have the parameter: the "tsplit" name has no db.
	ms, got := loadErrs(t, "loadmodule \"tsplit.so\"\nloadmodule \"tother.so\"\nmodparam(\"tsplit|tother\", \"db\", \"y\")")
	if len(got) != 0 || ms.Instance("tother").(*testInst).params["db"].S != "y" || ms.Instance("tsplit").(*testInst).params["db"].S != "" {
		t.Errorf("regex modparam: errors %q, tother %v, tsplit %v", got, ms.Instance("tother").(*testInst).params, ms.Instance("tsplit").(*testInst).params)
	}
}

func TestRegisterRefusesAmbiguousNames(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a second 'challenge' in tlegacy was accepted")
		}
	}()
	module.Register(&module.Exports{
		Name: "tdupname", New: func() any { return &testInst{} },
		Also: []module.Table{{Name: "tlegacy", Funcs: []module.Func{{Name: "challenge", Routes: module.Request,
			Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) { return nil, nil }}}}},
	})
}
