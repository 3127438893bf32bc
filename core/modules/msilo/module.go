package msilo

import (
	"ser/core/module"
	"ser/core/store"
)

func init() { module.Register(Exports) }

// Exports is the msilo module's export table: SER 0.9's functions and
// parameters, the later SER line's next_hop argument and Kamailio's
// max_messages.
var Exports = &module.Exports{
	Name: "msilo",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.dbURL = s })},
		{Name: "db_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.table = s })},
		{Name: "registrar", Kind: module.Str, Set: module.SetOf(setRegistrar)},
		{Name: "expire_time", Kind: module.Int, Set: module.IntParam(positive("expire_time", func(m *Module, n int) { m.expireTime = n }))},
		{Name: "check_time", Kind: module.Int, Set: module.IntParam(positive("check_time", func(m *Module, n int) { m.checkTime = n }))},
		{Name: "clean_period", Kind: module.Int, Set: module.IntParam(positive("clean_period", func(m *Module, n int) { m.cleanPeriod = n }))},
		{Name: "use_contact", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.useContact = on })},
		{Name: "max_messages", Kind: module.Int, Set: module.IntParam(setMaxMessages)},
		// SER 0.9's column names: only the standard silo layout is read.
		{Name: "sc_mid", Kind: module.Str, Set: module.FixedParam("sc_mid", "mid")},
		{Name: "sc_from", Kind: module.Str, Set: module.FixedParam("sc_from", "src_addr")},
		{Name: "sc_to", Kind: module.Str, Set: module.FixedParam("sc_to", "dst_addr")},
		{Name: "sc_uri_user", Kind: module.Str, Set: module.FixedParam("sc_uri_user", "username")},
		{Name: "sc_uri_host", Kind: module.Str, Set: module.FixedParam("sc_uri_host", "domain")},
		{Name: "sc_body", Kind: module.Str, Set: module.FixedParam("sc_body", "body")},
		{Name: "sc_ctype", Kind: module.Str, Set: module.FixedParam("sc_ctype", "ctype")},
		{Name: "sc_exp_time", Kind: module.Str, Set: module.FixedParam("sc_exp_time", "exp_time")},
		{Name: "sc_inc_time", Kind: module.Str, Set: module.FixedParam("sc_inc_time", "inc_time")},
	},
	Funcs: []module.Func{
		{Name: "m_store", MinArgs: 1, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupStore)},
		{Name: "m_dump", MinArgs: 0, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupDump)},
	},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Deps:  []string{"tm"},
	Start: module.StartOf((*Module).Start),
	Stop:  module.StopOf((*Module).Stop),
}

// defaults (SER 0.9's msilo.c), and the table.
const (
	DefaultExpireTime  = 259200 // 72 hours
	DefaultCheckTime   = 30
	DefaultCleanPeriod = 5
	// DefaultMaxMessages bounds the messages stored per recipient (SER
	// had no bound; Kamailio's max_messages, whose 0 means none).
	DefaultMaxMessages = 100
	defaultTable       = store.SiloTable
)
