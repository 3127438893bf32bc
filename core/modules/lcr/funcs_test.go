package lcr

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

const testInvite = `INVITE sip:4930123@proxy.inode.at SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKlcr1
Max-Forwards: 10
From: <sip:alice@inode.at>;tag=a1
To: <sip:4930123@proxy.inode.at>
Call-ID: lcr-1
CSeq: 1 INVITE
Content-Length: 0

`

// call binds fn(args…) on l and runs it on m.
func call(t *testing.T, l *LCR, env *module.Env, m *sipmsg.Msg, fn string, args ...any) int {
	t.Helper()
	h := modtest.Bind(t, Exports, l, env, fn, args...)
	ret, err := h(m)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return ret
}

func TestLoadAndNextGW(t *testing.T) {
	st := openStore(t)
	fillStore(t, st, inodeData())
	l, env := loadModule(t, st, map[string]any{"db_url": "", "gw_table": "gw", "priority_column": "priority"})
	m := modtest.Parse(t, testInvite)

	if ret := call(t, l, env, m, "next_gw"); ret != -1 {
		t.Errorf("next_gw before load_gws = %d", ret)
	}
	if ret := call(t, l, env, m, "load_gws", "2"); ret != 1 {
		t.Fatalf("load_gws = %d", ret)
	}
	var got []string
	for call(t, l, env, m, "next_gw") == 1 {
		got = append(got, m.URIString())
	}
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("fax targets %v", got)
	}
	for _, u := range got {
		if u != "sip:024930123@10.0.0.6:5060" && u != "sip:024930123@10.0.0.2:5060" {
			t.Errorf("fax target %s", u)
		}
	}

	// The user may change between load_gws and the first next_gw.
	m = modtest.Parse(t, testInvite)
	call(t, l, env, m, "load_gws", 1)
	m.URI().User = "0043" + m.URI().User
	m.URIChanged()
	got = nil
	for call(t, l, env, m, "next_gw") == 1 {
		got = append(got, m.URIString())
	}
	if len(got) != 6 || got[0] != "sip:0100434930123@10.0.0.6:5060" ||
		got[5] != "sip:0100434930123@10.0.0.2:5060" || !strings.HasPrefix(got[1], "sip:004349301") {
		t.Errorf("phone targets %v", got)
	}

	// No matching rule: load_gws is true, next_gw false.
	if err := st.DeleteLCRRule(context.Background(), store.LCRRule{Prefix: "", FromURI: "%", GroupID: 1, Priority: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	m = modtest.Parse(t, testInvite)
	if call(t, l, env, m, "load_gws") != 1 || call(t, l, env, m, "next_gw") != -1 || m.URIString() != "sip:4930123@proxy.inode.at" {
		t.Errorf("without rules: uri %s", m.URIString())
	}
}

func TestTargetURI(t *testing.T) {
	g := &store.Gateway{Name: "g", IP: netip4(192, 168, 0, 10), Prefix: "9"}
	tests := []struct {
		name  string
		mod   func(*store.Gateway)
		trunk *store.Trunk
		user  string
		want  string
	}{
		{"plain", nil, nil, "123", "sip:9123@192.168.0.10"},
		{"port and tcp", func(g *store.Gateway) { g.Port = 5070; g.Transport = store.TransportTCP }, nil, "1", "sip:91@192.168.0.10:5070;transport=tcp"},
		{"sips tls", func(g *store.Gateway) { g.Scheme = store.SchemeSIPS; g.Transport = store.TransportTLS }, nil, "1", "sips:91@192.168.0.10;transport=tls"},
		{"udp", func(g *store.Gateway) { g.Scheme = store.SchemeSIP; g.Transport = store.TransportUDP }, nil, "1", "sip:91@192.168.0.10;transport=udp"},
		{"trunk prefix first", nil, &store.Trunk{Cap: 2, Prefix: "02"}, "5", "sip:0295@192.168.0.10"},
		{"no user", func(g *store.Gateway) { g.Prefix = "" }, nil, "", "sip:192.168.0.10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gg := *g
			if tc.mod != nil {
				tc.mod(&gg)
			}
			if got := (Target{Gateway: &gg, Trunk: tc.trunk}).URI(tc.user); got != tc.want {
				t.Errorf("URI = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestFromToGW(t *testing.T) {
	st := openStore(t)
	fillStore(t, st, inodeData())
	l, env := loadModule(t, st, nil)
	tests := []struct {
		name, src, ruri string
		from, to        int
	}{
		{"gateway", "10.0.0.3:5060", "sip:1@10.0.0.5:5060", 1, 1},
		{"phone", "192.0.2.10:5060", "sip:1@proxy.inode.at", -1, -1},
		{"mapped address", "[::ffff:10.0.0.1]:5060", "sip:1@10.0.0.9", 1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := modtest.Parse(t, strings.Replace(testInvite, "sip:4930123@proxy.inode.at SIP", tc.ruri+" SIP", 1), modtest.From(tc.src))
			if got := call(t, l, env, m, "from_gw"); got != tc.from {
				t.Errorf("from_gw = %d, want %d", got, tc.from)
			}
			if got := call(t, l, env, m, "to_gw"); got != tc.to {
				t.Errorf("to_gw = %d, want %d", got, tc.to)
			}
		})
	}
}

func TestFixupAndParams(t *testing.T) {
	st := openStore(t)
	l, env := loadModule(t, st, nil)
	for _, arg := range []any{"fax", -1} {
		if _, err := modtest.BindErr(Exports, l, env, "load_gws", arg); err == nil {
			t.Errorf("load_gws(%v) accepted", arg)
		}
	}
	for _, p := range []struct {
		name, val string
		ok        bool
	}{
		{"gw_table", "gw", true}, {"gw_table", "gateways", false}, {"lcr_table", "lcr", true},
		{"from_uri_column", "from", false}, {"db_url", "sqlite://x.db", true},
	} {
		mp, _ := Exports.FindParam(p.name)
		if err := mp.Set(New(), modtest.Str(p.val)); (err == nil) != p.ok {
			t.Errorf("%s=%q: %v, want ok=%v", p.name, p.val, err, p.ok)
		}
	}
	env = modtest.Env(t, modtest.NewCore(), nil)
	env.Instance = nil
	if _, err := modtest.LoadEnv(Exports, env, nil); err == nil {
		t.Error("init without a database succeeded")
	}
}

func TestFIFO(t *testing.T) {
	st := openStore(t)
	data := inodeData()
	data.Gateways = data.Gateways[:2]
	data.Gateways[1].Port = 0
	fillStore(t, st, data)
	_, env := loadModule(t, st, nil)
	exec := func(cmd string) string {
		return env.RPC.Execute(context.Background(), cmd, rpc.Lines(nil), rpc.FIFO).Text
	}
	if got, want := exec("lcr_dump"), "200 OK\nsip:10.0.0.1:5060\nsip:10.0.0.2\n"; got != want {
		t.Errorf("lcr_dump = %q, want %q", got, want)
	}
	// In process (JSON-RPC) the gateways come as a value.
	v, _ := json.Marshal(env.RPC.Execute(context.Background(), "lcr_dump", nil, rpc.FIFO).Value)
	if !strings.Contains(string(v), `"uri":"sip:10.0.0.1:5060","ip":"10.0.0.1","port":5060,"scheme":"sip"`) {
		t.Errorf("lcr_dump value: %s", v)
	}
	ctx := context.Background()
	if err := st.AddGateway(ctx, store.Gateway{Name: "zz", GroupID: 1, IP: netip4(10, 1, 1, 1), Port: 5061,
		Scheme: store.SchemeSIPS, Transport: store.TransportTLS}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGateway(ctx, store.Gateway{Name: "tcp", GroupID: 1, IP: netip4(10, 1, 1, 2), Transport: store.TransportTCP}); err != nil {
		t.Fatal(err)
	}
	if got := exec("lcr_dump"); strings.Contains(got, "10.1.1.1") {
		t.Errorf("dump before reload shows the new gateway: %q", got)
	}
	if got := exec("lcr_reload"); got != "200 OK\n" {
		t.Errorf("lcr_reload = %q", got)
	}
	if got, want := exec("lcr_dump"), "200 OK\nsip:10.0.0.1:5060\nsip:10.0.0.2\nsip:10.1.1.2:tcp\nsips:10.1.1.1:5061:tls\n"; got != want {
		t.Errorf("lcr_dump = %q, want %q", got, want)
	}
	// An invalid row makes the reload fail; the tables in use stay.
	if err := st.AddGateway(ctx, store.Gateway{Name: "bad", GroupID: 1, IP: netip4(10, 1, 1, 3), Scheme: 7}); err != nil {
		t.Fatal(err)
	}
	if got := exec("lcr_reload"); got != "400 Reload of gateways failed\n" {
		t.Errorf("lcr_reload of a bad row = %q", got)
	}
	if got := exec("lcr_dump"); strings.Contains(got, "10.1.1.3") || !strings.Contains(got, "10.1.1.1") {
		t.Errorf("dump after a failed reload: %q", got)
	}
}
