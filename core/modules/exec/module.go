package exec

import "ser/core/module"

func init() { module.Register(Exports) }

const reqFail = module.Request | module.Failure

// Exports is the exec module's export table.
var Exports = &module.Exports{
	Name: "exec",
	Params: []module.Param{
		{Name: "time_to_kill", Kind: module.Int, Set: module.SetOf(setTimeToKill)},
		{Name: "setvars", Kind: module.Int, Set: module.SetOf(setSetvars)},
	},
	Funcs: []module.Func{
		{Name: "exec_msg", MinArgs: 1, MaxArgs: 1, Routes: reqFail, Fixup: module.FixupOf(fixupMsg)},
		{Name: "exec_uri", MinArgs: 1, MaxArgs: 1, Routes: reqFail, Fixup: fixupDset(paramURI)},
		{Name: "exec_dset", MinArgs: 1, MaxArgs: 1, Routes: reqFail, Fixup: fixupDset(paramURI)},
		{Name: "exec_user", MinArgs: 1, MaxArgs: 1, Routes: reqFail, Fixup: fixupDset(paramUser)},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}
