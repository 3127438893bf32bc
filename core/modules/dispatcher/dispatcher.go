// Package dispatcher is Kamailio's dispatcher module for ser: a stateless
// SIP load balancer over destination sets read from a list file or a
// database table. ds_select_dst(set, alg) picks a destination of a set
// (hash over Call-ID, From, To or R-URI, round-robin, random, first) and
// makes it the next hop; ds_next_dst() fails over to the next one (in a
// failure route, with t_relay); destinations are probed with OPTIONS
// through tm's local UAC and skipped while they are down. The FIFO
// commands ds_list, ds_set_state and ds_reload manage the sets at run time.
package dispatcher

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/store"
)

// DefaultListFile is the list file read when neither list_file nor
// db_url is set.
const DefaultListFile = "/etc/ser/dispatcher.list"

// loadTimeout bounds reading the dispatcher table.
const loadTimeout = 30 * time.Second

// Module flags (the "flags" modparam, Kamailio's values).
const (
	// FlagHashUserOnly makes the URI hashes (algorithms 1, 2, 3) use only
	// the user part of the URI.
	FlagHashUserOnly = 1
	// FlagFailover remembers the other destinations of the set at
	// selection, for ds_next_dst / ds_next_domain.
	FlagFailover = 2
)

// UAC originates the probes: tm's local UAC ((*tm.TM).Originate).
type UAC interface {
	Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error)
}

// Dispatcher is one dispatcher module instance.
type Dispatcher struct {
	listFile    string
	listFileSet bool
	dbURL       string
	dbURLSet    bool
	tableName   string

	flags      int
	useDefault bool
	forceDst   bool

	pingMethod   string
	pingFrom     string
	pingInterval time.Duration
	threshold    int
	probingMode  int

	log  *slog.Logger
	core module.Core
	st   *store.Store
	uac  UAC
	tab  atomic.Pointer[table]
	// rnd draws the random algorithm's choice; tests replace it.
	rnd func() uint64

	prober module.Periodic
}

// New returns an instance with Kamailio's defaults, except
// ds_probing_mode (1: every destination is probed) and force_dst (1).
func New() *Dispatcher {
	d := &Dispatcher{
		listFile:     DefaultListFile,
		tableName:    store.DispatcherTable,
		forceDst:     true,
		pingMethod:   "OPTIONS",
		pingFrom:     "sip:dispatcher@localhost",
		pingInterval: 10 * time.Second,
		threshold:    1,
		probingMode:  1,
		log:          slog.Default().With("module", "dispatcher"),
		rnd:          rand.Uint64,
	}
	d.tab.Store(&table{sets: map[int]*set{}})
	return d
}

func setListFile(d *Dispatcher, v module.Value) error {
	if v.String() == "" {
		return fmt.Errorf("dispatcher: list_file must not be empty")
	}
	d.listFile, d.listFileSet = v.String(), true
	return nil
}

// setDBURL sets db_url ("" = the server's default database); setting it
// makes the module read the table instead of a list file.
func setDBURL(d *Dispatcher, v module.Value) error {
	d.dbURL, d.dbURLSet = v.String(), true
	return nil
}

func setFlags(d *Dispatcher, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n < 0 || n > FlagHashUserOnly|FlagFailover {
		return fmt.Errorf("dispatcher: flags must be a combination of 1 (hash user only) and 2 (failover), not %d", n)
	}
	d.flags = n
	return nil
}

func setPingMethod(d *Dispatcher, v module.Value) error {
	s := v.String()
	if s == "" || strings.ContainsAny(s, " \t\r\n:;") {
		return fmt.Errorf("dispatcher: ds_ping_method %q is not a SIP method", s)
	}
	d.pingMethod = s
	return nil
}

func setPingFrom(d *Dispatcher, v module.Value) error {
	var u sip.Uri
	if err := sip.ParseUri(v.String(), &u); err != nil || u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips") {
		return fmt.Errorf("dispatcher: ds_ping_from %q is not a SIP URI", v.String())
	}
	d.pingFrom = v.String()
	return nil
}

func setPingInterval(d *Dispatcher, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("dispatcher: ds_ping_interval must not be negative, not %d", n)
	}
	d.pingInterval = time.Duration(n) * time.Second
	return nil
}

func setThreshold(d *Dispatcher, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("dispatcher: ds_probing_threshold must be at least 1, not %d", n)
	}
	d.threshold = n
	return nil
}

func setProbingMode(d *Dispatcher, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n != 0 && n != 1 {
		return fmt.Errorf("dispatcher: ds_probing_mode must be 0 or 1, not %d", n)
	}
	d.probingMode = n
	return nil
}

func initModule(d *Dispatcher, env *module.Env) error {
	if env.Log != nil {
		d.log = env.Log
	}
	d.core = env.Core
	if env.Check {
		d.core = nil // a config check resolves no destination (no DNS)
	}
	if t, ok := module.Get[*tm.TM](env, "tm"); ok {
		d.uac = t
	}
	if d.uac == nil && d.pingInterval > 0 {
		return fmt.Errorf("dispatcher: probing (ds_ping_interval %d) needs the tm module", int(d.pingInterval/time.Second))
	}
	if d.dbURLSet && d.listFileSet {
		return fmt.Errorf("dispatcher: set either list_file or db_url, not both")
	}
	if d.dbURLSet && env.Check {
		// A config check reads no tables (a list file is read).
		return env.CheckDBURL(d.dbURL)
	}
	if d.dbURLSet {
		st, err := env.OpenDB("dispatcher", d.dbURL)
		if err != nil {
			return err
		}
		d.st = st
	}
	if err := d.Reload(context.Background()); err != nil {
		return err
	}
	return nil
}

// SetUAC replaces the client that sends the probes (tests).
func (d *Dispatcher) SetUAC(u UAC) { d.uac = u }

// Reload reads the destination sets again — the table when db_url is set,
// else the list file — and swaps them in at once. On any error the sets in
// use stay. Destination states start from the flags read.
func (d *Dispatcher) Reload(ctx context.Context) error {
	var (
		entries []entry
		err     error
	)
	if d.st != nil {
		ctx, cancel := context.WithTimeout(ctx, loadTimeout)
		defer cancel()
		entries, err = d.loadDB(ctx)
	} else {
		var data []byte
		data, err = os.ReadFile(d.listFile)
		if err != nil {
			return fmt.Errorf("dispatcher: list_file: %w", err)
		}
		entries, err = parseList(d.listFile, data)
	}
	if err != nil {
		return err
	}
	tab := d.buildTable(entries)
	d.tab.Store(tab)
	d.log.Info("dispatcher: destination sets loaded", "sets", len(tab.ids), "destinations", tab.count)
	return nil
}

// loadDB reads the dispatcher table into entries, checking each row.
func (d *Dispatcher) loadDB(ctx context.Context) ([]entry, error) {
	rows, err := d.st.DispatcherDests(ctx, d.tableName)
	if err != nil {
		return nil, fmt.Errorf("dispatcher: %w", err)
	}
	entries := make([]entry, 0, len(rows))
	var errs []string
	for _, r := range rows {
		pos := fmt.Sprintf("table %s: row id %d", d.tableName, r.ID)
		e, err := newEntry(r.SetID, r.Destination, r.Flags, r.Priority)
		if err != nil {
			errs = append(errs, pos+": "+err.Error())
			continue
		}
		e.pos, e.description = pos, r.Description
		entries = append(entries, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dispatcher: %s", strings.Join(errs, "\n"))
	}
	return entries, nil
}
