package rr

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the rr module's export table.
var Exports = &module.Exports{
	Name: "rr",
	Params: []module.Param{
		{Name: "enable_full_lr", Kind: module.Int, Set: module.SetOf(setFullLR)},
		{Name: "append_fromtag", Kind: module.Int, Set: module.SetOf(setAppendFromTag)},
		{Name: "enable_double_rr", Kind: module.Int, Set: module.SetOf(setDoubleRR)},
		{Name: "add_username", Kind: module.Int, Set: module.SetOf(setAddUsername)},
	},
	Funcs: []module.Func{
		{Name: "record_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupRecordRoute)},
		{Name: "addRecordRoute", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupRecordRoute)},
		{Name: "record_route_preset", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupRecordRoutePreset)},
		{Name: "loose_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupLooseRoute)},
		{Name: "rewriteFromRoute", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupStrictRoute},
		{Name: "strict_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupStrictRoute},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}
