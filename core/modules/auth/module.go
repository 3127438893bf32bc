package auth

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the auth module's export table.
var Exports = &module.Exports{
	Name: "auth",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })},
		{Name: "secret", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Secret = s })},
		{Name: "nonce_expire", Kind: module.Int, Set: setNonceExpire},
		{Name: "calculate_ha1", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.CalculateHA1 = b })},
		{Name: "password_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.PasswordColumn, m.cfg.passwordColumnSet = s, true })},
		{Name: "password_column_2", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.PasswordColumn2 = s })},
		{Name: "user_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.UserColumn = s })},
		{Name: "domain_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.DomainColumn = s })},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.UseDomain = b })},
	},
	Funcs: []module.Func{
		{Name: "www_authorize", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupAuthorize(www)},
		{Name: "proxy_authorize", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupAuthorize(proxy)},
		{Name: "www_challenge", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupChallenge(www)},
		{Name: "proxy_challenge", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupChallenge(proxy)},
		{Name: "consume_credentials", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupConsume},
		{Name: "check_to", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupCheckURI(true)},
		{Name: "check_from", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupCheckURI(false)},
		{Name: "is_user", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupIsUser},
	},
	New:  func() any { return New() },
	Init: initModule,
}
