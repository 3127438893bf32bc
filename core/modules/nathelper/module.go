package nathelper

import (
	"time"

	"ser/core/module"
)

func init() { module.Register(Exports) }

// Exports is the nathelper module's export table (SER 0.9's nathelper
// with its rtpproxy client, plus OpenSER's fix_nated_register and SIP
// pinging parameters).
var Exports = &module.Exports{
	Name: "nathelper",
	Params: []module.Param{
		{Name: "natping_interval", Kind: module.Int, Set: module.SetOf(setPingInterval)},
		{Name: "ping_nated_only", Kind: module.Int, Set: module.BoolParam(func(n *NATHelper, on bool) { n.pingNatedOnly = on })},
		{Name: "sipping_from", Kind: module.Str, Set: module.SetOf(setSippingFrom)},
		{Name: "sipping_method", Kind: module.Str, Set: module.SetOf(setSippingMethod)},
		{Name: "natping_tables", Kind: module.Str, Set: module.SetOf(setPingTables)},
		{Name: "force_socket", Kind: module.Str, Set: module.SetOf(func(n *NATHelper, v module.Value) error { n.forceSocket = v.String(); return nil })},
		{Name: "rtpproxy_sock", Kind: module.Str, Set: module.SetOf(setRTPProxySock)},
		{Name: "rtpproxy_disable", Kind: module.Int, Set: module.BoolParam(func(n *NATHelper, on bool) { n.rtpDisable = on })},
		{Name: "rtpproxy_disable_tout", Kind: module.Int, Set: secondsParam("rtpproxy_disable_tout", -1, func(n *NATHelper, s int) { n.rtp.disableTout = time.Duration(s) * time.Second })},
		{Name: "rtpproxy_retr", Kind: module.Int, Set: secondsParam("rtpproxy_retr", 1, func(n *NATHelper, s int) { n.rtp.retr = s })},
		{Name: "rtpproxy_tout", Kind: module.Int, Set: secondsParam("rtpproxy_tout", 1, func(n *NATHelper, s int) { n.rtp.tout = time.Duration(s) * time.Second })},
	},
	Funcs: []module.Func{
		{Name: "nat_uac_test", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupUACTest},
		{Name: "fix_nated_contact", MinArgs: 0, MaxArgs: 0, Routes: module.Request | module.OnReply, Fixup: fixupFixContact},
		{Name: "fix_nated_register", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupFixRegister},
		{Name: "add_rcv_param", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupAddRcvParam},
		{Name: "fix_nated_sdp", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupFixSDP},
		{Name: "force_rtp_proxy", MinArgs: 0, MaxArgs: 2, Routes: module.Request | module.OnReply, Fixup: module.FixupOf(fixupForce)},
		{Name: "unforce_rtp_proxy", MinArgs: 0, MaxArgs: 1, Routes: module.Request | module.OnReply | module.Failure, Fixup: module.FixupOf(fixupUnforce)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*NATHelper).commands),
	Start:    module.StartOf((*NATHelper).Start),
	Stop:     module.StopOf((*NATHelper).Stop),
}
