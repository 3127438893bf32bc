package nathelper

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// pingFixture is nathelper over a memory usrloc with contacts.
type pingFixture struct {
	n    *NATHelper
	ul   *usrloc.Module
	core *modtest.Core
	env  *module.Env
}

func newPingFixture(t *testing.T, params map[string]any) *pingFixture {
	t.Helper()
	core := modtest.NewCore()
	ulInst, err := modtest.LoadEnv(usrloc.Exports, modtest.DiscardEnv(core), nil)
	if err != nil {
		t.Fatal(err)
	}
	ul := ulInst.(*usrloc.Module)
	env := modtest.Env(t, core, map[string]any{"usrloc": ul})
	p := map[string]any{"natping_interval": 30}
	for k, v := range params {
		p[k] = v
	}
	inst, err := modtest.LoadEnv(Exports, env, p)
	if err != nil {
		t.Fatal(err)
	}
	return &pingFixture{n: inst.(*NATHelper), ul: ul, core: core, env: env}
}

// add registers a contact in table.
func (f *pingFixture) add(t *testing.T, table, aor string, c usrloc.Contact) {
	t.Helper()
	c.Expires = f.ul.Now().Unix() + 3600
	c.Q = usrloc.QUnset
	if err := f.ul.Register(table).Put(aor, c); err != nil {
		t.Fatal(err)
	}
}

// pinged returns "proto:ip:port" of every packet sent, with its data.
func (f *pingFixture) pinged() map[string]string {
	out := map[string]string{}
	for _, p := range f.core.Packets() {
		out[p.Dst.String()] = string(p.Data)
	}
	return out
}

func (f *pingFixture) contacts(t *testing.T) {
	f.add(t, "location", "alice", usrloc.Contact{URI: "sip:alice@10.0.0.5:5060", Received: "sip:203.0.113.5:40312", Flags: usrloc.FlagNAT})
	f.add(t, "location", "alice", usrloc.Contact{URI: "sip:alice@10.0.0.6:5060", Received: "sip:203.0.113.5:40312", Flags: usrloc.FlagNAT}) // same NAT binding
	f.add(t, "location", "bob", usrloc.Contact{URI: "sip:bob@192.0.2.20:5070"})
	f.add(t, "location", "carol", usrloc.Contact{URI: "sip:carol@10.0.0.7", Received: "sip:203.0.113.7:1024;transport=tcp", Flags: usrloc.FlagNAT})
	f.add(t, "aliases", "1234", usrloc.Contact{URI: "sip:dave@192.0.2.30", Flags: usrloc.FlagPermanent})
}

func TestPingAll(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"every contact", nil, []string{"udp:203.0.113.5:40312", "udp:192.0.2.20:5070", "udp:192.0.2.30:5060"}},
		{"nated only", map[string]any{"ping_nated_only": 1}, []string{"udp:203.0.113.5:40312"}},
		{"one table", map[string]any{"natping_tables": "location"}, []string{"udp:203.0.113.5:40312", "udp:192.0.2.20:5070"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPingFixture(t, tc.params)
			f.contacts(t)
			if n := f.n.PingAll(); n != len(tc.want) {
				t.Fatalf("sent %d, want %d: %v", n, len(tc.want), f.pinged())
			}
			got := f.pinged()
			for _, w := range tc.want {
				if got[w] != "\r\n\r\n" {
					t.Errorf("%s: %q", w, got[w])
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("pinged %v", got)
			}
			for _, p := range f.core.Packets() {
				if p.Dst.Sock != modtest.UDPSocket {
					t.Errorf("ping to %s from socket %v", p.Dst, p.Dst.Sock)
				}
			}
		})
	}
}

func TestSIPPing(t *testing.T) {
	f := newPingFixture(t, map[string]any{"sipping_from": "sip:pinger@example.com", "ping_nated_only": 1})
	f.contacts(t)
	f.n.PingAll()
	got := f.pinged()["udp:203.0.113.5:40312"]
	m, err := sipmsg.Parse([]byte(got))
	if err != nil {
		t.Fatalf("SIP ping does not parse: %v\n%s", err, got)
	}
	if !strings.HasPrefix(got, "OPTIONS sip:alice@10.0.0.") || m.Via().Host != "127.0.0.1" || m.Via().Port != 5060 ||
		!strings.Contains(got, "From: <sip:pinger@example.com>;tag=") || !strings.Contains(got, "CSeq: 1 OPTIONS\r\n") ||
		!strings.Contains(got, "Call-ID: natping-") {
		t.Fatalf("SIP ping:\n%s", got)
	}
}

func TestPingSwitchAndStats(t *testing.T) {
	f := newPingFixture(t, nil)
	f.contacts(t)
	run := func(cmd string, params ...string) string {
		return f.env.RPC.Execute(context.Background(), cmd, rpc.Lines(params), rpc.FIFO).Text
	}
	f.n.PingAll()
	if got := run("nh_ping_stats"); got != "200 OK\nnatping:: on\nnatping_interval:: 30\nrounds:: 1\nsent:: 3\nerrors:: 0\nlast_round:: 3\n" {
		t.Fatalf("nh_ping_stats: %q", got)
	}
	for _, tc := range []struct {
		params []string
		reply  string
	}{
		{nil, "400 Too few or too many arguments\n"},
		{[]string{"x"}, "400 Bad parameter\n"},
		{[]string{"0"}, "200 OK\n"},
	} {
		if got := run("nh_enable_ping", tc.params...); got != tc.reply {
			t.Fatalf("nh_enable_ping %v: %q", tc.params, got)
		}
	}
	if n := f.n.PingAll(); n != 0 {
		t.Fatalf("pinged %d while switched off", n)
	}
	if got := run("nh_ping_stats"); !strings.HasPrefix(got, "200 OK\nnatping:: off\n") {
		t.Fatalf("nh_ping_stats when off: %q", got)
	}
	run("nh_enable_ping", "1")
	if n := f.n.PingAll(); n != 3 {
		t.Fatalf("pinged %d after switching on", n)
	}
	// Send failures are counted.
	f.core.Err = modtest.ErrInjected
	f.n.PingAll()
	if s := f.n.Stats(); s.Errors != 3 || s.Rounds != 3 || s.Sent != 6 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPingerStartStop(t *testing.T) {
	f := newPingFixture(t, map[string]any{"natping_tables": "nat"})
	f.n.pingInterval = 10 * time.Millisecond
	if err := f.n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer f.n.Stop()
	if _, ok := f.ul.Domain("nat"); !ok {
		t.Fatal("natping_tables not registered in usrloc")
	}
	f.add(t, "nat", "alice", usrloc.Contact{URI: "sip:alice@10.0.0.5", Received: "sip:203.0.113.5:40312", Flags: usrloc.FlagNAT})
	deadline := time.Now().Add(5 * time.Second)
	for len(f.core.Packets()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.n.Stop()
	n := len(f.core.Packets())
	if n < 3 {
		t.Fatalf("%d pings in 5 s", n)
	}
	time.Sleep(30 * time.Millisecond)
	if len(f.core.Packets()) != n {
		t.Fatal("pings after Stop")
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"pinging without usrloc", map[string]any{"natping_interval": 10}, "needs the usrloc module"},
		{"tables without pinging", map[string]any{"natping_tables": "location"}, "NAT pinging is off"},
		{"empty tables", map[string]any{"natping_tables": " , "}, "names no table"},
		{"negative interval", map[string]any{"natping_interval": -1}, "must not be negative"},
		{"bad sipping_from", map[string]any{"sipping_from": "pinger"}, "is not a SIP URI"},
		{"bad sipping_method", map[string]any{"sipping_method": "A B"}, "is not a SIP method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// gateCore holds every Send until release is closed.
type gateCore struct {
	*modtest.Core
	entered chan struct{}
	release chan struct{}
}

func (g *gateCore) Send(dst sipmsg.Dest, data []byte) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	return g.Core.Send(dst, data)
}

// TestSwitchOffWaitsForRound: nh_enable_ping 0 answers only once a round
// in progress has sent its last ping, so nothing leaves after the answer.
func TestSwitchOffWaitsForRound(t *testing.T) {
	f := newPingFixture(t, nil)
	f.contacts(t)
	g := &gateCore{Core: f.core, entered: make(chan struct{}, 1), release: make(chan struct{})}
	f.n.core = g
	round := make(chan int, 1)
	go func() { round <- f.n.PingAll() }()
	<-g.entered
	replied := make(chan string, 1)
	go func() {
		replied <- f.env.RPC.Execute(context.Background(), "nh_enable_ping", rpc.Lines([]string{"0"}), rpc.FIFO).Text
	}()
	select {
	case r := <-replied:
		t.Fatalf("nh_enable_ping 0 answered %q while a round was sending", r)
	case <-time.After(100 * time.Millisecond):
	}
	close(g.release)
	if r := <-replied; r != "200 OK\n" {
		t.Fatalf("nh_enable_ping 0: %q", r)
	}
	if n := <-round; n != 3 || len(f.core.Packets()) != 3 {
		t.Fatalf("round sent %d, %d packets", n, len(f.core.Packets()))
	}
}

// TestForceSocket: with force_socket, pings leave from the UDP socket of
// that address instead of the one the core would choose; an address ser
// does not listen on is refused at load time.
func TestForceSocket(t *testing.T) {
	second := &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("198.51.100.1"), Port: 5080, Name: "198.51.100.1", Index: 2}
	for _, val := range []string{"198.51.100.1", "198.51.100.1:5080"} {
		core := modtest.NewCore()
		core.Socks = append(core.Socks, second)
		ulInst, err := modtest.LoadEnv(usrloc.Exports, modtest.DiscardEnv(core), nil)
		if err != nil {
			t.Fatal(err)
		}
		ul := ulInst.(*usrloc.Module)
		inst, err := modtest.LoadEnv(Exports, modtest.Env(t, core, map[string]any{"usrloc": ul}), map[string]any{"natping_interval": 30, "force_socket": val})
		if err != nil {
			t.Fatal(err)
		}
		f := &pingFixture{n: inst.(*NATHelper), ul: ul, core: core}
		f.contacts(t)
		if f.n.PingAll() == 0 {
			t.Fatal("no ping")
		}
		for _, p := range core.Packets() {
			if p.Dst.Sock != second {
				t.Errorf("force_socket %s: ping to %s from %v", val, p.Dst, p.Dst.Sock)
			}
		}
	}
	for _, bad := range []string{"203.0.113.1", "198.51.100.1:5060"} {
		core := modtest.NewCore()
		core.Socks = append(core.Socks, second)
		if _, err := modtest.LoadEnv(Exports, modtest.Env(t, core, nil), map[string]any{"force_socket": bad}); err == nil {
			t.Errorf("force_socket %s accepted", bad)
		}
	}
}
