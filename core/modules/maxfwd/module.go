package maxfwd

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the maxfwd module's export table.
var Exports = &module.Exports{
	Name: "maxfwd",
	Params: []module.Param{
		{Name: "max_limit", Kind: module.Int, Set: module.SetOf(setMaxLimit)},
	},
	Funcs: []module.Func{
		{Name: "mf_process_maxfwd_header", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupProcess)},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}
