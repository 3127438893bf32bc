package avpops

import "ser/core/module"

func init() { module.Register(Exports) }

func column(set func(c *Config, s string)) func(any, module.Value) error {
	return module.IdentParam("column", func(m *Module, s string) { set(&m.cfg, s) })
}

// Exports is SER 0.9's avpops module (the voice-system module SER 0.9
// configs load, also OpenSER 1.0's): AVPs from and to the database, the
// message and each other. Its functions may be used in every route block
// (SER 0.9 allowed request and failure routes; later versions, like ser,
// onreply routes too, where the AVPs are the transaction's). Loaded as
// "avp" it is SER 0.9-era iptel "avp" module (avp.go).
var Exports = &module.Exports{
	Name: "avpops",
	Params: []module.Param{
		{Name: "avp_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })},
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })},
		{Name: "avp_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.cfg.Table = s })},
		{Name: "avp_aliases", Kind: module.Str, Set: module.SetOf(setAliases)},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseDomain = on })},
		{Name: "uuid_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.UUIDColumn = s })},
		{Name: "username_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.UsernameColumn = s })},
		{Name: "domain_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.DomainColumn = s })},
		{Name: "attribute_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.AttributeColumn = s })},
		{Name: "value_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.ValueColumn = s })},
		{Name: "type_column", Kind: module.Str, Set: column(func(c *Config, s string) { c.TypeColumn = s })},
		{Name: "db_scheme", Kind: module.Str, Set: module.SetOf(setScheme)},
	},
	Funcs: []module.Func{
		{Name: "avp_db_load", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupDB(opLoad))},
		{Name: "avp_db_store", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupDB(opStore))},
		{Name: "avp_db_delete", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupDB(opDelete))},
		{Name: "avp_write", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupWrite)},
		{Name: "avp_delete", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupDelete)},
		{Name: "avp_pushto", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupPushTo)},
		{Name: "avp_check", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupCheck)},
		{Name: "avp_copy", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupCopy)},
		{Name: "is_avp_set", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupIsSet)},
		{Name: "avp_print", Routes: module.Any, Fixup: module.FixupOf(fixupPrint)},
	},
	Also:  []module.Table{avpTable},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Start: module.StartOf((*Module).Start),
}
