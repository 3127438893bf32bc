package tm

import (
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

const reqFail = module.Request | module.Failure

// Exports is the tm module's export table. Where each function may be
// called is SER 0.9.6's rule (tm.c's cmd_export_t); t_relay with a host
// and port, t_relay_to, t_on_negative and t_reply_unsafe are SER 0.8's.
var Exports = &module.Exports{
	Name: "tm",
	Params: []module.Param{
		{Name: "fr_timer", Kind: module.Int, Set: setSeconds(func(t *TM) *time.Duration { return &t.params.FR }),
			Reload: reloadSeconds(func(tt *Timers) *time.Duration { return &tt.FR })},
		{Name: "fr_inv_timer", Kind: module.Int, Set: setSeconds(func(t *TM) *time.Duration { return &t.params.FRInv }),
			Reload: reloadSeconds(func(tt *Timers) *time.Duration { return &tt.FRInv })},
		{Name: "wt_timer", Kind: module.Int, Set: setSeconds(func(t *TM) *time.Duration { return &t.params.Wait }),
			Reload: reloadSeconds(func(tt *Timers) *time.Duration { return &tt.Wait })},
		{Name: "retr_timer1p1", Kind: module.Int, Set: setMillis(func(t *TM) *time.Duration { return &t.params.T1 })},
		{Name: "retr_timer1p2", Kind: module.Int, Set: setMillis(func(t *TM) *time.Duration { return &t.params.T1p2 })},
		{Name: "retr_timer1p3", Kind: module.Int, Set: setMillis(func(t *TM) *time.Duration { return &t.params.T1p3 })},
		{Name: "retr_timer2", Kind: module.Int, Set: setMillis(func(t *TM) *time.Duration { return &t.params.T2 })},
		{Name: "noisy_ctimer", Kind: module.Int, Set: module.SetOf(setNoisy)},
		{Name: "tw_append", Kind: module.Str, Set: module.SetOf(setTwAppend)},
		{Name: "unix_tx_timeout", Kind: module.Int, Set: module.SetOf(setUnixTxTimeout)},
		{Name: "restart_fr_on_each_reply", Kind: module.Int, Set: setOff(func(t *TM) *bool { return &t.noRestartFR })},
		{Name: "ruri_matching", Kind: module.Int, Set: setOff(func(t *TM) *bool { return &t.noRURIMatch })},
		{Name: "via1_matching", Kind: module.Int, Set: setOff(func(t *TM) *bool { return &t.noVia1Match })},
		{Name: "delete_timer", Kind: module.Int, Set: setInert("delete_timer", "a transaction is freed by the garbage collector once deleted; there are no references to wait for")},
		{Name: "uac_from", Kind: module.Str, Set: setInert("uac_from", "SER 0.9.6 did not use it either; t_uac_from and t_uac_dlg take the From")},
		{Name: "fr_timer_avp", Kind: module.Str, Set: setInert("fr_timer_avp", "SER 0.9.6 parsed it but never read the AVP, so fr_timer always applies")},
		{Name: "fr_inv_timer_avp", Kind: module.Str, Set: module.SetOf(setFrInvAVP)},
		{Name: "max_transactions", Kind: module.Int, Set: module.SetOf(setMaxTransactions)},
	},
	Funcs: []module.Func{
		{Name: "t_relay", MinArgs: 0, MaxArgs: 2, Routes: reqFail, Fixup: module.FixupOf(fixupRelay)},
		{Name: "t_relay_to", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupRelayTo("t_relay_to", sipmsg.ProtoUDP, false)},
		{Name: "t_relay_to_udp", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupRelayTo("t_relay_to_udp", sipmsg.ProtoUDP, false)},
		{Name: "t_relay_to_tcp", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupRelayTo("t_relay_to_tcp", sipmsg.ProtoTCP, false)},
		{Name: "t_replicate", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupRelayTo("t_replicate", sipmsg.ProtoUDP, true)},
		{Name: "t_replicate_udp", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupRelayTo("t_replicate_udp", sipmsg.ProtoUDP, true)},
		{Name: "t_replicate_tcp", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupRelayTo("t_replicate_tcp", sipmsg.ProtoTCP, true)},
		{Name: "t_forward_nonack", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupForwardNonACK("t_forward_nonack", sipmsg.ProtoNone, true)},
		{Name: "t_forward_nonack_uri", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupForwardNonACK("t_forward_nonack_uri", sipmsg.ProtoNone, false)},
		{Name: "t_forward_nonack_udp", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupForwardNonACK("t_forward_nonack_udp", sipmsg.ProtoUDP, true)},
		{Name: "t_forward_nonack_tcp", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: fixupForwardNonACK("t_forward_nonack_tcp", sipmsg.ProtoTCP, true)},
		{Name: "t_newtran", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupNewTran)},
		{Name: "t_reply", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: module.FixupOf(fixupReply)},
		{Name: "t_reply_unsafe", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: module.FixupOf(fixupReply)},
		{Name: "t_retransmit_reply", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupRetransmit)},
		{Name: "t_lookup_request", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupLookupRequest)},
		{Name: "t_check_status", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupCheckStatus)},
		{Name: "t_write_req", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupTWrite("t_write_req", false)},
		{Name: "t_write_unix", MinArgs: 2, MaxArgs: 2, Routes: reqFail, Fixup: fixupTWrite("t_write_unix", true)},
		{Name: "t_release", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupRelease)},
		{Name: "t_on_negative", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupOnRoute("t_on_negative", module.Failure)},
		{Name: "t_on_failure", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupOnRoute("t_on_failure", module.Failure)},
		{Name: "t_on_reply", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupOnRoute("t_on_reply", module.OnReply)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*TM).commands),
	OnReply:  module.MsgHookOf((*TM).HandleReply),
	Stop:     module.StopOf((*TM).Stop),
}
