package dispatcher

import (
	"fmt"
	"strings"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// TestDSHashKamailio compares dsHash with Kamailio's ds_get_hash compiled
// from its C source (values printed by that program).
func TestDSHashKamailio(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		x, y *string
		want uint32
	}{
		{"call-id", s("a84b4c76e66710@pc33.example.com"), nil, 2563459580},
		{"user", s("alice"), nil, 1834153949},
		{"empty", s(""), nil, 1},
		{"three bytes", s("bob"), nil, 7222211},
		{"six bytes", s("call-1"), nil, 1864287598},
		{"one byte", s("x"), nil, 119},
		{"user and host:port", s("alice"), s("example.com:5070"), 4164596482},
		{"no keys", nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dsHash(tc.x, tc.y); got != tc.want {
				t.Fatalf("dsHash = %d, want %d", got, tc.want)
			}
		})
	}
}

// pick runs ds_select_dst(set, alg) on m and returns the next hop.
func pick(t *testing.T, d *Dispatcher, m *sipmsg.Msg, set, alg int) string {
	t.Helper()
	if r := d.Select(m, set, alg, false); r != 1 {
		t.Fatalf("ds_select_dst(%d, %d) = %d", set, alg, r)
	}
	return m.DstURI
}

func TestCallIDHashSticksAndSpreads(t *testing.T) {
	d, _ := load(t, threeProxies, nil)
	counts := map[string]int{}
	const calls = 3000
	for i := 0; i < calls; i++ {
		cid := fmt.Sprintf("%08x-%d@host.example.com", i*2654435761, i)
		first := pick(t, d, invite(t, cid), 1, AlgCallID)
		if again := pick(t, d, invite(t, cid), 1, AlgCallID); again != first {
			t.Fatalf("Call-ID %s went to %s, then %s", cid, first, again)
		}
		counts[first]++
	}
	if len(counts) != 3 {
		t.Fatalf("spread over %d destinations: %v", len(counts), counts)
	}
	for uri, n := range counts {
		if n < calls/3*80/100 || n > calls/3*120/100 {
			t.Errorf("%s got %d of %d calls (want about a third): %v", uri, n, calls, counts)
		}
	}
	// The R-URI is not touched by ds_select_dst.
	m := invite(t, "x")
	pick(t, d, m, 1, AlgCallID)
	if m.URIString() != "sip:bob@example.com" {
		t.Fatalf("R-URI changed to %s", m.URIString())
	}
}

func TestURIHashes(t *testing.T) {
	d, _ := load(t, threeProxies, map[string]any{"flags": FlagHashUserOnly})
	msg := func(from, to, ruri string) *sipmsg.Msg {
		return modtest.Request{From: "<" + from + ">;tag=1", To: "<" + to + ">", URI: ruri, CallID: from + to + ruri}.Msg(t)
	}
	tests := []struct {
		name string
		alg  int
		a, b *sipmsg.Msg // same user, different everything else
	}{
		{"From user", AlgFromURI, msg("sip:alice@a.example.com", "sip:x@y", "sip:1@z"), msg("sip:alice@b.example.com:5070", "sip:q@r", "sip:2@z")},
		{"To user", AlgToURI, msg("sip:x@y", "sip:bob@a.example.com", "sip:1@z"), msg("sip:q@r", "sip:bob@b.example.com", "sip:2@z")},
		{"R-URI user", AlgRURI, msg("sip:x@y", "sip:1@z", "sip:carol@a.example.com"), msg("sip:q@r", "sip:2@z", "sip:carol@10.1.1.1:5080")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if a, b := pick(t, d, tc.a, 1, tc.alg), pick(t, d, tc.b, 1, tc.alg); a != b {
				t.Fatalf("same user went to %s and %s", a, b)
			}
			counts := map[string]int{}
			for i := 0; i < 300; i++ {
				u := fmt.Sprintf("sip:user%d@example.com", i)
				counts[pick(t, d, msg(u, u, u), 1, tc.alg)]++
			}
			if len(counts) != 3 {
				t.Fatalf("users spread over %d destinations: %v", len(counts), counts)
			}
		})
	}
	// Without flags 1 the host and a non-default port count too.
	from := func(u string) *sipmsg.Msg { return msg(u, "sip:t@t", "sip:r@r") }
	h1 := uriHash(&from("sip:alice@example.com").Req.From().Address, false)
	h2 := uriHash(&from("sip:alice@example.com:5060").Req.From().Address, false)
	h3 := uriHash(&from("sip:alice@example.com:5070").Req.From().Address, false)
	if h1 != h2 || h1 == h3 {
		t.Fatalf("host hashes: default port %d/%d, port 5070 %d", h1, h2, h3)
	}
	want := dsHash(strPtr("alice"), strPtr("example.com:5070"))
	if h3 != want {
		t.Fatalf("uriHash = %d, want ds_get_hash(user, host:port) = %d", h3, want)
	}
}

func strPtr(s string) *string { return &s }

func TestRoundRobin(t *testing.T) {
	d, _ := load(t, threeProxies, nil)
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, pick(t, d, invite(t, "c"), 1, AlgRoundRobin))
	}
	want := "sip:10.0.0.1:5060 sip:10.0.0.2:5060 sip:10.0.0.3:5060 sip:10.0.0.1:5060 sip:10.0.0.2:5060 sip:10.0.0.3:5060"
	if strings.Join(got, " ") != want {
		t.Fatalf("round robin\n got %v\nwant %s", got, want)
	}
	// An inactive destination is skipped: its turn goes to the next one.
	d.SetState(1, "sip:10.0.0.2:5060", StateInactive)
	got = got[:0]
	for i := 0; i < 3; i++ {
		got = append(got, pick(t, d, invite(t, "c"), 1, AlgRoundRobin))
	}
	if want := "sip:10.0.0.1:5060 sip:10.0.0.3:5060 sip:10.0.0.3:5060"; strings.Join(got, " ") != want {
		t.Fatalf("round robin with 10.0.0.2 down\n got %v\nwant %s", got, want)
	}
	// Another set has its own counter.
	if u := pick(t, d, invite(t, "c"), 2, AlgRoundRobin); u != "sip:10.0.1.1:5060" {
		t.Fatalf("set 2 starts with %s", u)
	}
}

func TestFailoverOrder(t *testing.T) {
	list := "1 sip:a\n1 sip:b\n1 sip:c\n1 sip:d\n"
	d, _ := load(t, list, map[string]any{"flags": FlagFailover})
	m := invite(t, "c")
	// Round-robin: the third request starts at c.
	for i := 0; i < 2; i++ {
		pick(t, d, invite(t, "c"), 1, AlgRoundRobin)
	}
	var got []string
	got = append(got, pick(t, d, m, 1, AlgRoundRobin))
	d.SetState(1, "sip:a", StateDisabled) // down after the selection: skipped
	for d.Next(m, false) == 1 {
		got = append(got, m.DstURI)
	}
	if want := "sip:c sip:d sip:b"; strings.Join(got, " ") != want {
		t.Fatalf("failover order %v, want %s", got, want)
	}
	if d.Next(m, false) != -1 {
		t.Fatal("ds_next_dst after the last destination is not false")
	}
	if d.Next(invite(t, "none"), false) != -1 {
		t.Fatal("ds_next_dst without ds_select_dst is not false")
	}
}

// TestFailoverAcrossFailureRoutes copies the per-message value to a new
// request the way tm does for each failure route: every route continues
// after the destination the previous one chose.
func TestFailoverAcrossFailureRoutes(t *testing.T) {
	d, _ := load(t, "1 sip:a\n1 sip:b\n1 sip:c\n", map[string]any{"flags": FlagFailover})
	m := invite(t, "c")
	if u := pick(t, d, m, 1, AlgFirst); u != "sip:a" {
		t.Fatalf("first = %s", u)
	}
	var got []string
	for i := 0; i < 3; i++ {
		fm := invite(t, "c") // the failure route's copy
		fm.Set(selKey, m.Get(selKey))
		if d.Next(fm, false) != 1 {
			break
		}
		got = append(got, fm.DstURI)
	}
	if want := "sip:b sip:c"; strings.Join(got, " ") != want {
		t.Fatalf("failure routes tried %v, want %s", got, want)
	}
}

func TestNoFailoverWithoutFlag(t *testing.T) {
	d, env := load(t, threeProxies, nil)
	m := invite(t, "c")
	pick(t, d, m, 1, AlgCallID)
	if d.Next(m, false) != -1 {
		t.Fatal("ds_next_dst without flags 2 found a destination")
	}
	if _, err := modtest.BindErr(Exports, d, env, "ds_next_dst"); err == nil || !strings.Contains(err.Error(), `set modparam("dispatcher", "flags", 2)`) {
		t.Fatalf("binding ds_next_dst without flags 2: %v", err)
	}
}

func TestSelectSkipsDown(t *testing.T) {
	d, _ := load(t, "1 sip:a 1\n1 sip:b 4\n1 sip:c 2\n2 sip:x 1\n", nil)
	// a inactive, b disabled, c trying (still used).
	for i := 0; i < 5; i++ {
		if u := pick(t, d, invite(t, fmt.Sprint(i)), 1, AlgCallID); u != "sip:c" {
			t.Fatalf("selected %s", u)
		}
	}
	if r := d.Select(invite(t, "x"), 2, AlgCallID, false); r != -1 {
		t.Fatalf("set with every destination down: %d", r)
	}
	if r := d.Select(invite(t, "x"), 9, AlgCallID, false); r != -1 {
		t.Fatalf("unknown set: %d", r)
	}
}

func TestUseDefault(t *testing.T) {
	d, _ := load(t, "1 sip:a\n1 sip:b\n1 sip:default\n", map[string]any{"use_default": 1, "flags": FlagFailover})
	for i := 0; i < 4; i++ {
		if u := pick(t, d, invite(t, "c"), 1, AlgRoundRobin); u == "sip:default" {
			t.Fatal("the default destination was selected while others are up")
		}
	}
	m := invite(t, "c")
	first := pick(t, d, m, 1, AlgRoundRobin)
	var got []string
	for d.Next(m, false) == 1 {
		got = append(got, m.DstURI)
	}
	if len(got) != 2 || got[1] != "sip:default" || got[0] == first {
		t.Fatalf("failover after %s: %v, want the other one then the default", first, got)
	}
	d.SetState(1, "sip:a", StateInactive)
	d.SetState(1, "sip:b", StateInactive)
	if u := pick(t, d, invite(t, "c"), 1, AlgRoundRobin); u != "sip:default" {
		t.Fatalf("all others down: %s", u)
	}
}

func TestForceDst(t *testing.T) {
	d, _ := load(t, threeProxies, map[string]any{"force_dst": 0})
	m := invite(t, "c")
	m.DstURI = "sip:route.example.com;lr"
	if d.Select(m, 1, AlgCallID, false) != -1 || m.DstURI != "sip:route.example.com;lr" {
		t.Fatalf("force_dst 0 overwrote the next hop: %s", m.DstURI)
	}
	d2, _ := load(t, threeProxies, nil)
	if d2.Select(m, 1, AlgCallID, false) != 1 || !strings.HasPrefix(m.DstURI, "sip:10.0.0.") {
		t.Fatalf("force_dst 1 did not set the next hop: %s", m.DstURI)
	}
}

func TestSelectDomain(t *testing.T) {
	d, _ := load(t, "1 sip:10.0.0.1:5070\n1 sip:proxy.example.com\n", map[string]any{"flags": FlagFailover})
	m := modtest.Request{URI: "sip:bob@example.com:5062;user=phone"}.Msg(t)
	if d.Select(m, 1, AlgFirst, true) != 1 {
		t.Fatal("ds_select_domain failed")
	}
	if m.URIString() != "sip:bob@10.0.0.1:5070;user=phone" || m.DstURI != "" {
		t.Fatalf("R-URI %s, next hop %q", m.URIString(), m.DstURI)
	}
	if d.Next(m, true) != 1 || m.URIString() != "sip:bob@proxy.example.com;user=phone" {
		t.Fatalf("ds_next_domain: %s", m.URIString())
	}
}

func TestMarkDst(t *testing.T) {
	d, _ := load(t, threeProxies, map[string]any{"ds_probing_threshold": 2, "flags": FlagFailover})
	m := invite(t, "c")
	u := pick(t, d, m, 1, AlgFirst)
	if d.Mark(m, StateTrying) != 1 || state(t, d, 1, u) != "TX" {
		t.Fatalf("after one failure: %s", state(t, d, 1, u))
	}
	d.Mark(m, StateTrying)
	if s := state(t, d, 1, u); s != "IX" {
		t.Fatalf("after threshold failures: %s", s)
	}
	d.Mark(m, StateTrying)
	if s := state(t, d, 1, u); s != "IX" {
		t.Fatalf("an inactive destination left inactive: %s", s)
	}
	d.Mark(m, 0)
	if s := state(t, d, 1, u); s != "AX" {
		t.Fatalf("marked active: %s", s)
	}
	if d.Mark(invite(t, "none"), StateInactive) != -1 {
		t.Fatal("ds_mark_dst without a selection is not false")
	}
	tests := []struct {
		arg  string
		want uint32
		err  bool
	}{
		{"a", 0, false}, {"i", StateInactive, false}, {"IP", StateInactive | StateProbing, false},
		{"p", StateInactive | StateProbing, false}, {"t", StateTrying, false}, {"dp", StateDisabled | StateProbing, false},
		{"0", StateInactive, false}, {"1", 0, false}, {"0p", StateInactive | StateProbing, false},
		{"x", 0, true}, {"ix", 0, true}, {"", 0, true}, {"aaa", 0, true}, {"2", 0, true},
	}
	for _, tc := range tests {
		got, err := parseMarkState(tc.arg)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseMarkState(%q) = %d, %v", tc.arg, got, err)
		}
	}
}

func TestIsFromList(t *testing.T) {
	d, _ := load(t, "1 sip:10.0.0.1:5060\n2 sip:10.0.0.2\n3 sip:10.0.0.3:5060;transport=tcp\n", nil)
	rcv := func(src string, tcp bool) sipmsg.RcvInfo {
		if tcp {
			return modtest.Rcv(modtest.From(src), modtest.OverTCP())
		}
		return modtest.Rcv(modtest.From(src))
	}
	tests := []struct {
		name  string
		rcv   sipmsg.RcvInfo
		group int
		want  bool
	}{
		{"ip and port", rcv("10.0.0.1:5060", false), -1, true},
		{"other port", rcv("10.0.0.1:5070", false), -1, false},
		{"no port in the uri: any port", rcv("10.0.0.2:40000", false), -1, true},
		{"group matches", rcv("10.0.0.2:5060", false), 2, true},
		{"other group", rcv("10.0.0.2:5060", false), 1, false},
		{"unknown group", rcv("10.0.0.2:5060", false), 7, false},
		{"transport matches", rcv("10.0.0.3:5060", true), 3, true},
		{"transport differs", rcv("10.0.0.3:5060", false), 3, false},
		{"stranger", rcv("192.0.2.1:5060", false), -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.IsFromList(tc.rcv, tc.group); got != tc.want {
				t.Fatalf("IsFromList = %v", got)
			}
		})
	}
}

func TestFixupErrors(t *testing.T) {
	d, env := load(t, threeProxies, nil)
	tests := []struct {
		name  string
		fname string
		args  []any
		want  string
	}{
		{"unsupported algorithm", "ds_select_dst", []any{1, 5}, "algorithm 5 is not supported (0 Call-ID hash"},
		{"bad set", "ds_select_dst", []any{"one", 0}, "ds_select_dst: set:"},
		{"negative set", "ds_select_domain", []any{-1, 0}, "set -1 is negative"},
		{"bad mark state", "ds_mark_dst", []any{"z"}, `ds_mark_dst: bad state "z"`},
		{"bad group", "ds_is_from_list", []any{"g"}, "ds_is_from_list: group:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.BindErr(Exports, d, env, tc.fname, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Quoted numbers are accepted, as SER's fixups did.
	h := modtest.Bind(t, Exports, d, env, "ds_select_dst", "2", "4")
	m := invite(t, "c")
	if r, _ := h(m); r != 1 || !strings.HasPrefix(m.DstURI, "sip:10.0.1.") {
		t.Fatalf("bound ds_select_dst: %d %s", r, m.DstURI)
	}
}
