package rr

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the rr module's export table.
var Exports = &module.Exports{
	Name: "rr",
	Params: []module.Param{
		{Name: "enable_full_lr", Kind: module.Int, Set: setFullLR},
		{Name: "append_fromtag", Kind: module.Int, Set: setAppendFromTag},
		{Name: "enable_double_rr", Kind: module.Int, Set: setDoubleRR},
		{Name: "add_username", Kind: module.Int, Set: setAddUsername},
	},
	Funcs: []module.Func{
		{Name: "record_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupRecordRoute},
		{Name: "addRecordRoute", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupRecordRoute},
		{Name: "record_route_preset", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupRecordRoutePreset},
		{Name: "loose_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupLooseRoute},
		{Name: "rewriteFromRoute", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupStrictRoute},
		{Name: "strict_route", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupStrictRoute},
	},
	New:  func() any { return New() },
	Init: initModule,
}
