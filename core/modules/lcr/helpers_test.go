package lcr

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"ser/core/module"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// Capabilities of Inode's example.
const (
	capPhone = 1
	capFax   = 2
)

// inodeGateways are the seed's six gateways: sipgw2 and sipgw6 have a
// phone trunk (prefix "01") and a fax trunk ("02"), the others a phone
// trunk without prefix. Phone priorities: sipgw6 1, sipgw1/3/4/5 2,
// sipgw2 3; both fax trunks 1. Addresses are 10.0.0.N unless ip gives
// one per name; ports 5060 unless port does.
func inodeGateways(ip func(n int) netip.Addr, port func(n int) int) []store.Gateway {
	if ip == nil {
		ip = func(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(n)}) }
	}
	if port == nil {
		port = func(int) int { return 5060 }
	}
	var gws []store.Gateway
	for n := 1; n <= 6; n++ {
		g := store.Gateway{Name: fmt.Sprintf("sipgw%d", n), GroupID: 1, IP: ip(n), Port: port(n)}
		switch n {
		case 6:
			g.Trunks = []store.Trunk{{Cap: capPhone, Prefix: "01", Priority: 1}, {Cap: capFax, Prefix: "02", Priority: 1}}
		case 2:
			g.Trunks = []store.Trunk{{Cap: capPhone, Prefix: "01", Priority: 3}, {Cap: capFax, Prefix: "02", Priority: 1}}
		default:
			g.Trunks = []store.Trunk{{Cap: capPhone, Priority: 2}}
		}
		gws = append(gws, g)
	}
	return gws
}

// inodeData is the seed with one rule: every number, every caller, group 1.
func inodeData() store.LCRData {
	return store.LCRData{
		Gateways: inodeGateways(nil, nil),
		Groups:   []store.GatewayGroup{{ID: 1, Name: "inode"}},
		Rules:    []store.LCRRule{{Prefix: "", FromURI: "%", GroupID: 1, Priority: 1}},
	}
}

// seeded returns an instance over data with a deterministic random
// source.
func seeded(t *testing.T, data store.LCRData, seed uint64) *LCR {
	t.Helper()
	l := New()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	l.rnd = r.Uint64
	if err := l.SetData(data); err != nil {
		t.Fatal(err)
	}
	return l
}

// openStore opens a fresh SQLite database.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "lcr.db"),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fillStore writes data into st.
func fillStore(t *testing.T, st *store.Store, data store.LCRData) {
	t.Helper()
	ctx := context.Background()
	for _, g := range data.Groups {
		if _, err := st.AddGatewayGroup(ctx, g.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range data.Gateways {
		if err := st.AddGateway(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range data.Rules {
		if err := st.AddLCRRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// loadModule loads lcr over st through its export table (modparams,
// Init, FIFO commands); tm is absent, so next_gw acts as in a request
// route.
func loadModule(t *testing.T, st *store.Store, params map[string]any) (*LCR, *module.Env) {
	t.Helper()
	env := modtest.Env(t, modtest.NewCore(), nil)
	env.Instance = nil
	env.DB = func(string) (*store.Store, error) { return st, nil }
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*LCR), env
}

// netip4 builds an IPv4 address.
func netip4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }
