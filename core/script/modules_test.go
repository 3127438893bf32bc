package script

import (
	"context"
	"strings"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
)

func loadErrs(t *testing.T, src string) (*module.Modules, []string) {
	t.Helper()
	f, errs := cfg.Parse("t.cfg", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ms, errs := module.Load(f)
	var got []string
	for _, e := range errs {
		got = append(got, strings.TrimPrefix(e.Error(), "t.cfg:"))
	}
	return ms, got
}

func TestLoadModulesErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"ok", testHead + `modparam("ttest", "p_int", 5)`, nil},
		{"unknown module", "loadmodule \"/usr/lib/ser/modules/nosuch.so\"", []string{`1:12: loadmodule: unknown module 'nosuch' (from "/usr/lib/ser/modules/nosuch.so")`}},
		{"modparam for module not loaded", `modparam("tlate", "x", 1)`, []string{"1:10: modparam: module 'tlate' not loaded (missing loadmodule?)"}},
		{"modparam for unknown module", `modparam("zzz", "x", 1)`, []string{"1:10: modparam: module 'zzz' not loaded"}},
		{"unknown parameter", testHead + `modparam("ttest", "nope", 1)`, []string{"3:19: modparam: module 'ttest' has no parameter 'nope'"}},
		{"integer expected", testHead + `modparam("ttest", "p_int", "abc")`, []string{`3:28: modparam: ttest: p_int: integer expected, got "abc"`}},
		{"value refused", testHead + `modparam("ttest", "p_int", -1)`, []string{"3:28: modparam: ttest: p_int: must not be negative"}},
		{"regex without match", testHead + `modparam("tx|ty", "p_int", 1)`, []string{"3:10: modparam: no loaded module matching 'tx|ty' has a parameter 'p_int'"}},
		{"bad regex", testHead + `modparam("t(", "p_int", 1)`, []string{"3:10: modparam: bad module name pattern \"t(\": error parsing regexp: missing closing ): `^(t()$`"}},
		{"all errors", "loadmodule \"a.so\"\nloadmodule \"b.so\"\nmodparam(\"a\", \"x\", 1)", []string{
			`1:12: loadmodule: unknown module 'a' (from "a.so")`,
			`2:12: loadmodule: unknown module 'b' (from "b.so")`,
			`3:10: modparam: module 'a' not loaded`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadErrs(t, tt.src)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestModParamValues(t *testing.T) {
	tests := []struct {
		param, value string
		want         module.Value
	}{
		{"p_int", `10`, module.Value{N: 10, IsInt: true, S: "10"}},
		{"p_int", `"10"`, module.Value{N: 10, IsInt: true, S: "10"}},
		{"p_int", `yes`, module.Value{N: 1, IsInt: true, S: "1"}},
		{"p_int", `off`, module.Value{N: 0, IsInt: true, S: "0"}},
		{"p_int", `0x10`, module.Value{N: 16, IsInt: true, S: "16"}},
		{"p_str", `"sql://ser:secret@dbhost/ser"`, module.Value{S: "sql://ser:secret@dbhost/ser", Quoted: true}},
		{"p_str", `5`, module.Value{S: "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.param+"="+tt.value, func(t *testing.T) {
			ms, errs := loadErrs(t, testHead+`modparam("ttest", "`+tt.param+`", `+tt.value+`)`)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := ms.Instance("ttest").(*testInst).params[tt.param]; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// A pattern applies to every loaded module that has the parameter.
	ms, errs := loadErrs(t, testHead+`modparam("t.*", "p_str", "x")`)
	if len(errs) > 0 || ms.Instance("ttest").(*testInst).params["p_str"].S != "x" {
		t.Errorf("pattern modparam: %v %+v", errs, ms.Instance("ttest"))
	}
}

func TestModulesLifecycle(t *testing.T) {
	takeLife()
	// ttest is loaded first but depends on tdep; a second loadmodule of
	// tdep is ignored.
	ms, errs := loadErrs(t, "loadmodule \"ttest.so\"\nloadmodule \"modules/tdep/tdep.so\"\nloadmodule \"tlate.so\"\nloadmodule \"tdep.so\"")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := strings.Join(ms.Names(), " "); got != "ttest tdep tlate" {
		t.Errorf("names %q", got)
	}
	if ms.Instance("tdep") == nil || ms.Instance("nosuch") != nil {
		t.Error("Instance")
	}
	var seen []string
	if err := ms.Init(func(name string) *module.Env {
		seen = append(seen, name)
		return &module.Env{Log: quietLog}
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, " "); got != "tdep ttest tlate" {
		t.Errorf("envs made for %q", got)
	}
	if err := ms.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ms.Stop()
	ms.Stop()
	want := "init tdep|init ttest|start tdep|start tlate|stop tlate|stop tdep"
	if got := strings.Join(takeLife(), "|"); got != want {
		t.Errorf("lifecycle %q, want %q", got, want)
	}
}

func TestModulesStartFailure(t *testing.T) {
	takeLife()
	ms, _ := loadErrs(t, "loadmodule \"tdep.so\"\nloadmodule \"tfailstart.so\"\nloadmodule \"tlate.so\"")
	if err := ms.Init(nil); err != nil {
		t.Fatal(err)
	}
	err := ms.Start(context.Background())
	if err == nil || err.Error() != "start module 'tfailstart': cannot start" {
		t.Fatalf("Start: %v", err)
	}
	ms.Stop()
	want := "init tdep|start tdep|stop tdep|stop tlate|stop tfailstart"
	if got := strings.Join(takeLife(), "|"); got != want {
		t.Errorf("lifecycle %q, want %q", got, want)
	}
}

func TestModulesInitErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"missing dependency", "\nloadmodule \"tneeds.so\"", "module 'tneeds' (loaded at t.cfg:2:1) needs module 'tdep': add loadmodule \"tdep.so\""},
		{"cycle", "loadmodule \"tcycle1.so\"\nloadmodule \"tcycle2.so\"", "module dependency cycle: tcycle1 → tcycle2 → tcycle1"},
		{"init fails", "loadmodule \"tinitfail.so\"", "init module 'tinitfail': no database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, errs := loadErrs(t, tt.src)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			err := ms.Init(nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Init: %v, want %s", err, tt.want)
			}
		})
	}
}

// TestCompileWithoutInit: Compile makes environments itself when Init was
// not called, and accepts a nil module set.
func TestCompileWithoutInit(t *testing.T) {
	f, errs := cfg.Parse("t.cfg", []byte(testHead+`route { rec("x"); }`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ms, errs := module.Load(f)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p, errs := Compile(f, ms, newFakeCore(), nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p.Run(module.Request, 0, request(t, "OPTIONS", "sip:x@y"))
	if got := strings.Join(trace(ms), " "); got != "x" {
		t.Errorf("trace %q", got)
	}
	f, _ = cfg.Parse("t.cfg", []byte(`route { log("x"); }`))
	if _, errs := Compile(f, nil, newFakeCore(), nil); len(errs) > 0 {
		t.Fatal(errs)
	}
}

// TestCompileNilCore: a script compiles without a core (a checker run,
// serctl-style); nothing is called at load time.
func TestCompileNilCore(t *testing.T) {
	f, errs := cfg.Parse("t.cfg", []byte(`route { forward(1.2.3.4); send(1.2.3.4); log("x"); if (uri==myself && src_ip==myself) break; }`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, errs := Compile(f, nil, nil, nil); len(errs) > 0 {
		t.Fatal(errs)
	}
}
