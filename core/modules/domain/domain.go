// Package domain is SER 0.9's domain module: is_from_local() and
// is_uri_host_local() tell whether the host of the From URI or of the
// Request-URI is one of the domains this proxy serves, as listed in the
// domain table. With db_mode 0 every check queries the table; with
// db_mode 1 the table is held in memory (a hash table of 128 buckets, as
// SER's) and re-read by the domain_reload FIFO command; domain_dump
// prints it.
package domain

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

// hashSize is SER's HASH_SIZE: the buckets of the cache, the numbers
// domain_dump prints.
const hashSize = 128

// dbTimeout bounds one query of the domain table.
const dbTimeout = 5 * time.Second

// Config holds the module parameters.
type Config struct {
	// DBURL is db_url ("" = the server's default database).
	DBURL string
	// Cache is db_mode 1: hold the table in memory.
	Cache bool
	// Table and Column are domain_table and domain_col.
	Table, Column string
}

// Module is one server's domain instance.
type Module struct {
	cfg   Config
	log   *slog.Logger
	st    *store.Store
	cache atomic.Pointer[table]
}

// table is one loaded copy of the domain table: SER's hash table, each
// bucket's names in SER's order (the one inserted last first).
type table struct {
	buckets [hashSize][]string
}

// New returns an instance with SER's defaults (db_mode 0, table and
// column "domain").
func New() *Module {
	m := &Module{cfg: Config{Table: "domain", Column: "domain"}, log: slog.Default().With("module", "domain")}
	m.cache.Store(&table{})
	return m
}

// Config returns the module's parameters.
func (m *Module) Config() Config { return m.cfg }

// hash is SER's domain hash: h = h·31 + c over the name's bytes (C's
// signed char), modulo 128. Names are hashed in lower case, so a lookup
// finds a domain whatever the case of either.
func hash(name string) int {
	var h uint32
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = h<<5 - h + uint32(int32(int8(c)))
	}
	return int(h % hashSize)
}

func newTable(names []string) *table {
	t := &table{}
	for _, n := range names {
		i := hash(n)
		t.buckets[i] = append([]string{n}, t.buckets[i]...)
	}
	return t
}

func (t *table) has(host string) bool {
	for _, n := range t.buckets[hash(host)] {
		if strings.EqualFold(n, host) {
			return true
		}
	}
	return false
}

func setDBURL(m *Module, v module.Value) error {
	m.cfg.DBURL = v.String()
	return nil
}

func setDBMode(m *Module, n int) error {
	if n != 0 && n != 1 {
		return fmt.Errorf("db_mode %d: 0 (query the table) or 1 (cache it) expected", n)
	}
	m.cfg.Cache = n == 1
	return nil
}

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	if env.Check {
		return env.CheckDBURL(m.cfg.DBURL)
	}
	st, err := env.OpenDB("domain", m.cfg.DBURL)
	if err != nil {
		return err
	}
	return m.UseStore(st)
}

// UseStore makes the module read st: it checks the table and its column
// and, with db_mode 1, loads the table (a failure stops the start, as
// SER's "Domain table reload failed").
func (m *Module) UseStore(st *store.Store) error {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := st.CheckColumns(ctx, m.cfg.Table, m.cfg.Column); err != nil {
		return fmt.Errorf("domain: %w", err)
	}
	m.st = st
	if m.cfg.Cache {
		if err := m.Reload(ctx); err != nil {
			return fmt.Errorf("domain: domain table reload failed: %w", err)
		}
	}
	return nil
}

func (m *Module) schema() store.DomainSchema {
	return store.DomainSchema{Table: m.cfg.Table, Column: m.cfg.Column}
}

// Reload reads the domain table into a new cache and swaps it in; on an
// error the old one stays.
func (m *Module) Reload(ctx context.Context) error {
	if m.st == nil {
		return fmt.Errorf("database not open")
	}
	names, err := m.st.LocalDomains(ctx, m.schema())
	if err != nil {
		return err
	}
	m.cache.Store(newTable(names))
	m.log.Info("domain table loaded", "table", m.cfg.Table, "domains", len(names))
	return nil
}

// IsLocal reports whether host is a local domain: from the cache with
// db_mode 1, from the table with db_mode 0.
func (m *Module) IsLocal(ctx context.Context, host string) (bool, error) {
	if host == "" {
		return false, nil
	}
	if m.cfg.Cache {
		return m.cache.Load().has(host), nil
	}
	if m.st == nil {
		return false, fmt.Errorf("database not open")
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	return m.st.IsLocalDomainIn(ctx, m.schema(), host)
}

// check is the handler body of both functions: 1 when the host is local,
// -1 when not, when the message has no such URI or on a database error
// (logged).
func (m *Module) check(msg *sipmsg.Msg, what, host string, ok bool) int {
	if !ok {
		m.log.ErrorContext(module.MsgCtx(msg), "domain: cannot get the "+what+" host")
		return -1
	}
	local, err := m.IsLocal(context.Background(), host)
	if err != nil {
		m.log.ErrorContext(module.MsgCtx(msg), "domain: checking the domain table failed", "host", host, "err", err)
		return -1
	}
	if !local {
		m.log.DebugContext(module.MsgCtx(msg), "domain: not local", "host", host)
		return -1
	}
	return 1
}

// IsFromLocal is is_from_local(): is the From URI's host local.
func (m *Module) IsFromLocal(msg *sipmsg.Msg) int {
	if !msg.IsRequest() {
		return m.check(msg, "From", "", false)
	}
	f := msg.Req.From()
	if f == nil {
		return m.check(msg, "From", "", false)
	}
	return m.check(msg, "From", f.Address.Host, true)
}

// IsURIHostLocal is is_uri_host_local(): is the Request-URI's host local
// (the current one, after any rewrite).
func (m *Module) IsURIHostLocal(msg *sipmsg.Msg) int {
	if !msg.IsRequest() || msg.URI() == nil {
		return m.check(msg, "Request-URI", "", false)
	}
	return m.check(msg, "Request-URI", msg.URI().Host, true)
}

func fixupIsFromLocal(m *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) { return m.IsFromLocal(msg), nil }, nil
}

func fixupIsURIHostLocal(m *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) { return m.IsURIHostLocal(msg), nil }, nil
}
