package auth

import (
	"errors"

	"ser/core/module"
)

func init() { module.Register(Exports) }

// Parameters of both generations, shared by the tables below.
var (
	pDBURL      = module.Param{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })}
	pSecret     = module.Param{Name: "secret", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Secret = s })}
	pNonceExp   = module.Param{Name: "nonce_expire", Kind: module.Int, Set: module.SetOf(setNonceExpire)}
	pCalcHA1    = module.Param{Name: "calculate_ha1", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.CalculateHA1 = b })}
	pPassCol    = module.Param{Name: "password_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.PasswordColumn, m.cfg.passwordColumnSet = s, true })}
	pPassCol2   = module.Param{Name: "password_column_2", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.PasswordColumn2 = s })}
	pUserCol    = module.Param{Name: "user_column", Kind: module.Str, Set: module.IdentParam("column", func(m *Module, s string) { m.cfg.UserColumn = s })}
	setDomainCl = module.IdentParam("column", func(m *Module, s string) { m.cfg.DomainColumn = s })

	fWWWAuthorize   = module.Func{Name: "www_authorize", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupAuthorize(www)}
	fProxyAuthorize = module.Func{Name: "proxy_authorize", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupAuthorize(proxy)}
)

// Exports is the auth implementation, loaded under two names:
//
//   - "auth": SER 0.9's auth (challenges, consume_credentials,
//     append_rpid_hf, is_rpid_user_e164, secret, nonce_expire, rpid_*,
//     realm_prefix) together with what SER 0.8's auth held besides
//     (www_authorize, proxy_authorize and the subscriber-table
//     parameters under their 0.8 names; 0.8's realm_column is the domain
//     column). The group and uri implementations add 0.8's is_in_group,
//     is_user_in, check_to, check_from and is_user to this name.
//   - "auth_db": SER 0.9's auth_db (www_authorize, proxy_authorize and
//     the subscriber-table parameters under their 0.9 names).
//
// A config that loads both has one instance: auth_db's authorize functions
// use the nonces of auth's secret, as in SER.
var Exports = &module.Exports{
	Name: "auth",
	Params: append([]module.Param{
		pSecret, pNonceExp,
		{Name: "rpid_prefix", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.RPIDPrefix = s })},
		{Name: "rpid_suffix", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.RPIDSuffix = s })},
		{Name: "realm_prefix", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.RealmPrefix = s })},
		// SER 0.8.
		pDBURL, pCalcHA1, pPassCol, pPassCol2, pUserCol,
		{Name: "realm_column", Kind: module.Str, Set: setDomainCl},
		{Name: "retry_count", Kind: module.Int, Set: func(any, module.Value) error {
			return errors.New("SER 0.8.10's retry_count (a 403 after that many challenges with one nonce chain) is not supported: ser limits password guessing with the throttle_* parameters")
		}},
		// Replay protection (Kamailio's one_time_nonce name) and the
		// guessing limits: not in SER.
		{Name: "check_digest_uri", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.CheckDigestURI = b })},
		{Name: "one_time_nonce", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.OneTimeNonce = b })},
	}, throttleParams...),
	Funcs: []module.Func{
		{Name: "www_challenge", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupChallenge(www)},
		{Name: "proxy_challenge", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupChallenge(proxy)},
		{Name: "consume_credentials", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupConsume)},
		{Name: "append_rpid_hf", MinArgs: 0, MaxArgs: 2, Routes: module.Request, Fixup: module.FixupOf(fixupAppendRPID)},
		{Name: "is_rpid_user_e164", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupIsRPIDE164)},
		// SER 0.8.
		fWWWAuthorize, fProxyAuthorize,
	},
	Also: []module.Table{{
		Name: "auth_db",
		Params: []module.Param{
			pDBURL, pUserCol, pPassCol, pPassCol2, pCalcHA1,
			{Name: "domain_column", Kind: module.Str, Set: setDomainCl},
			{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, b bool) { m.cfg.UseDomain = b })},
			{Name: "avps_column_int", Kind: module.Str, Set: module.SetOf(setAVPColumns(false))},
			{Name: "avps_column_str", Kind: module.Str, Set: module.SetOf(setAVPColumns(true))},
		},
		Funcs: []module.Func{fWWWAuthorize, fProxyAuthorize},
	}},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Start: module.StartOf((*Module).Start),
}
