package acc

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the acc module's export table.
var Exports = &module.Exports{
	Name: "acc",
	Params: []module.Param{
		{Name: "log_level", Kind: module.Int, Set: module.SetOf(setLogLevel)},
		{Name: "log_fmt", Kind: module.Str, Set: module.SetOf(setLogFmt)},
		{Name: "log_flag", Kind: module.Int, Set: setFlag(func(a *Acc) *int { return &a.logFlag })},
		{Name: "acc_flag", Kind: module.Int, Set: setFlag(func(a *Acc) *int { return &a.logFlag })},
		{Name: "log_missed_flag", Kind: module.Int, Set: setFlag(func(a *Acc) *int { return &a.logMissedFlag })},
		{Name: "missed_flag", Kind: module.Int, Set: setFlag(func(a *Acc) *int { return &a.logMissedFlag })},
		{Name: "failed_transactions", Kind: module.Int, Set: module.BoolParam(func(a *Acc, on bool) { a.failedTx = on })},
		{Name: "failed_transaction_flag", Kind: module.Int, Set: setFlag(func(a *Acc) *int { return &a.failedTxFlag })},
		{Name: "report_cancels", Kind: module.Int, Set: module.BoolParam(func(a *Acc, on bool) { a.reportCancels = on })},
		{Name: "report_ack", Kind: module.Int, Set: setUnsupported("report_ack", "tm forwards 2xx ACKs statelessly and reports no end-to-end ACK")},
		{Name: "early_media", Kind: module.Int, Set: setUnsupported("early_media", "tm reports only final replies, not 183")},
		{Name: "db_url", Kind: module.Str, Set: module.SetOf(setDBURL)},
		{Name: "db_flag", Kind: module.Int, Set: setDBFlag(func(a *Acc) *int { return &a.dbFlag })},
		{Name: "db_missed_flag", Kind: module.Int, Set: setDBFlag(func(a *Acc) *int { return &a.dbMissedFlag })},
		{Name: "db_table_acc", Kind: module.Str, Set: module.IdentParam("table", func(a *Acc, s string) { a.tableAcc = s })},
		{Name: "db_table_missed_calls", Kind: module.Str, Set: module.IdentParam("table", func(a *Acc, s string) { a.tableMissed = s })},
	},
	Funcs: []module.Func{
		{Name: "acc_log_request", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupLogRequest)},
		{Name: "acc_db_request", MinArgs: 2, MaxArgs: 2, Routes: module.Request, Fixup: module.FixupOf(fixupDBRequest)},
	},
	New:  func() any { return New() },
	Init: module.InitOf(initModule),
	Deps: []string{"tm"},
}
