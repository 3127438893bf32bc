package pike

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"ser/core/rpc"
	"ser/internal/testing/modtest"
)

func newPike(t *testing.T, params map[string]any) *Pike {
	t.Helper()
	inst, _ := modtest.Load(t, Exports, modtest.NewCore(), params)
	return inst.(*Pike)
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

// hitsToBlock sends requests from addr until one is refused.
func hitsToBlock(p *Pike, addr string, max int) int {
	for i := 1; i <= max; i++ {
		if !p.Check(ip(addr)) {
			return i
		}
	}
	return -1
}

// TestBlocksFlood: an address is blocked after between x and 3x requests
// in one unit for IPv4 (8x for IPv6), x = reqs_density_per_unit, as SER's
// README says; another address of the same network still passes.
func TestBlocksFlood(t *testing.T) {
	p := newPike(t, map[string]any{"reqs_density_per_unit": 10})
	n := hitsToBlock(p, "127.0.0.1", 1000)
	if n < 10 || n > 30 {
		t.Fatalf("IPv4 blocked after %d requests, want 10..30", n)
	}
	for i := 0; i < 5; i++ {
		if !p.Check(ip("127.0.0.2")) {
			t.Fatalf("127.0.0.2 blocked after %d requests", i+1)
		}
	}
	if p.Check(ip("127.0.0.1")) {
		t.Error("127.0.0.1 passes again within the unit")
	}
	n6 := hitsToBlock(p, "::1", 1000)
	if n6 < 10 || n6 > 80 {
		t.Fatalf("IPv6 blocked after %d requests, want 10..80", n6)
	}
}

// TestUnblockAndExpire: two quiet sampling units unblock the address;
// remove_latency seconds without requests remove the address's leaf, and
// each level above it remove_latency later, as in SER.
func TestUnblockAndExpire(t *testing.T) {
	p := newPike(t, map[string]any{"reqs_density_per_unit": 10, "sampling_time_unit": 1, "remove_latency": 5})
	if hitsToBlock(p, "192.0.2.1", 1000) < 0 {
		t.Fatal("never blocked")
	}
	p.Tick() // unit 2: the previous unit's hits still count
	if p.Check(ip("192.0.2.1")) {
		t.Error("unblocked after one unit")
	}
	p.Tick()
	p.Tick()
	if !p.Check(ip("192.0.2.1")) {
		t.Error("still blocked after two quiet units")
	}
	for i := 0; i < 4*6; i++ {
		p.Tick()
	}
	if n := p.Nodes(); n != 0 {
		t.Errorf("%d nodes left after remove_latency", n)
	}
}

// TestBoundedTree: a flood from many addresses does not grow the tree
// past max_nodes, and requests keep being answered.
func TestBoundedTree(t *testing.T) {
	p := newPike(t, map[string]any{"reqs_density_per_unit": 4, "max_nodes": 200})
	for round := 0; round < 20; round++ {
		for a := 0; a < 5000; a++ {
			p.Check([]byte{10, byte(a >> 8), byte(a), byte(round)})
		}
	}
	if n := p.Nodes(); n > 200 {
		t.Fatalf("%d nodes", n)
	}
	if n := p.Nodes(); n < 150 {
		t.Fatalf("only %d nodes: the flood did not fill the tree", n)
	}
	// A full tree makes room for a new flooder by dropping the least
	// recently hit nodes: it is still blocked, within the usual bound.
	if n := hitsToBlock(p, "192.0.2.77", 1000); n < 4 || n > 3*4 {
		t.Errorf("flooder in a full tree blocked after %d requests", n)
	}
	if n := p.Nodes(); n > 200 {
		t.Fatalf("%d nodes", n)
	}
}

// TestFIFO: print_ip_tree shows the address's path, print_timer_list the
// nodes waiting to expire.
func TestFIFO(t *testing.T) {
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), map[string]any{"reqs_density_per_unit": 4})
	p, reg := inst.(*Pike), env.RPC
	for i := 0; i < 20; i++ {
		p.Check(ip("127.0.0.1"))
	}
	tree := reg.Execute(context.Background(), "print_ip_tree", nil, rpc.FIFO).Text
	for _, want := range []string{"[l0] brh=127 byte=127 ", "[l3] brh=127 byte=1 , hits={0,", "leaf_hits={0,"} {
		if !strings.Contains(tree, want) {
			t.Errorf("print_ip_tree lacks %q:\n%s", want, tree)
		}
	}
	if timer := reg.Execute(context.Background(), "print_timer_list", nil, rpc.FIFO).Text; !strings.Contains(timer, " [byte=1](expires=120)") {
		t.Errorf("print_timer_list:\n%s", timer)
	}
}
