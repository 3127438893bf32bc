package jabber

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the jabber module's export table: SER 0.9's functions and
// parameters (modules/jabber, jabber.c).
var Exports = &module.Exports{
	Name: "jabber",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.dbURL = s })},
		{Name: "jaddress", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.jaddress = s })},
		{Name: "jport", Kind: module.Int, Set: module.IntParam(port)},
		{Name: "jdomain", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.jdomainRaw = s })},
		{Name: "aliases", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.aliasesRaw = s })},
		{Name: "proxy", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.proxyRaw = s })},
		{Name: "registrar", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.registrarRaw = s })},
		{Name: "workers", Kind: module.Int, Set: module.IntParam(positive("workers", func(m *Module, n int) { m.workers = n }))},
		{Name: "max_jobs", Kind: module.Int, Set: module.IntParam(positive("max_jobs", func(m *Module, n int) { m.maxJobs = n }))},
		{Name: "cache_time", Kind: module.Int, Set: module.IntParam(positive("cache_time", func(m *Module, n int) { m.cacheTime = n }))},
		{Name: "delay_time", Kind: module.Int, Set: module.IntParam(positive("delay_time", func(m *Module, n int) { m.delayTime = n }))},
		{Name: "sleep_time", Kind: module.Int, Set: module.IntParam(positive("sleep_time", func(m *Module, n int) { m.sleepTime = n }))},
		{Name: "check_time", Kind: module.Int, Set: module.IntParam(positive("check_time", func(m *Module, n int) { m.checkTime = n }))},
	},
	Funcs: []module.Func{
		{Name: "jab_send_message", Routes: module.Request, Fixup: fixup(opSend)},
		{Name: "jab_join_jconf", Routes: module.Request, Fixup: fixup(opJoin)},
		{Name: "jab_exit_jconf", Routes: module.Request, Fixup: fixup(opExit)},
		{Name: "jab_go_online", Routes: module.Request, Fixup: fixup(opOnline)},
		{Name: "jab_go_offline", Routes: module.Request, Fixup: fixup(opOffline)},
	},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Deps:  []string{"tm"},
	Start: module.StartOf((*Module).Start),
	Stop:  module.StopOf((*Module).Stop),
}

// SER 0.9's defaults (jabber.c).
const (
	DefaultJAddress  = "127.0.0.1"
	DefaultJPort     = 5222
	DefaultRegistrar = "jabber_gateway@127.0.0.1"
	DefaultWorkers   = 2
	DefaultMaxJobs   = 10
	DefaultCacheTime = 600
	DefaultDelayTime = 90
	DefaultSleepTime = 20
	DefaultCheckTime = 20
	// queueSize bounds the messages waiting for one user's connection
	// (SER's XJ_MSG_POOL_SIZE).
	queueSize = 10
	// resource is the XMPP resource the gateway binds (SER's XJAB_RESOURCE).
	resource = "serXjab"
)
