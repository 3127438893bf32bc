package domain

import "ser/core/module"

func init() { module.Register(Exports) }

func setColumn(m *Module, s string) { m.cfg.Column = s }

// Exports is the domain module's export table (SER 0.9's: both functions
// in route blocks only; domain_column is accepted beside SER's
// domain_col).
var Exports = &module.Exports{
	Name: "domain",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.SetOf(setDBURL)},
		{Name: "db_mode", Kind: module.Int, Set: module.IntParam(setDBMode)},
		{Name: "domain_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.cfg.Table = s })},
		{Name: "domain_col", Kind: module.Str, Set: module.IdentParam("column", setColumn)},
		{Name: "domain_column", Kind: module.Str, Set: module.IdentParam("column", setColumn)},
	},
	Funcs: []module.Func{
		{Name: "is_from_local", Routes: module.Request, Fixup: module.FixupOf(fixupIsFromLocal)},
		{Name: "is_uri_host_local", Routes: module.Request, Fixup: module.FixupOf(fixupIsURIHostLocal)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*Module).commands),
}
