package usrloc

import (
	"fmt"

	"ser/core/module"
)

func init() { module.Register(Exports) }

// Exports is usrloc's export table: parameters and FIFO commands; it has
// no script functions (registrar's save/lookup use its Go API).
var Exports = &module.Exports{
	Name: "usrloc",
	Params: []module.Param{
		{Name: "db_mode", Kind: module.Int, Set: module.IntParam(func(m *Module, n int) error {
			if n < 0 || n > 3 {
				return fmt.Errorf("db_mode must be 0, 1, 2 or 3, not %d", n)
			}
			m.cfg.DBMode = n
			return nil
		})},
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.DBURL = s })},
		{Name: "timer_interval", Kind: module.Int, Set: module.IntParam(func(m *Module, n int) error {
			if n < 0 {
				return fmt.Errorf("timer_interval must not be negative, not %d", n)
			}
			m.cfg.TimerInterval = n
			return nil
		})},
		{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.UseDomain = on })},
		{Name: "cseq_delay", Kind: module.Int, Set: module.IntParam(func(m *Module, n int) error {
			if n < 0 {
				return fmt.Errorf("cseq_delay must not be negative, not %d", n)
			}
			m.cfg.CSeqDelay = int64(n)
			return nil
		})},
		{Name: "desc_time_order", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.cfg.DescTimeOrder = on })},
		{Name: "user_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.User = s })},
		{Name: "domain_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Domain = s })},
		{Name: "contact_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Contact = s })},
		{Name: "expires_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Expires = s })},
		{Name: "q_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Q = s })},
		{Name: "callid_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.CallID = s })},
		{Name: "cseq_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.CSeq = s })},
		{Name: "method_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Method = s })},
		{Name: "flags_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Flags = s })},
		{Name: "user_agent_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.UserAgent = s })},
		{Name: "received_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Received = s })},
		{Name: "replicate_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.Replicate = s })},
		{Name: "state_column", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.cfg.Columns.State = s })},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*Module).commands),
	Start:    module.StartOf((*Module).Start),
	Stop:     module.StopOf((*Module).Stop),
}
