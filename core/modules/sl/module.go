package sl

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the sl module's export table.
var Exports = &module.Exports{
	Name: "sl",
	Funcs: []module.Func{
		{Name: "sl_send_reply", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: module.FixupOf(fixupSendReply)},
		{Name: "sl_reply_error", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: module.FixupOf(fixupReplyError)},
	},
	New:       func() any { return New() },
	Init:      module.InitOf(initModule),
	Commands:  module.CommandsOf((*Module).commands),
	OnRequest: module.MsgHookOf((*Module).FilterRequest),
}
