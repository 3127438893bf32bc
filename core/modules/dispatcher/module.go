package dispatcher

import "ser/core/module"

func init() { module.Register(Exports) }

const reqFail = module.Request | module.Failure

// Exports is the dispatcher module's export table (Kamailio's dispatcher:
// function and parameter names as there).
var Exports = &module.Exports{
	Name: "dispatcher",
	Params: []module.Param{
		{Name: "list_file", Kind: module.Str, Set: module.SetOf(setListFile)},
		{Name: "db_url", Kind: module.Str, Set: module.SetOf(setDBURL)},
		{Name: "table_name", Kind: module.Str, Set: module.IdentParam("table", func(d *Dispatcher, s string) { d.tableName = s })},
		{Name: "setid_col", Kind: module.Str, Set: module.FixedParam("setid_col", "setid")},
		{Name: "destination_col", Kind: module.Str, Set: module.FixedParam("destination_col", "destination")},
		{Name: "flags_col", Kind: module.Str, Set: module.FixedParam("flags_col", "flags")},
		{Name: "priority_col", Kind: module.Str, Set: module.FixedParam("priority_col", "priority")},
		{Name: "flags", Kind: module.Int, Set: module.SetOf(setFlags)},
		{Name: "use_default", Kind: module.Int, Set: module.BoolParam(func(d *Dispatcher, on bool) { d.useDefault = on })},
		{Name: "force_dst", Kind: module.Int, Set: module.BoolParam(func(d *Dispatcher, on bool) { d.forceDst = on })},
		{Name: "ds_ping_method", Kind: module.Str, Set: module.SetOf(setPingMethod)},
		{Name: "ds_ping_from", Kind: module.Str, Set: module.SetOf(setPingFrom)},
		{Name: "ds_ping_interval", Kind: module.Int, Set: module.SetOf(setPingInterval)},
		{Name: "ds_probing_threshold", Kind: module.Int, Set: module.SetOf(setThreshold)},
		{Name: "ds_probing_mode", Kind: module.Int, Set: module.SetOf(setProbingMode)},
	},
	Funcs: []module.Func{
		{Name: "ds_select_dst", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupSelect("ds_select_dst", false)},
		{Name: "ds_select_domain", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupSelect("ds_select_domain", true)},
		{Name: "ds_next_dst", MinArgs: 0, MaxArgs: 0, Routes: reqFail, Fixup: fixupNext("ds_next_dst", false)},
		{Name: "ds_next_domain", MinArgs: 0, MaxArgs: 0, Routes: reqFail, Fixup: fixupNext("ds_next_domain", true)},
		{Name: "ds_mark_dst", MinArgs: 0, MaxArgs: 1, Routes: reqFail, Fixup: module.FixupOf(fixupMark)},
		{Name: "ds_is_from_list", MinArgs: 0, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupIsFromList)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Deps:     []string{"tm"},
	Commands: module.CommandsOf((*Dispatcher).commands),
	Start:    module.StartOf((*Dispatcher).Start),
	Stop:     module.StopOf((*Dispatcher).Stop),
}
