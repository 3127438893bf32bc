package pa

import (
	"fmt"

	"ser/core/module"
)

func init() { module.Register(Exports) }

// Exports is the pa module's export table: SER 0.9's functions and
// parameters (subscribe is the name SER 0.9.6's etc/pa.cfg still uses for
// handle_subscription, from the module's first release).
var Exports = &module.Exports{
	Name: "pa",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(m *Module, s string) { m.dbURL = s })},
		{Name: "use_db", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.useDB = on })},
		{Name: "default_expires", Kind: module.Int, Set: module.IntParam(positive("default_expires", func(m *Module, n int) { m.defaultExpires = n }))},
		{Name: "max_expires", Kind: module.Int, Set: module.IntParam(positive("max_expires", func(m *Module, n int) { m.maxExpires = n }))},
		{Name: "timer_interval", Kind: module.Int, Set: module.IntParam(positive("timer_interval", func(m *Module, n int) { m.timerInterval = n }))},
		{Name: "max_subscriptions", Kind: module.Int, Set: module.IntParam(positive("max_subscriptions", func(m *Module, n int) { m.maxPerPresentity = n }))},
		{Name: "max_total_subscriptions", Kind: module.Int, Set: module.IntParam(positive("max_total_subscriptions", func(m *Module, n int) { m.maxTotal = n }))},
		{Name: "max_publications", Kind: module.Int, Set: module.IntParam(positive("max_publications", func(m *Module, n int) { m.maxPublications = n }))},
		{Name: "presentity_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.tables.Presentity = s })},
		{Name: "presentity_contact_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.tables.Contact = s })},
		{Name: "watcherinfo_table", Kind: module.Str, Set: module.IdentParam("table", func(m *Module, s string) { m.tables.Watcherinfo = s })},
		// SER 0.9's place table (use_place_table) held room descriptions
		// for location-aware PIDF; ser keeps no places: 0 only.
		{Name: "use_place_table", Kind: module.Int, Set: module.FixedParam("use_place_table", "0")},
	},
	Funcs: []module.Func{
		{Name: "handle_subscription", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupSubscription)},
		{Name: "handle_publish", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupPublish)},
		{Name: "pa_handle_registration", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupRegistration)},
		{Name: "existing_subscription", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupExisting)},
		{Name: "pua_exists", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupPUAExists)},
		{Name: "subscribe", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupSubscription)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Deps:     []string{"tm"},
	Start:    module.StartOf((*Module).Start),
	Stop:     module.StopOf((*Module).Stop),
	Commands: module.CommandsOf((*Module).commands),
}

// Defaults (SER 0.9's pa_mod.c where it had the parameter).
const (
	DefaultExpires       = 3600
	DefaultMaxExpires    = 7200
	DefaultTimerInterval = 10
	// DefaultMaxSubscriptions bounds the subscriptions to one presentity,
	// DefaultMaxTotal all of them, DefaultMaxPublications the publications
	// of one presentity (SER had no bounds).
	DefaultMaxSubscriptions = 100
	DefaultMaxTotal         = 10000
	DefaultMaxPublications  = 16
)

func positive(name string, set func(*Module, int)) func(*Module, int) error {
	return func(m *Module, n int) error {
		if n <= 0 {
			return fmt.Errorf("pa: %s must be positive, not %d", name, n)
		}
		set(m, n)
		return nil
	}
}
