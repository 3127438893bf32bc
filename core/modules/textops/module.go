package textops

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the textops module's export table.
var Exports = &module.Exports{
	Name: "textops",
	Funcs: []module.Func{
		{Name: "search", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupSearch},
		{Name: "search_append", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: fixupSearchAppend},
		{Name: "replace", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: fixupReplace},
		{Name: "replace_all", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: fixupReplaceAll},
		{Name: "subst", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupSubst},
		{Name: "subst_uri", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupSubstURI},
		{Name: "subst_user", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupSubstUser},
		{Name: "append_time", MinArgs: 0, MaxArgs: 0, Routes: module.Request, Fixup: fixupAppendTime},
		{Name: "append_hf", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupAppendHF},
		{Name: "append_urihf", MinArgs: 2, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: fixupAppendURIHF},
		{Name: "append_to_reply", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: fixupAppendToReply},
		{Name: "remove_hf", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupRemoveHF},
		{Name: "is_present_hf", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: fixupIsPresentHF},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
}
