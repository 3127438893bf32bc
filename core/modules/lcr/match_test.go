package lcr

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"ser/core/store"
)

const evaluations = 10000

// names lists targets as "gw/prefix".
func names(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Gateway.Name + "/" + t.Prefix()
	}
	return out
}

// within checks a count against its expectation with a tolerance of
// five standard deviations of the binomial distribution (the chance of a
// false failure is below 1e-6 per check; the seed is fixed anyway).
func within(t *testing.T, what string, got, n int, p float64) {
	t.Helper()
	mean := float64(n) * p
	tol := 5 * math.Sqrt(float64(n)*p*(1-p))
	if math.Abs(float64(got)-mean) > tol {
		t.Errorf("%s: %d of %d, want %.0f ± %.0f", what, got, n, mean, tol)
	}
}

// TestInodePhone evaluates load_gws("1") 10,000 times on the seed's
// gateways: sipgw6 (priority 1) always first, sipgw1/3/4/5 (priority 2)
// next in uniformly random order, sipgw2 (priority 3) last; phone trunk
// prefixes "01" for sipgw6 and sipgw2, none for the others.
func TestInodePhone(t *testing.T) {
	l := seeded(t, inodeData(), 1)
	first := map[string]int{}
	pos := map[string][4]int{}
	perms := map[string]int{}
	for i := 0; i < evaluations; i++ {
		ts := l.Select("4930123", "sip:alice@example.com", capPhone)
		got := names(ts)
		if len(ts) != 6 || got[0] != "sipgw6/01" || got[5] != "sipgw2/01" {
			t.Fatalf("evaluation %d: %v", i, got)
		}
		mid := append([]string(nil), got[1:5]...)
		sorted := append([]string(nil), mid...)
		sort.Strings(sorted)
		if strings.Join(sorted, " ") != "sipgw1/ sipgw3/ sipgw4/ sipgw5/" {
			t.Fatalf("evaluation %d: middle %v", i, mid)
		}
		for j := 1; j < len(ts); j++ {
			if ts[j].TrunkPriority < ts[j-1].TrunkPriority {
				t.Fatalf("evaluation %d: priority %d after %d: %v", i, ts[j].TrunkPriority, ts[j-1].TrunkPriority, got)
			}
		}
		first[mid[0]]++
		for k, n := range mid {
			p := pos[n]
			p[k]++
			pos[n] = p
		}
		perms[strings.Join(mid, ",")]++
	}
	for _, n := range []string{"sipgw1/", "sipgw3/", "sipgw4/", "sipgw5/"} {
		within(t, "first among priority 2: "+n, first[n], evaluations, 0.25)
		for k := 0; k < 4; k++ {
			within(t, fmt.Sprintf("%s at place %d of priority 2", n, k+1), pos[n][k], evaluations, 0.25)
		}
	}
	if len(perms) != 24 {
		t.Errorf("%d orders of the four equal gateways seen, want all 24", len(perms))
	}
	for p, n := range perms {
		within(t, "order "+p, n, evaluations, 1.0/24)
	}
}

// TestInodeFax: load_gws("2") gives the two fax trunks (priority 1 both),
// each first half of the time, with prefix "02".
func TestInodeFax(t *testing.T) {
	l := seeded(t, inodeData(), 2)
	first := map[string]int{}
	for i := 0; i < evaluations; i++ {
		got := names(l.Select("4930123", "sip:alice@example.com", capFax))
		if len(got) != 2 || got[0] == got[1] || !strings.HasSuffix(got[0], "/02") || !strings.HasSuffix(got[1], "/02") {
			t.Fatalf("evaluation %d: %v", i, got)
		}
		first[got[0]]++
	}
	if first["sipgw6/02"]+first["sipgw2/02"] != evaluations {
		t.Fatalf("first choices %v", first)
	}
	within(t, "sipgw6 first", first["sipgw6/02"], evaluations, 0.5)
}

// TestInodeOtherCaps: phone|fax gives every trunk (sipgw6 and sipgw2
// twice, with their two prefixes); no capability gives each gateway once
// (gw.prefix, no trunk), all equal, so each is first a sixth of the time.
func TestInodeOtherCaps(t *testing.T) {
	l := seeded(t, inodeData(), 3)
	got := names(l.Select("1", "sip:a@b", capPhone|capFax))
	if len(got) != 8 {
		t.Fatalf("caps 3: %v", got)
	}
	head := append([]string(nil), got[:3]...)
	sort.Strings(head)
	if strings.Join(head, " ") != "sipgw2/02 sipgw6/01 sipgw6/02" || got[7] != "sipgw2/01" {
		t.Errorf("caps 3: %v", got)
	}
	if got := l.Select("1", "sip:a@b", 4); len(got) != 0 {
		t.Errorf("caps 4 (no such trunk): %v", names(got))
	}
	first := map[string]int{}
	for i := 0; i < evaluations; i++ {
		ts := l.Select("1", "sip:a@b", 0)
		if len(ts) != 6 || ts[0].Trunk != nil {
			t.Fatalf("caps 0: %v", names(ts))
		}
		first[ts[0].Gateway.Name]++
	}
	for n := 1; n <= 6; n++ {
		within(t, fmt.Sprintf("caps 0: sipgw%d first", n), first[fmt.Sprintf("sipgw%d", n)], evaluations, 1.0/6)
	}
}

// TestSelectRules: longest prefix first, then rule priority; from_uri
// patterns; a gateway reached by several rules once at its best place.
func TestSelectRules(t *testing.T) {
	data := inodeData()
	data.Gateways = append(data.Gateways,
		store.Gateway{Name: "de1", GroupID: 2, IP: netip4(20, 0, 0, 1), Trunks: []store.Trunk{{Cap: capPhone, Priority: 5}}},
		store.Gateway{Name: "vip", GroupID: 3, IP: netip4(30, 0, 0, 1), Trunks: []store.Trunk{{Cap: capPhone, Priority: 9}}},
		store.Gateway{Name: "cheap", GroupID: 4, IP: netip4(40, 0, 0, 1), Trunks: []store.Trunk{{Cap: capPhone, Priority: 1}}},
	)
	data.Rules = append(data.Rules,
		store.LCRRule{Prefix: "49", FromURI: "%", GroupID: 2, Priority: 1},
		store.LCRRule{Prefix: "49", FromURI: "sip:%@INODE.at", GroupID: 3, Priority: 0},
		store.LCRRule{Prefix: "4", FromURI: "sip:_ob@%", GroupID: 4, Priority: 1},
		store.LCRRule{Prefix: "4", FromURI: "%", GroupID: 1, Priority: 0}, // sipgw* again, better place
	)
	l := seeded(t, data, 4)
	tests := []struct {
		name, user, from string
		wantHead         []string
		wantLen          int
	}{
		{"german number, vip caller", "4930", "sip:boss@inode.at", []string{"vip/", "de1/", "sipgw6/01"}, 8},
		{"german number", "4930", "sip:alice@example.com", []string{"de1/", "sipgw6/01"}, 7},
		{"bob pattern", "4711", "sip:bob@example.com", []string{"sipgw6/01"}, 7},
		{"other number", "1234", "sip:bob@example.com", []string{"sipgw6/01"}, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := names(l.Select(tc.user, tc.from, capPhone))
			if len(got) != tc.wantLen || strings.Join(got[:len(tc.wantHead)], " ") != strings.Join(tc.wantHead, " ") {
				t.Errorf("got %v, want %d targets starting %v", got, tc.wantLen, tc.wantHead)
			}
			if tc.name == "bob pattern" && got[len(got)-1] != "cheap/" {
				// prefix "4": group 1 at priority 0 before cheap (priority 1).
				t.Errorf("cheap should come after the priority-0 rule's gateways: %v", got)
			}
		})
	}
}

func TestLike(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"sip:alice@inode.at", "%", true},
		{"", "%", true},
		{"", "", true},
		{"a", "", false},
		{"sip:alice@inode.at", "sip:%@inode.at", true},
		{"sip:alice@INODE.AT", "sip:%@inode.at", true},
		{"sip:alice@inode.at.evil", "sip:%@inode.at", false},
		{"sip:bob@x", "sip:_ob@%", true},
		{"sip:rob@x", "sip:_ob@%", true},
		{"sip:bbob@x", "sip:_ob@%", false},
		{"sip:ä@x", "sip:_@x", true},
		{"abcabcabd", "%abd", true},
		{"abc", "a%%c", true},
		{"abc", "a%b%c%", true},
		{"ab", "a%b%c", false},
		{"50%", "50%", true},
	}
	for _, tc := range tests {
		if got := like(tc.s, tc.p); got != tc.want {
			t.Errorf("like(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

// TestAgreesWithStore compares Select with the store's SQL
// (MatchGateways) on the seed plus extra rules: the same targets with
// the same keys, for several numbers, callers and capabilities.
func TestAgreesWithStore(t *testing.T) {
	data := inodeData()
	data.Groups = append(data.Groups, store.GatewayGroup{ID: 2, Name: "de"})
	data.Gateways = append(data.Gateways, store.Gateway{Name: "de1", GroupID: 2, IP: netip4(20, 0, 0, 1), Prefix: "9",
		Trunks: []store.Trunk{{Cap: capPhone, Priority: 5}, {Cap: capFax, Prefix: "7", Priority: 2}}})
	data.Rules = []store.LCRRule{
		{Prefix: "", FromURI: "%", GroupID: 1, Priority: 1},
		{Prefix: "49", FromURI: "sip:%@inode.at", GroupID: 2, Priority: 1},
		{Prefix: "4", FromURI: "sip:_ob@%", GroupID: 2, Priority: 2},
	}
	st := openStore(t)
	fillStore(t, st, data)
	l, _ := loadModule(t, st, nil)
	key := func(gw, prefix string, plen, rprio, tprio int) string {
		return fmt.Sprintf("%s/%s/%d/%d/%d", gw, prefix, plen, rprio, tprio)
	}
	for _, user := range []string{"4930", "4711", "1", ""} {
		for _, from := range []string{"sip:bob@inode.at", "sip:alice@example.com"} {
			for _, caps := range []int{0, 1, 2, 3} {
				var want []string
				ms, err := st.MatchGateways(context.Background(), user, from, caps)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, m := range ms {
					p, tp, id := m.Prefix, 0, m.Name
					if m.Trunk != nil {
						p, tp, id = m.Trunk.Prefix+m.Prefix, m.Trunk.Priority, fmt.Sprintf("%s#%d", m.Name, m.Trunk.Cap)
					}
					if seen[id] {
						continue // reached by a worse rule too
					}
					seen[id] = true
					want = append(want, key(m.Name, p, len(m.RulePrefix), m.RulePriority, tp))
				}
				var got []string
				for _, tg := range l.Select(user, from, caps) {
					got = append(got, key(tg.Gateway.Name, tg.Prefix(), tg.PrefixLen, tg.RulePriority, tg.TrunkPriority))
				}
				sort.Strings(want)
				sort.Strings(got)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("user %q from %s caps %d:\n got %v\nwant %v", user, from, caps, got, want)
				}
			}
		}
	}
}
