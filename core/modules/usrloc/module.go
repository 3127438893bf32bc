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
		{Name: "db_mode", Kind: module.Int, Set: setInt(func(c *Config, n int) error {
			if n < 0 || n > 3 {
				return fmt.Errorf("db_mode must be 0, 1, 2 or 3, not %d", n)
			}
			c.DBMode = n
			return nil
		})},
		{Name: "db_url", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.DBURL = s })},
		{Name: "timer_interval", Kind: module.Int, Set: setInt(func(c *Config, n int) error {
			if n < 0 {
				return fmt.Errorf("timer_interval must not be negative, not %d", n)
			}
			c.TimerInterval = n
			return nil
		})},
		{Name: "use_domain", Kind: module.Int, Set: setInt(func(c *Config, n int) error { c.UseDomain = n != 0; return nil })},
		{Name: "desc_time_order", Kind: module.Int, Set: setInt(func(c *Config, n int) error { c.DescTimeOrder = n != 0; return nil })},
		{Name: "user_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.User = s })},
		{Name: "domain_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Domain = s })},
		{Name: "contact_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Contact = s })},
		{Name: "expires_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Expires = s })},
		{Name: "q_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Q = s })},
		{Name: "callid_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.CallID = s })},
		{Name: "cseq_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.CSeq = s })},
		{Name: "method_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Method = s })},
		{Name: "flags_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Flags = s })},
		{Name: "user_agent_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.UserAgent = s })},
		{Name: "received_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Received = s })},
		{Name: "replicate_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.Replicate = s })},
		{Name: "state_column", Kind: module.Str, Set: setStr(func(c *Config, s string) { c.Columns.State = s })},
	},
	New:  func() any { return New() },
	Init: initModule,
}
