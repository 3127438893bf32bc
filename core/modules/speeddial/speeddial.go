// Package speeddial is SER's speeddial module: sd_lookup(table) turns a
// short number dialled by a user (the Request-URI's user part, e.g.
// sip:1@example.com) into the address that user stored for it in the
// speed_dial table (serweb's speed dial page), by rewriting the
// Request-URI.
package speeddial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/sipmsg"
	"ser/core/store"
)

func init() { module.Register(Exports) }

func column(set func(sd *SpeedDial, name string)) func(any, module.Value) error {
	return module.IdentParam("column", set)
}

// Exports is the speeddial module's export table.
var Exports = &module.Exports{
	Name: "speeddial",
	Params: []module.Param{
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(sd *SpeedDial, s string) { sd.dbURL = s })},
		{Name: "user_column", Kind: module.Str, Set: column(func(sd *SpeedDial, s string) { sd.schema.UserColumn = s })},
		{Name: "domain_column", Kind: module.Str, Set: column(func(sd *SpeedDial, s string) { sd.schema.DomainColumn = s })},
		{Name: "sd_user_column", Kind: module.Str, Set: column(func(sd *SpeedDial, s string) { sd.schema.SDUserColumn = s })},
		{Name: "sd_domain_column", Kind: module.Str, Set: column(func(sd *SpeedDial, s string) { sd.schema.SDDomainColumn = s })},
		{Name: "new_uri_column", Kind: module.Str, Set: column(func(sd *SpeedDial, s string) { sd.schema.NewURIColumn = s })},
		{Name: "use_domain", Kind: module.Int, Set: module.IntParam(func(sd *SpeedDial, n int) error {
			if n < 0 || n > 2 {
				return fmt.Errorf("use_domain must be 0, 1 or 2")
			}
			sd.useDomain = n
			return nil
		})},
		{Name: "domain_prefix", Kind: module.Str, Set: module.StrParam(func(sd *SpeedDial, s string) { sd.domainPrefix = s })},
	},
	Funcs: []module.Func{
		{Name: "sd_lookup", MinArgs: 1, MaxArgs: 1, Routes: module.Request, Fixup: module.FixupOf(fixupLookup)},
	},
	Deps:  []string{"sl"},
	New:   func() any { return New() },
	Init:  module.InitOf(initModule),
	Start: module.StartOf((*SpeedDial).Start),
}

// SpeedDial is one server's speeddial instance.
type SpeedDial struct {
	dbURL        string
	schema       store.SpeedDialSchema
	useDomain    int
	domainPrefix string

	log    *slog.Logger
	sl     *sl.Module
	openDB func(string) (*store.Store, error)

	mu     sync.Mutex
	tables []string // the tables sd_lookup calls name
	// started is set once Start ran: a table a reloaded script names
	// later is checked at once.
	started bool
	db      *store.Store
}

// New returns an instance with SER's defaults.
func New() *SpeedDial {
	return &SpeedDial{
		schema: store.SpeedDialSchema{UserColumn: "username", DomainColumn: "domain", SDUserColumn: "sd_username",
			SDDomainColumn: "sd_domain", NewURIColumn: "new_uri"},
		log: slog.Default(),
	}
}

func initModule(sd *SpeedDial, env *module.Env) error {
	if env.Log != nil {
		sd.log = env.Log
	}
	if err := env.CheckDBURL(sd.dbURL); err != nil {
		return fmt.Errorf("speeddial: db_url: %w", err)
	}
	s, ok := module.Get[*sl.Module](env, "sl")
	if !ok {
		return fmt.Errorf("speeddial: needs the sl module")
	}
	sd.sl = s
	sd.openDB = env.DB
	return nil
}

// Start opens the database and checks the tables sd_lookup names have
// the configured columns.
func (sd *SpeedDial) Start(ctx context.Context) error {
	sd.mu.Lock()
	sd.started = true
	tables := append([]string(nil), sd.tables...)
	sd.mu.Unlock()
	if len(tables) == 0 {
		return nil
	}
	return sd.open(ctx, tables...)
}

// open opens the database (once) and checks tables.
func (sd *SpeedDial) open(ctx context.Context, tables ...string) error {
	sd.mu.Lock()
	st := sd.db
	sd.mu.Unlock()
	if st != nil {
		return sd.UseStore(ctx, st, tables...)
	}
	if sd.openDB == nil {
		return fmt.Errorf("speeddial: no database available (db_url %q)", sd.dbURL)
	}
	st, err := sd.openDB(sd.dbURL)
	if err != nil {
		return fmt.Errorf("speeddial: %w", err)
	}
	return sd.UseStore(ctx, st, tables...)
}

// UseStore makes sd look numbers up in st, after checking the tables.
func (sd *SpeedDial) UseStore(ctx context.Context, st *store.Store, tables ...string) error {
	c := sd.schema
	for _, t := range tables {
		if err := st.CheckColumns(ctx, t, c.UserColumn, c.DomainColumn, c.SDUserColumn, c.SDDomainColumn, c.NewURIColumn); err != nil {
			return fmt.Errorf("speeddial: %w", err)
		}
	}
	sd.mu.Lock()
	sd.db = st
	sd.mu.Unlock()
	return nil
}

func fixupLookup(sd *SpeedDial, _ *module.Env, args []module.Value) (module.Handler, error) {
	table := args[0].String()
	if !store.ValidIdent(table) {
		return nil, fmt.Errorf("sd_lookup: %q is not a valid table name", table)
	}
	sd.mu.Lock()
	sd.tables = append(sd.tables, table)
	late := sd.started
	sd.mu.Unlock()
	if late {
		// A configuration reload: the table is checked (and the database
		// opened) now, as Start would have; a failure refuses the reload.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sd.open(ctx, table); err != nil {
			return nil, fmt.Errorf("sd_lookup: %w", err)
		}
	}
	return func(m *sipmsg.Msg) (int, error) { return sd.Lookup(m, table), nil }, nil
}

// stripPrefix removes domain_prefix from the front of host, as SER did:
// only when host starts with it (any case) and is longer.
func (sd *SpeedDial) stripPrefix(host string) string {
	p := sd.domainPrefix
	if p != "" && len(p) < len(host) && strings.EqualFold(host[:len(p)], p) {
		return host[len(p):]
	}
	return host
}

// Lookup is sd_lookup(table): the caller is the From URI's user (and
// host with use_domain 1 or 2), the short number the Request-URI's user
// (and host with use_domain 2). A match rewrites the Request-URI to the
// stored address ("sip:" added when missing) and returns 1; no match
// returns -1. A From that does not parse is answered 400, a database
// failure or an unusable stored address 500, and the script stops (0).
func (sd *SpeedDial) Lookup(m *sipmsg.Msg, table string) int {
	ctx := module.MsgCtx(m)
	var from sip.Uri
	if err := sip.ParseUri(sipmsg.NameAddrURI(m.HeaderBody("From")), &from); err != nil || from.Host == "" || m.Req == nil {
		sd.log.ErrorContext(ctx, "sd_lookup: cannot parse the From URI", "err", err)
		return sd.reply(m, 400, "Bad Request")
	}
	ruri := m.URI()
	k := store.SpeedDialKey{Username: from.User, SDUsername: ruri.User}
	if sd.useDomain >= 1 {
		k.UseDomain, k.Domain = true, sd.stripPrefix(from.Host)
	}
	if sd.useDomain >= 2 {
		k.UseSDDomain, k.SDDomain = true, sd.stripPrefix(ruri.Host)
	}
	sd.mu.Lock()
	db := sd.db
	sd.mu.Unlock()
	if db == nil {
		sd.log.ErrorContext(ctx, "sd_lookup: no database")
		return sd.reply(m, 500, "Server Internal Error")
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sch := sd.schema
	sch.Table = table
	uri, err := db.LookupSpeedDialIn(qctx, sch, k)
	if errors.Is(err, store.ErrNotFound) {
		return -1
	}
	if err != nil {
		sd.log.ErrorContext(ctx, "sd_lookup: error querying database", "err", err)
		return sd.reply(m, 500, "Server Internal Error")
	}
	if !strings.HasPrefix(uri, "sip:") {
		uri = "sip:" + uri
	}
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil || u.Host == "" {
		sd.log.ErrorContext(ctx, "sd_lookup: stored address is not a SIP URI", "new_uri", uri, "err", err)
		return sd.reply(m, 500, "Server Internal Error")
	}
	if err := m.SetURI(uri); err != nil {
		sd.log.ErrorContext(ctx, "sd_lookup: cannot replace the R-URI", "new_uri", uri, "err", err)
		return sd.reply(m, 500, "Server Internal Error")
	}
	return 1
}

func (sd *SpeedDial) reply(m *sipmsg.Msg, code int, reason string) int {
	if err := sd.sl.Reply(m, code, reason); err != nil {
		sd.log.ErrorContext(module.MsgCtx(m), "sd_lookup: error while sending reply", "err", err)
	}
	return 0
}
