package script

import (
	"strings"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/rpc"
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

// TestAuth08InReplyRoute: SER 0.8 had no per-block rules, so its auth's
// group and URI checks compile in a reply_route; SER 0.9's group does
// not allow is_user_in in an onreply_route.
func TestAuth08InReplyRoute(t *testing.T) {
	src := `loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/auth/auth.so"
route { t_on_negative("1"); t_relay(); }
reply_route[1] {
	if (is_user_in("Request-URI", "free-pstn") && check_to()) {
		append_branch("sip:free@example.com");
	};
}`
	compile := func(src string) cfg.ErrorList {
		f, errs := cfg.Parse("t.cfg", []byte(src))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		ms, errs := module.Load(f)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		defer ms.Stop()
		core, reg := newFakeCore(), rpc.NewRegistry()
		newEnv := func(name string) *module.Env {
			return &module.Env{Log: quietLog.With("module", name), Core: core, RPC: reg}
		}
		if err := ms.Init(newEnv); err != nil {
			t.Fatal(err)
		}
		_, errs = Compile(f, ms, core, newEnv)
		return errs
	}
	if errs := compile(src); len(errs) > 0 {
		t.Errorf("0.8 config: %v", errs)
	}
	// SER 0.9: group's is_user_in is for route and failure_route, not
	// onreply_route.
	src09 := `loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/group/group.so"
route { t_on_reply("1"); t_relay(); }
onreply_route[1] { if (is_user_in("From", "x")) { log("x"); }; }`
	if errs := compile(src09); len(errs) != 1 || !strings.Contains(errs[0].Error(), "is_user_in") {
		t.Errorf("0.9 is_user_in in onreply_route: %v", errs)
	}
}
