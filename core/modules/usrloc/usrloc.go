// Package usrloc is SER's user location module: in-memory tables
// ("location", "aliases", …) mapping addresses-of-record to their
// registered contacts, an expiry timer, and the ul_* FIFO commands.
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
	"sync"
	"sync/atomic"
	"time"
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

	runMu  sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	// tick overrides timer_interval (tests).
	tick time.Duration
}

// Config holds the module parameters.
type Config struct {
	// DBMode is db_mode: 0 memory only, 1 write-through, 2 write-back,
	// 3 read-only database. Only 0 is available yet.
	DBMode int
	// DBURL is db_url.
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
	// Columns are the database column names (user_column, …), for the
	// database backends.
	Columns Columns
}

// Columns are the location table's column names, set with the *_column
// modparams (SER 0.9 defaults).
type Columns struct {
	User, Domain, Contact, Expires, Q, CallID, CSeq, Method, Flags,
	UserAgent, Received, Replicate, State string
}

// New returns a module instance with SER's default parameters.
func New() *Module {
	m := &Module{
		cfg: Config{
			TimerInterval: 60,
			Columns: Columns{
				User: "username", Domain: "domain", Contact: "contact",
				Expires: "expires", Q: "q", CallID: "callid", CSeq: "cseq",
				Method: "method", Flags: "flags", UserAgent: "user_agent",
				Received: "received", Replicate: "replicate", State: "state",
			},
		},
		log:     slog.Default().With("module", "usrloc"),
		domains: make(map[string]*Domain),
	}
	m.ids.Store(0x1000)
	return m
}

// Config returns the module parameters in effect.
func (m *Module) Config() Config { return m.cfg }

// init checks the parameters once they are all set.
func (m *Module) init(log *slog.Logger) error {
	if log != nil {
		m.log = log
	}
	switch m.cfg.DBMode {
	case 0:
	case 1, 2, 3:
		return fmt.Errorf("usrloc: db_mode %d needs a database (db_url): persistence not available yet", m.cfg.DBMode)
	default:
		return fmt.Errorf("usrloc: db_mode %d: must be 0, 1, 2 or 3", m.cfg.DBMode)
	}
	m.descTimeOrder.Store(m.cfg.DescTimeOrder)
	return nil
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
// is loaded).
func (m *Module) Register(name string) *Domain {
	if d, ok := m.Domain(name); ok {
		return d
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.domains[name]; ok {
		return d
	}
	d := newDomain(m, name)
	m.domains[name] = d
	m.order = append([]*Domain{d}, m.order...)
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

// ExpireNow runs one pass of the expiry timer: every contact that is not
// valid now is removed from every table, then records left empty. It
// returns the number of contacts removed.
func (m *Module) ExpireNow() int {
	now := m.now().Unix()
	n := 0
	for _, d := range m.Domains() {
		n += d.expire(now)
	}
	return n
}

// Start launches the expiry timer: every timer_interval seconds expired
// contacts are removed. It implements module.Starter.
func (m *Module) Start(ctx context.Context) error {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.cancel != nil {
		return fmt.Errorf("usrloc: timer already started")
	}
	every := m.tick
	if every <= 0 {
		every = time.Duration(m.cfg.TimerInterval) * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	m.cancel, m.done = cancel, done
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n := m.ExpireNow(); n > 0 {
					m.log.Debug("timer removed expired contacts", "count", n)
				}
			}
		}
	}()
	return nil
}

// Stop ends the expiry timer and waits for it. It implements
// module.Stopper.
func (m *Module) Stop() {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel, m.done = nil, nil
}
