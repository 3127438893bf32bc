// Package uri is SER's URI checks: the uri module of SER 0.9 (is_user,
// has_totag, uri_param, add_uri_param, tel2sip), its database half uri_db
// (check_to, check_from, does_uri_exist against the uri and subscriber
// tables), and the check_to, check_from and is_user that SER 0.8's auth
// module had. One implementation, loaded under the names "uri", "uri_db"
// and (for 0.8) "auth".
package uri

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/store"
)

// Config holds uri_db's parameters (SER 0.9's defaults, with the server's
// default database instead of a MySQL URL).
type Config struct {
	// DBURL is db_url ("" = the server's default database).
	DBURL string
	// URITable and its columns: "uri", "username", "domain", "uri_user".
	URITable, URIUserColumn, URIDomainColumn, URIURIUserColumn string
	// SubscriberTable and its columns: "subscriber", "username", "domain".
	SubscriberTable, SubscriberUserColumn, SubscriberDomainColumn string
	// UseURITable is use_uri_table: check_to/check_from look the URI user
	// up in the uri table, does_uri_exist checks the uri table instead of
	// the subscriber table.
	UseURITable bool
	// UseDomain is use_domain: does_uri_exist compares the domain too.
	UseDomain bool
}

// Module is one server's uri instance.
type Module struct {
	cfg    Config
	log    *slog.Logger
	openDB func(string) (*store.Store, error)
	db     *store.Store
	// needURI and needSubscriber are set by the fixups of functions that
	// read those tables; Start opens the database only then. started is
	// set once Start ran: a script reloaded later that reads a table for
	// the first time opens and checks it itself (need).
	needURI, needSubscriber, started atomic.Bool
	dbTimeout                        time.Duration
}

// New returns a uri instance with SER's defaults.
func New() *Module {
	return &Module{
		cfg: Config{
			URITable: "uri", URIUserColumn: "username", URIDomainColumn: "domain", URIURIUserColumn: "uri_user",
			SubscriberTable: "subscriber", SubscriberUserColumn: "username", SubscriberDomainColumn: "domain",
		},
		log:       slog.Default(),
		dbTimeout: 5 * time.Second,
	}
}

// Config returns the module's parameters.
func (u *Module) Config() Config { return u.cfg }

func initModule(u *Module, env *module.Env) error {
	if env.Log != nil {
		u.log = env.Log
	}
	u.openDB = env.DB
	return nil
}

// Start opens the database when the script calls a function that reads
// it, and checks that the tables it will read have their columns (a bad
// name stops start-up instead of failing every call).
func (u *Module) Start(ctx context.Context) error {
	u.started.Store(true)
	if !u.needURI.Load() && !u.needSubscriber.Load() {
		return nil
	}
	return u.open(ctx)
}

// need records that a function of the script (fn) reads the uri table
// (uriTable) or the subscriber table. After start-up — a configuration
// reload — the database is opened and the table checked at once, as
// Start would have; an error refuses the reload.
func (u *Module) need(fn string, uriTable bool) error {
	flag := &u.needSubscriber
	if uriTable {
		flag = &u.needURI
	}
	if flag.Swap(true) || !u.started.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.dbTimeout)
	defer cancel()
	if err := u.open(ctx); err != nil {
		flag.Store(false)
		return fmt.Errorf("%s: %w", fn, err)
	}
	return nil
}

// open opens the database (once) and checks the tables the script reads.
func (u *Module) open(ctx context.Context) error {
	if u.db != nil {
		return u.UseStore(ctx, u.db)
	}
	if u.openDB == nil {
		return fmt.Errorf("uri_db: no database available (db_url %q)", u.cfg.DBURL)
	}
	st, err := u.openDB(u.cfg.DBURL)
	if err != nil {
		return fmt.Errorf("uri_db: %w", err)
	}
	return u.UseStore(ctx, st)
}

// UseStore makes the module read st, after checking the tables the
// script's calls need (tests; Start does it with the configured database).
func (u *Module) UseStore(ctx context.Context, st *store.Store) error {
	c := u.cfg
	if u.needURI.Load() {
		if err := st.CheckColumns(ctx, c.URITable, c.URIUserColumn, c.URIDomainColumn, c.URIURIUserColumn); err != nil {
			return fmt.Errorf("uri_db: %w", err)
		}
	}
	if u.needSubscriber.Load() {
		if err := st.CheckColumns(ctx, c.SubscriberTable, c.SubscriberUserColumn, c.SubscriberDomainColumn); err != nil {
			return fmt.Errorf("uri_db: %w", err)
		}
	}
	if u.db != st {
		u.db = st
	}
	return nil
}

// exists runs one lookup with the module's timeout; a database error is
// logged and counts as no row (the function is false, as SER's).
func (u *Module) exists(fn, table string, match ...store.Match) bool {
	if u.db == nil {
		u.log.Error("uri_db: database not open", "function", fn)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), u.dbTimeout)
	defer cancel()
	ok, err := u.db.RowExists(ctx, table, match...)
	if err != nil {
		u.log.Error("uri_db: query failed", "function", fn, "err", err)
		return false
	}
	return ok
}
