// Package usrloc is SER's user location module: tables ("location",
// "aliases", …) mapping addresses-of-record to their registered contacts,
// an expiry timer, and the ul_* FIFO commands. The tables live in memory
// (db_mode 0), in memory backed by the SQL database written through (1)
// or back (2), or in the database only (3, Inode's cacheless usrloc-cl);
// see Backend.
//
// Other modules (registrar, the web console, XML-RPC) use the Go API of a
// *Module: Register or Domain to get a table, then Domain.Get,
// Domain.Update, Domain.Put, Domain.DeleteContact, Domain.DeleteAOR,
// Domain.Stats and Domain.Dump.
package usrloc

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"ser/core/module"
)

// Module is one server's usrloc instance.
type Module struct {
	cfg Config

	log   *slog.Logger
	clock atomic.Pointer[func() time.Time]
	ids   atomic.Uint64

	descTimeOrder atomic.Bool

	mu      sync.RWMutex
	domains map[string]*Domain
	order   []*Domain // SER's domain list: newest first

	// be is the database of db_mode 1–3 (nil in db_mode 0).
	be Backend
	// prepared is set once the tables are created and loaded (Start).
	prepared atomic.Bool
	// flushMu serialises flushes, so that an older state of a contact is
	// never written after a newer one.
	flushMu sync.Mutex
	// writeFailures counts failed write-through writes (db_mode 1).
	writeFailures atomic.Int64

	timer module.Periodic
	// tick overrides timer_interval (tests).
	tick time.Duration
}

// Config holds the module parameters.
type Config struct {
	// DBMode is db_mode: 0 memory only, 1 write-through, 2 write-back,
	// 3 database only (no cache).
	DBMode int
	// DBURL is db_url: the database of db_mode 1–3, "" for the server's
	// default database.
	DBURL string
	// TimerInterval is timer_interval in seconds: how often expired
	// contacts are removed.
	TimerInterval int
	// UseDomain makes the FIFO commands take user@domain AORs; without it
	// the "@domain" part is stripped.
	UseDomain bool
	// DescTimeOrder orders contacts by modification time only, newest
	// first, ignoring q.
	DescTimeOrder bool
	// CSeqDelay (cseq_delay, Kamailio's usrloc parameter, default 20 s):
	// a REGISTER repeating a contact's Call-ID and CSeq within this many
	// seconds of the contact's last change is taken as a retransmission
	// (the registrar answers 200 again); later it is refused as an old
	// CSeq (RFC 3261 §10.3 step 7).
	CSeqDelay int64
	// Columns are the database column names (user_column, …). The store
	// uses SER's names; other names are refused with db_mode 1–3.
	Columns Columns
}

// Columns are the location table's column names, set with the *_column
// modparams (SER 0.9 defaults).
type Columns struct {
	User, Domain, Contact, Expires, Q, CallID, CSeq, Method, Flags,
	UserAgent, Received, Replicate, State string
}

// defaultColumns are SER 0.9's location column names.
var defaultColumns = Columns{
	User: "username", Domain: "domain", Contact: "contact",
	Expires: "expires", Q: "q", CallID: "callid", CSeq: "cseq",
	Method: "method", Flags: "flags", UserAgent: "user_agent",
	Received: "received", Replicate: "replicate", State: "state",
}

// New returns a module instance with SER's default parameters.
func New() *Module {
	m := &Module{
		cfg:     Config{TimerInterval: 60, CSeqDelay: 20, Columns: defaultColumns},
		log:     slog.Default().With("module", "usrloc"),
		domains: make(map[string]*Domain),
	}
	m.ids.Store(0x1000)
	return m
}

// Config returns the module parameters in effect.
func (m *Module) Config() Config { return m.cfg }

// SetBackend makes b the database of db_mode 1–3 instead of the store the
// server's env.DB gives for db_url. Call it before Init.
func (m *Module) SetBackend(b Backend) { m.be = b }

// WriteFailures returns how many write-through writes (db_mode 1) failed
// since start; each was logged and queued for the timer to retry.
func (m *Module) WriteFailures() int64 { return m.writeFailures.Load() }

// init checks the parameters once they are all set and, with db_mode 1–3,
// opens the database.
func (m *Module) init(env *module.Env) error {
	if env != nil && env.Log != nil {
		m.log = env.Log
	}
	mode := m.cfg.DBMode
	switch mode {
	case 0:
		m.be = nil // memory only, whatever SetBackend said
	case 1, 2, 3:
		if m.cfg.Columns != defaultColumns {
			return fmt.Errorf("usrloc: db_mode %d: the *_column parameters must keep SER's column names (username, domain, contact, …): the database layer does not support others", mode)
		}
		if m.be == nil && env != nil && env.Check {
			if err := env.CheckDBURL(m.cfg.DBURL); err != nil {
				return fmt.Errorf("usrloc: db_mode %d: db_url %s: %w", mode, redactURL(m.cfg.DBURL), err)
			}
		} else if m.be == nil {
			if env == nil || env.DB == nil {
				return fmt.Errorf("usrloc: db_mode %d needs a database, but the server provides none", mode)
			}
			st, err := env.DB(m.cfg.DBURL)
			if err != nil {
				return fmt.Errorf("usrloc: db_mode %d needs a database: db_url %s: %w", mode, redactURL(m.cfg.DBURL), err)
			}
			m.be = NewStoreBackend(st, m.cfg.UseDomain)
		}
	default:
		return fmt.Errorf("usrloc: db_mode %d: must be 0, 1, 2 or 3", mode)
	}
	m.descTimeOrder.Store(m.cfg.DescTimeOrder)
	return nil
}

// redactURL quotes a db_url for messages, its password hidden.
func redactURL(raw string) string {
	if raw == "" {
		return `"" (the server's default database)`
	}
	if u, err := url.Parse(raw); err == nil {
		return fmt.Sprintf("%q", u.Redacted())
	}
	return "(unparsable url)"
}

// SetClock replaces the clock (time.Now) used for expiry, for tests and
// simulations. Call it before the module is used.
func (m *Module) SetClock(now func() time.Time) { m.clock.Store(&now) }

// Now returns the module's current time (time.Now unless SetClock
// replaced it): expiry times are computed against it.
func (m *Module) Now() time.Time { return m.now() }

func (m *Module) now() time.Time {
	if f := m.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// SetDescTimeOrder switches contact ordering to modification time only
// (newest first), as registrar's desc_time_order does. It applies to
// contacts saved from then on.
func (m *Module) SetDescTimeOrder(on bool) { m.descTimeOrder.Store(on) }

func (m *Module) nextID() uint64 { return m.ids.Add(1) }

// Register returns the table called name, creating it when it does not
// exist yet (SER's register_udomain, called when save("t") or lookup("t")
// is loaded). A table registered after Start is created in the database
// and loaded at once (an error is logged).
func (m *Module) Register(name string) *Domain {
	if d, ok := m.Domain(name); ok {
		return d
	}
	m.mu.Lock()
	if d, ok := m.domains[name]; ok {
		m.mu.Unlock()
		return d
	}
	d := newDomain(m, name)
	m.domains[name] = d
	m.order = append([]*Domain{d}, m.order...)
	m.mu.Unlock()
	if m.be != nil && m.prepared.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), bulkTimeout)
		defer cancel()
		if err := d.prepare(ctx); err != nil {
			m.log.Error("usrloc table not ready", "table", name, "err", err)
		}
	}
	return d
}

// Domain returns the existing table called name.
func (m *Module) Domain(name string) (*Domain, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.domains[name]
	return d, ok
}

// Domains returns the tables, most recently registered first (the order
// of ul_stats and ul_dump).
func (m *Module) Domains() []*Domain {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Domain(nil), m.order...)
}

// ExpireNow runs one pass of the expiry: every contact that is not valid
// now is removed from every table, then records left empty. With a
// database the expired rows are deleted there too (one statement per
// table); in db_mode 3 only there. It returns the number of contacts
// removed.
func (m *Module) ExpireNow() int {
	now := m.now().Unix()
	n := 0
	for _, d := range m.Domains() {
		n += d.expireAll(now)
	}
	return n
}

// Sync is one run of the timer (and ul_flush, SER's
// synchronize_all_udomains): Flush, then ExpireNow. It returns the flush
// error.
func (m *Module) Sync() error {
	err := m.Flush()
	if n := m.ExpireNow(); n > 0 {
		m.log.Debug("timer removed expired contacts", "count", n)
	}
	return err
}

// Start creates the tables of db_mode 1–3 in the database when missing,
// loads them into memory in db_mode 1 and 2, and launches the timer: every
// timer_interval seconds Sync runs. Exports.Start.
func (m *Module) Start(ctx context.Context) error {
	if m.be != nil && !m.prepared.Load() {
		lctx, cancel := context.WithTimeout(ctx, bulkTimeout)
		for _, d := range m.Domains() {
			if err := d.prepare(lctx); err != nil {
				cancel()
				return err
			}
		}
		cancel()
		m.prepared.Store(true)
	}
	every := m.tick
	if every <= 0 {
		every = time.Duration(m.cfg.TimerInterval) * time.Second
	}
	// timer_interval 0: no timer. A db_mode 3 proxy reading a read-only
	// replica leaves expiring rows to the registrars.
	if err := m.timer.Start(ctx, every, func() { _ = m.Sync() }); err != nil { // Flush logs errors
		return fmt.Errorf("usrloc: timer: %w", err)
	}
	return nil
}

// Stop ends the timer and waits for it, then (db_mode 1 and 2) writes
// the changes not yet in the database, so that a clean shutdown loses
// nothing. Exports.Stop.
func (m *Module) Stop() {
	m.timer.Stop()
	if err := m.Flush(); err != nil {
		m.log.Error("usrloc: changes lost at shutdown: database error", "err", err)
	}
}

// CSeqDelay returns cseq_delay in seconds (see Config.CSeqDelay).
func (m *Module) CSeqDelay() int64 { return m.cfg.CSeqDelay }
