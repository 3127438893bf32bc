package lcr

import "ser/core/module"

func init() { module.Register(Exports) }

const reqFail = module.Request | module.Failure

// Exports is the lcr module's export table.
var Exports = &module.Exports{
	Name: "lcr",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.SetOf(setDBURL)},
		{Name: "gw_table", Kind: module.Str, Set: module.FixedParam("gw_table", "gw")},
		{Name: "gw_name_column", Kind: module.Str, Set: module.FixedParam("gw_name_column", "gw_name")},
		{Name: "ip_addr_column", Kind: module.Str, Set: module.FixedParam("ip_addr_column", "ip_addr")},
		{Name: "port_column", Kind: module.Str, Set: module.FixedParam("port_column", "port")},
		{Name: "uri_scheme_column", Kind: module.Str, Set: module.FixedParam("uri_scheme_column", "uri_scheme")},
		{Name: "transport_column", Kind: module.Str, Set: module.FixedParam("transport_column", "transport")},
		{Name: "grp_id_column", Kind: module.Str, Set: module.FixedParam("grp_id_column", "grp_id")},
		{Name: "lcr_table", Kind: module.Str, Set: module.FixedParam("lcr_table", "lcr")},
		{Name: "prefix_column", Kind: module.Str, Set: module.FixedParam("prefix_column", "prefix")},
		{Name: "from_uri_column", Kind: module.Str, Set: module.FixedParam("from_uri_column", "from_uri")},
		{Name: "priority_column", Kind: module.Str, Set: module.FixedParam("priority_column", "priority")},
	},
	Funcs: []module.Func{
		{Name: "load_gws", MinArgs: 0, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupLoadGWs)},
		{Name: "next_gw", MinArgs: 0, MaxArgs: 0, Routes: reqFail, Fixup: module.FixupOf(fixupNextGW)},
		{Name: "from_gw", MinArgs: 0, MaxArgs: 0, Routes: reqFail, Fixup: module.FixupOf(fixupFromGW)},
		{Name: "to_gw", MinArgs: 0, MaxArgs: 0, Routes: reqFail, Fixup: module.FixupOf(fixupToGW)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Deps:     []string{"tm"},
	Commands: module.CommandsOf((*LCR).commands),
}
