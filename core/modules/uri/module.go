package uri

import "ser/core/module"

func init() { module.Register(Exports) }

func ident(what string, set func(c *Config, s string)) func(any, module.Value) error {
	return module.IdentParam(what, func(m *Module, s string) { set(&m.cfg, s) })
}

// Exports is the uri implementation, loaded under three names:
//
//   - "uri": SER 0.9's uri module (no parameters);
//   - "uri_db": SER 0.9's uri_db module;
//   - "auth": what SER 0.8's auth module had of it (check_to, check_from
//     and is_user on the whole digest username).
var Exports = &module.Exports{
	Name: "uri",
	Funcs: []module.Func{
		{Name: "is_user", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupIsUser(false)},
		{Name: "has_totag", Routes: module.Request, Fixup: fixupHasToTag},
		{Name: "uri_param", MinArgs: 1, MaxArgs: 2, Routes: module.Request, Fixup: fixupURIParam},
		{Name: "add_uri_param", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupAddURIParam)},
		{Name: "tel2sip", Routes: module.Request, Fixup: module.FixupOf(fixupTel2SIP)},
	},
	Also: []module.Table{
		{
			Name: "uri_db",
			Params: []module.Param{
				{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })},
				{Name: "uri_table", Kind: module.Str, Set: ident("table", func(c *Config, s string) { c.URITable = s })},
				{Name: "uri_user_column", Kind: module.Str, Set: ident("column", func(c *Config, s string) { c.URIUserColumn = s })},
				{Name: "uri_domain_column", Kind: module.Str, Set: ident("column", func(c *Config, s string) { c.URIDomainColumn = s })},
				{Name: "uri_uriuser_column", Kind: module.Str, Set: ident("column", func(c *Config, s string) { c.URIURIUserColumn = s })},
				{Name: "subscriber_table", Kind: module.Str, Set: ident("table", func(c *Config, s string) { c.SubscriberTable = s })},
				{Name: "subscriber_user_column", Kind: module.Str, Set: ident("column", func(c *Config, s string) { c.SubscriberUserColumn = s })},
				{Name: "subscriber_domain_column", Kind: module.Str, Set: ident("column", func(c *Config, s string) { c.SubscriberDomainColumn = s })},
				{Name: "use_uri_table", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseURITable = on })},
				{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseDomain = on })},
			},
			Funcs: []module.Func{
				{Name: "check_to", Routes: module.Request, Fixup: fixupCheck(true, false)},
				{Name: "check_from", Routes: module.Request, Fixup: fixupCheck(false, false)},
				{Name: "does_uri_exist", Routes: module.Request, Fixup: module.FixupOf(fixupDoesURIExist)},
			},
		},
		{
			Name:     "auth",
			Fallback: true,
			// SER 0.8 had no per-block rules: reply_route too.
			Funcs: []module.Func{
				{Name: "check_to", Routes: module.Request | module.Failure, Fixup: fixupCheck(true, true)},
				{Name: "check_from", Routes: module.Request | module.Failure, Fixup: fixupCheck(false, true)},
				{Name: "is_user", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: fixupIsUser(true)},
			},
		},
	},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Start: module.StartOf((*Module).Start),
}
