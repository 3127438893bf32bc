package core

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"ser/core/store"
)

// DefaultDBURL is the database used when neither the db_url option nor a
// module's db_url modparam names one: an SQLite file in the working
// directory, created on first start.
const DefaultDBURL = "sqlite://ser.db"

// dbs opens each database once per server and shares it between modules.
type dbs struct {
	mu     sync.Mutex
	open   map[string]*store.Store
	def    string
	closed bool
}

// DB returns the store for url ("" = the default database), opening it
// (and applying the migrations) on first use.
func (s *Server) DB(dbURL string) (*store.Store, error) {
	d := &s.dbs
	d.mu.Lock()
	defer d.mu.Unlock()
	if dbURL == "" {
		dbURL = s.opts.DBURL
	}
	if dbURL == "" {
		dbURL = DefaultDBURL
	}
	if d.closed {
		return nil, fmt.Errorf("core: database %s: server stopped", redact(dbURL))
	}
	if st, ok := d.open[dbURL]; ok {
		return st, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dbURL, store.WithLogger(s.log.With("module", "store")),
		store.WithPlaintextPasswords(s.opts.StorePlaintextPasswords), store.WithFileMode(os.FileMode(s.opts.DBFileMode)),
		store.WithWorkers(len(s.workers)))
	if err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if d.open == nil {
		d.open = map[string]*store.Store{}
	}
	d.open[dbURL] = st
	return st, nil
}

// closeDBs closes every database the server opened.
func (s *Server) closeDBs() {
	d := &s.dbs
	d.mu.Lock()
	defer d.mu.Unlock()
	for u, st := range d.open {
		st.Close()
		delete(d.open, u)
	}
	d.closed = true
}

// redact hides a password in a database URL for messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(database url)"
}

// Database is an open database of the server, for statistics and health
// checks.
type Database struct {
	// Name is the database URL without its password.
	Name  string
	Store *store.Store
}

// Databases returns the databases the server (its modules, the console)
// opened, sorted by name.
func (s *Server) Databases() []Database {
	d := &s.dbs
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Database, 0, len(d.open))
	for u, st := range d.open {
		out = append(out, Database{Name: redact(u), Store: st})
	}
	slices.SortFunc(out, func(a, b Database) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Ready reports why the server cannot take traffic, or nil when it can:
// its SIP sockets are receiving, no shutdown was asked for and every
// database it opened answers a ping within ctx (for /ready).
func (s *Server) Ready(ctx context.Context) error {
	if s.tr == nil || !s.tr.Serving() {
		return errors.New("SIP listeners are not up")
	}
	select {
	case <-s.down:
		return errors.New("shutting down")
	default:
	}
	for _, db := range s.Databases() {
		if err := db.Store.Ping(ctx); err != nil {
			return fmt.Errorf("database %s does not answer: %w", db.Name, err)
		}
	}
	return nil
}
