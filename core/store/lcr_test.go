package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestIPEncoding(t *testing.T) {
	tests := []struct {
		ip   string
		want int64
	}{
		{"127.0.0.1", 16777343},
		{"192.168.0.10", 167815360},
		{"255.255.255.255", 4294967295},
		{"0.0.0.0", 0},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			got, err := ipToSER(ip)
			if err != nil || got != tc.want {
				t.Errorf("ipToSER(%s) = %d, %v; want %d", tc.ip, got, err, tc.want)
			}
			if back := ipFromSER(got); back != ip {
				t.Errorf("ipFromSER(%d) = %s", got, back)
			}
		})
	}
	if _, err := ipToSER(netip.MustParseAddr("::1")); !errors.Is(err, ErrInvalid) {
		t.Errorf("IPv6: %v", err)
	}
}

// inodeLCR loads Inode's LCR-Capability example: sipgw1 … sipgw6 in group
// 1; sipgw2 and sipgw6 have phone (cap 1, prefix "01") and fax (cap 2,
// prefix "02") trunks, the others phone only without prefix. Phone
// priorities: sipgw6 1; sipgw1, 3, 4, 5 2; sipgw2 3. Fax: sipgw6 and
// sipgw2 both 1. A second group 2 holds gw-intl for the prefix "00".
func inodeLCR(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	g1, err := s.AddGatewayGroup(ctx, "pstn")
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := s.AddGatewayGroup(ctx, "international")
	if g1 != 1 || g2 != 2 {
		t.Fatalf("group ids %d %d", g1, g2)
	}
	for i := 1; i <= 6; i++ {
		g := Gateway{Name: fmt.Sprintf("sipgw%d", i), GroupID: g1, IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}),
			Port: 5060, Scheme: SchemeSIP, Transport: TransportUDP}
		switch i {
		case 2:
			g.Trunks = []Trunk{{Cap: 1, Prefix: "01", Priority: 3}, {Cap: 2, Prefix: "02", Priority: 1}}
		case 6:
			g.Trunks = []Trunk{{Cap: 1, Prefix: "01", Priority: 1}, {Cap: 2, Prefix: "02", Priority: 1}}
		default:
			g.Trunks = []Trunk{{Cap: 1, Priority: 2}}
		}
		if err := s.AddGateway(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddGateway(ctx, Gateway{Name: "gw-intl", GroupID: g2, IP: netip.MustParseAddr("192.0.2.9"), Prefix: "99",
		Trunks: []Trunk{{Cap: 3, Priority: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []LCRRule{
		{Prefix: "", GroupID: g1, Priority: 2},
		{Prefix: "00", GroupID: g2, Priority: 1},
		{Prefix: "00", FromURI: "sip:vip%", GroupID: g1, Priority: 0},
	} {
		if err := s.AddLCRRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadLCR(t *testing.T) { forEachEngine(t, testLoadLCR) }

func testLoadLCR(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	inodeLCR(t, s)
	d, err := s.LoadLCR(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Gateways) != 7 || len(d.Groups) != 2 || len(d.Rules) != 3 {
		t.Fatalf("loaded %d gateways, %d groups, %d rules", len(d.Gateways), len(d.Groups), len(d.Rules))
	}
	gw2 := d.Gateways[2] // gw-intl, sipgw1, sipgw2 …
	if gw2.Name != "sipgw2" || gw2.IP != netip.MustParseAddr("10.0.0.2") || gw2.Port != 5060 || gw2.Scheme != SchemeSIP ||
		gw2.Transport != TransportUDP || len(gw2.Trunks) != 2 || gw2.Trunks[0] != (Trunk{Cap: 2, Prefix: "02", Priority: 1}) {
		t.Errorf("sipgw2 = %+v", gw2)
	}
	if intl := d.Gateways[0]; intl.Name != "gw-intl" || intl.Port != 0 || intl.Scheme != 0 || intl.Prefix != "99" {
		t.Errorf("gw-intl = %+v", intl)
	}
	if d.Rules[0].Prefix != "00" || d.Rules[0].Priority != 0 || d.Rules[0].FromURI != "sip:vip%" || d.Rules[1].GroupID != 2 || d.Rules[2].Prefix != "" || d.Rules[2].FromURI != "%" {
		t.Errorf("rules %+v", d.Rules)
	}
	if d.Groups[1] != (GatewayGroup{ID: 2, Name: "international"}) {
		t.Errorf("groups %+v", d.Groups)
	}
}

func TestMatchGateways(t *testing.T) { forEachEngine(t, testMatchGateways) }

func testMatchGateways(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	inodeLCR(t, s)
	describe := func(ms []GatewayMatch) string {
		var out []string
		for _, m := range ms {
			d := m.Name
			if m.Trunk != nil {
				d += fmt.Sprintf("/%d:%s:%d", m.Trunk.Cap, m.Trunk.Prefix, m.Trunk.Priority)
			}
			out = append(out, d)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name      string
		user, frm string
		caps      int
		want      string
	}{
		{"national, no caps", "0431234", "sip:alice@example.com", 0, "sipgw1 sipgw2 sipgw3 sipgw4 sipgw5 sipgw6"},
		{"phone", "0431234", "sip:alice@example.com", 1,
			"sipgw6/1:01:1 sipgw1/1::2 sipgw3/1::2 sipgw4/1::2 sipgw5/1::2 sipgw2/1:01:3"},
		{"fax", "0431234", "sip:alice@example.com", 2, "sipgw2/2:02:1 sipgw6/2:02:1"},
		{"international: longest prefix first", "0049301234", "sip:alice@example.com", 2,
			"gw-intl/3::1 sipgw2/2:02:1 sipgw6/2:02:1"},
		{"from_uri pattern", "0049301234", "sip:vip@example.com", 2,
			"sipgw2/2:02:1 sipgw6/2:02:1 gw-intl/3::1 sipgw2/2:02:1 sipgw6/2:02:1"},
		{"from_uri pattern, other case", "0049301234", "SIP:VIP@example.com", 2,
			"sipgw2/2:02:1 sipgw6/2:02:1 gw-intl/3::1 sipgw2/2:02:1 sipgw6/2:02:1"},
		{"unknown capability", "0431234", "sip:alice@example.com", 8, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := s.MatchGateways(ctx, tc.user, tc.frm, tc.caps)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(ms); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	ms, _ := s.MatchGateways(ctx, "0049", "sip:x@y", 0)
	if ms[0].Name != "gw-intl" || ms[0].RulePrefix != "00" || ms[0].IP != netip.MustParseAddr("192.0.2.9") || ms[0].Prefix != "99" {
		t.Errorf("first match %+v", ms[0])
	}
}

func TestLCRMaintenance(t *testing.T) { forEachEngine(t, testLCRMaintenance) }

func testLCRMaintenance(t *testing.T, e engine) {
	ctx := context.Background()
	s, _ := e.open(t)
	inodeLCR(t, s)
	if err := s.AddGateway(ctx, Gateway{Name: "sipgw1", IP: netip.MustParseAddr("10.9.9.9")}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate gateway: %v", err)
	}
	if err := s.SetTrunk(ctx, "sipgw1", Trunk{Cap: 1, Prefix: "07", Priority: 9}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTrunk(ctx, "sipgw1", Trunk{Cap: 4, Prefix: "04", Priority: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTrunk(ctx, "nosuch", Trunk{Cap: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("trunk of unknown gateway: %v", err)
	}
	d, _ := s.LoadLCR(ctx)
	if gw1 := d.Gateways[1]; gw1.Name != "sipgw1" || len(gw1.Trunks) != 2 || gw1.Trunks[1] != (Trunk{Cap: 1, Prefix: "07", Priority: 9}) {
		t.Errorf("sipgw1 = %+v", gw1)
	}
	if err := s.DeleteTrunk(ctx, "sipgw1", 4); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTrunk(ctx, "sipgw1", 4); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing trunk: %v", err)
	}
	if err := s.DeleteGateway(ctx, "sipgw2"); err != nil {
		t.Fatal(err)
	}
	var n int
	s.r.QueryRow("SELECT COUNT(*) FROM gw_cap WHERE gw_name = 'sipgw2'").Scan(&n)
	if n != 0 {
		t.Errorf("sipgw2 left %d trunks", n)
	}
	if err := s.DeleteGateway(ctx, "sipgw2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing gateway: %v", err)
	}
	// The foreign key refuses a trunk of no gateway.
	if _, err := s.w.Exec("INSERT INTO gw_cap (gw_name, cap) VALUES ('ghost', 1)"); err == nil {
		t.Error("gw_cap accepted a trunk of an unknown gateway")
	}
	if err := s.DeleteLCRRule(ctx, LCRRule{Prefix: "00", GroupID: 2, Priority: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLCRRule(ctx, LCRRule{Prefix: "00", GroupID: 2, Priority: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing rule: %v", err)
	}
	if err := s.DeleteGatewayGroup(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGatewayGroup(ctx, 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing group: %v", err)
	}
	if err := s.AddGateway(ctx, Gateway{Name: "v6", IP: netip.MustParseAddr("2001:db8::1")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("IPv6 gateway: %v", err)
	}
}
