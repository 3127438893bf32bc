package group

import "ser/core/module"

func init() { module.Register(Exports) }

var pDBURL = module.Param{Name: "db_url", Kind: module.Str, Set: module.SetOf(setDBURL)}

// Exports is the group implementation, loaded under two names:
//
//   - "group": SER 0.9's group module (is_user_in and the group table's
//     parameters);
//   - "auth": what SER 0.8's auth module had of it (is_in_group,
//     is_user_in, and the group table's parameters under their 0.8
//     names; auth's db_url serves both, as 0.8's one connection did).
//     The credentials are then the whole digest username, without a
//     domain (0.8's rule).
var Exports = &module.Exports{
	Name: "group",
	Params: []module.Param{
		pDBURL,
		{Name: "table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.cfg.Table = s })},
		{Name: "user_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.UserColumn = s })},
		{Name: "domain_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.DomainColumn = s })},
		{Name: "group_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.GroupColumn = s })},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseDomain = on })},
	},
	Funcs: []module.Func{
		{Name: "is_user_in", MinArgs: 2, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: fixupIsUserIn(false)},
	},
	Also: []module.Table{{
		Name:     "auth",
		Fallback: true,
		Params: []module.Param{
			pDBURL,
			{Name: "group_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.cfg.Table = s })},
			{Name: "group_user_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.UserColumn = s })},
			{Name: "group_group_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.GroupColumn = s })},
		},
		// SER 0.8 had no per-block rules: reply_route too.
		Funcs: []module.Func{
			{Name: "is_user_in", MinArgs: 2, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: fixupIsUserIn(true)},
			{Name: "is_in_group", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupIsInGroup)},
		},
	}},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Start: module.StartOf((*Module).Start),
}
