package nathelper

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the nathelper module's export table (SER 0.9's nathelper
// without the RTP proxy, plus OpenSER's fix_nated_register and SIP
// pinging parameters).
var Exports = &module.Exports{
	Name: "nathelper",
	Params: []module.Param{
		{Name: "natping_interval", Kind: module.Int, Set: module.SetOf(setPingInterval)},
		{Name: "ping_nated_only", Kind: module.Int, Set: module.BoolParam(func(n *NATHelper, on bool) { n.pingNatedOnly = on })},
		{Name: "sipping_from", Kind: module.Str, Set: module.SetOf(setSippingFrom)},
		{Name: "sipping_method", Kind: module.Str, Set: module.SetOf(setSippingMethod)},
		{Name: "natping_tables", Kind: module.Str, Set: module.SetOf(setPingTables)},
	},
	Funcs: []module.Func{
		{Name: "nat_uac_test", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupUACTest},
		{Name: "fix_nated_contact", MinArgs: 0, MaxArgs: 0, Routes: module.Request | module.OnReply, Fixup: fixupFixContact},
		{Name: "fix_nated_register", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupFixRegister},
		{Name: "fix_nated_sdp", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupFixSDP},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*NATHelper).commands),
	Start:    module.StartOf((*NATHelper).Start),
	Stop:     module.StopOf((*NATHelper).Stop),
}
