package group

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the group module's export table.
var Exports = &module.Exports{
	Name: "group",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: setDBURL},
		{Name: "table", Kind: module.Str, Set: module.IdentParam("table or column", func(m *Module, s string) { m.cfg.Table = s })},
		{Name: "user_column", Kind: module.Str, Set: module.IdentParam("table or column", func(m *Module, s string) { m.cfg.UserColumn = s })},
		{Name: "domain_column", Kind: module.Str, Set: module.IdentParam("table or column", func(m *Module, s string) { m.cfg.DomainColumn = s })},
		{Name: "group_column", Kind: module.Str, Set: module.IdentParam("table or column", func(m *Module, s string) { m.cfg.GroupColumn = s })},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseDomain = on })},
	},
	Funcs: []module.Func{
		{Name: "is_user_in", MinArgs: 2, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: fixupIsUserIn},
		{Name: "is_in_group", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupIsInGroup},
	},
	New:  func() any { return New() },
	Init: initModule,
}
