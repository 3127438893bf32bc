package registrar

import (
	"fmt"

	"ser/core/module"
)

func init() { module.Register(Exports) }

// Exports is registrar's export table.
var Exports = &module.Exports{
	Name: "registrar",
	Deps: []string{"usrloc"},
	Params: []module.Param{
		{Name: "default_expires", Kind: module.Int, Set: module.SetOf(setDefaultExpires)},
		{Name: "min_expires", Kind: module.Int, Set: module.SetOf(setMinExpires)},
		{Name: "max_expires", Kind: module.Int, Set: module.SetOf(setMaxExpires)},
		{Name: "default_q", Kind: module.Int, Set: module.SetOf(setDefaultQ)},
		{Name: "append_branches", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.appendBranches = on })},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.useDomain = on })},
		{Name: "case_sensitive", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.caseSensitive = on })},
		{Name: "desc_time_order", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.descTimeOrder = on })},
		{Name: "nat_flag", Kind: module.Int, Set: module.SetOf(setNATFlag)},
		{Name: "max_contacts", Kind: module.Int, Set: module.SetOf(setMaxContacts)},
		{Name: "use_path", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.usePath = on })},
		{Name: "path_mode", Kind: module.Int, Set: module.IntParam(func(m *Module, n int) error {
			if n < pathModeOff || n > pathModeStrict {
				return fmt.Errorf("path_mode must be 0, 1 or 2, not %d", n)
			}
			m.pathMode = n
			return nil
		})},
		{Name: "path_use_received", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.pathUseReceived = on })},
	},
	Funcs: []module.Func{
		{Name: "save", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupSave(true)},
		{Name: "save_noreply", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupSave(false)},
		{Name: "lookup", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupLookup)},
		{Name: "registered", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupRegistered)},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}
