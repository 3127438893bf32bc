// Package acc is SER's accounting module: it reports completed
// transactions marked with a flag to the log (SER's syslog accounting) and
// to the acc / missed_calls SQL tables, using tm's completion callback.
package acc

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/sipmsg"
	"ser/core/store"
)

// Leading texts of SER's log lines (acc.h).
const (
	prefix       = "ACC: "
	leadRequest  = "request accounted: "
	leadMissed   = "call missed: "
	leadAnswered = "transaction answered: "
)

// Default SQL formats (acc/defs.h): username and domain of acc rows come
// from the From URI (0X), those of missed_calls rows from the original
// Request-URI (pD).
const (
	sqlAccFmt = "FTmiofcts0drX"
	sqlMCFmt  = "FTmiofctspdrD"
)

// dbTimeout bounds one accounting INSERT.
const dbTimeout = 5 * time.Second

// Acc is one acc module instance.
type Acc struct {
	level         int
	fmt           string
	logFlag       int
	logMissedFlag int
	failedTx      bool
	failedTxFlag  int
	reportCancels bool

	dbOn         bool
	dbURL        string
	dbFlag       int
	dbMissedFlag int
	tableAcc     string
	tableMissed  string

	log *slog.Logger
	env *module.Env
	// st is the accounting database, opened at start-up or by the first
	// acc_db_request a reloaded script binds (read without a lock by
	// the transactions completing meanwhile).
	st atomic.Pointer[store.Store]
}

// New returns an instance with SER 0.9's defaults: log_level 2 (notice),
// log_fmt "miocfs", log_flag 1, log_missed_flag 2, db_flag 1,
// db_missed_flag 2, tables acc and missed_calls; SQL accounting off until
// db_url, db_flag or db_missed_flag is set.
func New() *Acc {
	return &Acc{
		level: module.LNotice, fmt: "miocfs", logFlag: 1, logMissedFlag: 2,
		dbFlag: 1, dbMissedFlag: 2, tableAcc: "acc", tableMissed: "missed_calls",
		log: slog.Default().With("module", "acc"),
	}
}

func initModule(a *Acc, env *module.Env) error {
	a.env = env
	if env.Log != nil {
		a.log = env.Log
	}
	if a.dbOn {
		if err := a.openDB(); err != nil {
			return err
		}
	}
	if env.Instance == nil {
		return nil
	}
	t, ok := module.Get[*tm.TM](env, "tm")
	if !ok {
		return fmt.Errorf("acc: the tm module is not loaded")
	}
	t.OnComplete(a.onComplete)
	return nil
}

// openDB opens the accounting database (db_url; "" is the server's).
func (a *Acc) openDB() error {
	if a.st.Load() != nil {
		return nil
	}
	if a.env != nil && a.env.Check {
		// A config check opens no database.
		return a.env.CheckDBURL(a.dbURL)
	}
	if a.env == nil || a.env.DB == nil {
		return fmt.Errorf("acc: no database available for SQL accounting")
	}
	st, err := a.env.DB(a.dbURL)
	if err != nil {
		return fmt.Errorf("acc: db_url: %w", err)
	}
	a.st.Store(st)
	return nil
}

// flagSet reports whether flag n (0 = disabled) is set in f.
func flagSet(f sipmsg.Flags, n int) bool { return n > 0 && f&(1<<uint(n)) != 0 }

// Outcome is a completed transaction as the acc module sees it.
type Outcome struct {
	// Req is the request as relayed (R-URI as at t_relay; Raw as received)
	// with the flags at completion.
	Req *sipmsg.Msg
	// Code and Reason are the final status.
	Code   int
	Reason string
	// Reply is the final reply from downstream and ReplyRaw its bytes; nil
	// for a locally generated reply.
	Reply    *sip.Response
	ReplyRaw []byte
}

// onComplete is tm's completion callback.
func (a *Acc) onComplete(ci tm.CompleteInfo) {
	if !ci.Upstream || ci.Local {
		return
	}
	req := ci.Request()
	if req == nil {
		return
	}
	a.Complete(Outcome{Req: req, Code: ci.Code, Reason: ci.Reason, Reply: ci.Reply, ReplyRaw: ci.Raw})
}

// Complete reports a completed transaction the way SER 0.9's acc_onreply
// does: a failed INVITE with the missed-call flag is a missed call (log
// and/or missed_calls); a transaction with the accounting flag is
// "answered" (log and/or acc) when its status is below 300, or any status
// with failed_transactions / failed_transaction_flag. CANCELs are skipped
// unless report_cancels is on.
func (a *Acc) Complete(o Outcome) {
	req := o.Req
	if req == nil || req.Req == nil {
		return
	}
	if a.skipCancel(req) {
		return
	}
	flags := req.Flags
	to := replyTo(req, o.Reply, o.ReplyRaw)
	if req.Req.IsInvite() && o.Code >= 300 {
		status := strconv.Itoa(o.Code) + " " + o.Reason
		ev := &event{req: req, to: to, phrase: status}
		if flagSet(flags, a.logMissedFlag) {
			a.logLine(leadMissed, ev)
		}
		if a.st.Load() != nil && flagSet(flags, a.dbMissedFlag) {
			a.insert(a.tableMissed, sqlMCFmt, ev)
		}
	}
	if o.Code >= 300 && !a.failedTx && !flagSet(flags, a.failedTxFlag) {
		return
	}
	if o.Code < 200 {
		return
	}
	ev := &event{req: req, to: to, phrase: strconv.Itoa(o.Code)}
	if flagSet(flags, a.logFlag) {
		a.logLine(leadAnswered, ev)
	}
	if a.st.Load() != nil && flagSet(flags, a.dbFlag) {
		a.insert(a.tableAcc, sqlAccFmt, ev)
	}
}

// skipCancel is SER's skip_cancel: CANCELs are not accounted unless
// report_cancels is on.
func (a *Acc) skipCancel(m *sipmsg.Msg) bool {
	return m.Req.Method == sip.CANCEL && !a.reportCancels
}

// logLine writes one SER accounting line at log_level.
func (a *Acc) logLine(lead string, ev *event) {
	a.log.Log(module.MsgCtx(ev.req), module.SlogLevel(a.level), formatLine(lead, a.fmt, ev))
}

// insert writes one accounting row; a failure is logged (SER logged
// "Error while inserting to database" and went on).
func (a *Acc) insert(table, format string, ev *event) bool {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := a.st.Load().InsertAcc(ctx, table, record(format, ev)); err != nil {
		a.log.Error("acc: error while inserting to database", "table", table, "err", err)
		return false
	}
	return true
}
