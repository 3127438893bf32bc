package script

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/rpc"
)

// knownInitFailures are scripts whose modules refuse their parameters for
// a reason outside the script language, with the expected error text.
var knownInitFailures = map[string]string{
	"aliases.cfg": "db_mode 1 needs a database", // usrloc persistence
}

// TestTestdataScripts loads, initialises and compiles every sample script
// (the Hello World script and the admin guide's examples) against the real
// modules where they exist and stand-ins for the others.
func TestTestdataScripts(t *testing.T) {
	var stand []string
	for n := range standInLoaded {
		stand = append(stand, n)
	}
	sort.Strings(stand)
	t.Logf("stand-in modules: %s", strings.Join(stand, " "))

	files, _ := filepath.Glob("../../testdata/cfg/*.cfg")
	if len(files) < 20 {
		t.Fatalf("only %d sample scripts", len(files))
	}
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			f, errs := cfg.ParseFile(path)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			ms, errs := module.Load(f)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			defer ms.Stop()
			core := newFakeCore()
			reg := rpc.NewRegistry()
			newEnv := func(name string) *module.Env {
				return &module.Env{Log: quietLog.With("module", name), Core: core, RPC: reg}
			}
			if err := ms.Init(newEnv); err != nil {
				if want, ok := knownInitFailures[base]; ok && strings.Contains(err.Error(), want) {
					t.Skipf("known: %v", err)
				}
				t.Fatalf("init: %v", err)
			}
			p, errs := Compile(f, ms, core, newEnv)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if !p.HasRoute(module.Request, 0) {
				t.Error("no route[0]")
			}
		})
	}
}
