// Package lcr is least cost routing with Inode's gateway capabilities:
// load_gws([caps]) picks the gateway trunks whose lcr rules match the
// Request-URI user and the From URI, ordered by prefix length, rule
// priority and trunk priority, random among equals; next_gw() tries them
// one after the other (the first in route, the next ones in failure
// routes); from_gw()/to_gw() recognise gateway addresses. The tables are
// held in memory and re-read by the lcr_reload FIFO command.
package lcr

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/store"
)

// loadTimeout bounds reading the LCR tables.
const loadTimeout = 30 * time.Second

// LCR is one lcr module instance.
type LCR struct {
	dbURL string

	log *slog.Logger
	st  *store.Store
	tm  *tm.TM
	tab atomic.Pointer[table]
	// rnd draws the tie-breakers among equal trunks; tests replace it.
	rnd func() uint64
}

// table is an immutable snapshot of gw, gw_cap, gw_grp and lcr.
type table struct {
	gws     []store.Gateway // by name, with trunks
	byGroup map[int][]int   // grp_id → indexes into gws
	rules   []store.LCRRule // longest prefix first, then priority
	ips     map[netip.Addr]bool
}

// New returns an instance reading the server's default database.
func New() *LCR {
	l := &LCR{log: slog.Default().With("module", "lcr"), rnd: rand.Uint64}
	l.tab.Store(&table{byGroup: map[int][]int{}, ips: map[netip.Addr]bool{}})
	return l
}

// setDBURL sets db_url ("" = the server's default database).
func setDBURL(l *LCR, v module.Value) error {
	l.dbURL = v.String()
	return nil
}

func initModule(l *LCR, env *module.Env) error {
	if env.Log != nil {
		l.log = env.Log
	}
	if env.Instance != nil {
		t, ok := module.Get[*tm.TM](env, "tm")
		if !ok {
			return fmt.Errorf("lcr: the tm module is not loaded")
		}
		l.tm = t
	}
	if env.Check {
		// A config check reads no tables.
		return env.CheckDBURL(l.dbURL)
	}
	st, err := env.OpenDB("lcr", l.dbURL)
	if err != nil {
		return err
	}
	l.st = st
	if err := l.Reload(context.Background()); err != nil {
		return err
	}
	return nil
}

// Reload reads the LCR tables and swaps them in at once; on any error
// (database, or an invalid gateway row as SER's reload_gws refused) the
// tables in use stay.
func (l *LCR) Reload(ctx context.Context) error {
	if l.st == nil {
		return fmt.Errorf("lcr: reload: no database")
	}
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	data, err := l.st.LoadLCR(ctx)
	if err != nil {
		return fmt.Errorf("lcr: reload: %w", err)
	}
	tab, err := buildTable(data)
	if err != nil {
		return err
	}
	l.tab.Store(tab)
	l.log.Info("lcr: gateways loaded", "gateways", len(tab.gws), "rules", len(tab.rules))
	return nil
}

// SetData installs LCR tables directly (tests, embedding).
func (l *LCR) SetData(data store.LCRData) error {
	tab, err := buildTable(data)
	if err != nil {
		return err
	}
	l.tab.Store(tab)
	return nil
}

// buildTable checks the rows and indexes them.
func buildTable(data store.LCRData) (*table, error) {
	tab := &table{gws: data.Gateways, byGroup: map[int][]int{}, rules: data.Rules, ips: map[netip.Addr]bool{}}
	for i, g := range tab.gws {
		switch {
		case !g.IP.Is4():
			return nil, fmt.Errorf("lcr: gateway %s: address %v is not IPv4", g.Name, g.IP)
		case g.Port < 0 || g.Port > 65535:
			return nil, fmt.Errorf("lcr: gateway %s: port %d out of range", g.Name, g.Port)
		case g.Scheme != 0 && g.Scheme != store.SchemeSIP && g.Scheme != store.SchemeSIPS:
			return nil, fmt.Errorf("lcr: gateway %s: unknown uri_scheme %d", g.Name, g.Scheme)
		case g.Transport < 0 || g.Transport > store.TransportTLS:
			return nil, fmt.Errorf("lcr: gateway %s: unknown transport %d", g.Name, g.Transport)
		}
		tab.byGroup[g.GroupID] = append(tab.byGroup[g.GroupID], i)
		tab.ips[g.IP] = true
	}
	return tab, nil
}
