package registrar

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// branches renders a destination set as "uri[>dst](q)" entries.
func branches(bs []sipmsg.Branch) string {
	var s []string
	for _, b := range bs {
		e := b.URI
		if b.DstURI != "" {
			e += ">" + b.DstURI
		}
		s = append(s, fmt.Sprintf("%s(%g)", e, b.Q))
	}
	return strings.Join(s, " ")
}

func TestLookup(t *testing.T) {
	type put struct {
		aor   string
		c     usrloc.Contact
		table string // default location
	}
	exp := t0.Unix() + 3600
	tests := []struct {
		name         string
		params       map[string]any
		puts         []put
		table        string // default location
		ruri         string
		wantRet      int
		wantRURI     string
		wantDst      string
		wantQ        float32
		wantBranches string
		wantNAT      bool
	}{
		{name: "not registered", ruri: "sip:john@example.com", wantRet: -3, wantRURI: "sip:john@example.com", wantQ: -1},
		{name: "all contacts expired",
			puts:    []put{{aor: "john", c: usrloc.Contact{URI: "sip:john@10.0.0.1", Expires: t0.Unix() - 1}}},
			ruri:    "sip:john@example.com",
			wantRet: -5, wantRURI: "sip:john@example.com", wantQ: -1},
		{name: "one contact",
			puts:    []put{{aor: "john", c: usrloc.Contact{URI: "sip:john@10.0.0.1:5062;transport=tcp", Expires: exp, Q: usrloc.QUnset}}},
			ruri:    "sip:John@example.com;user=phone",
			wantRet: 1, wantRURI: "sip:john@10.0.0.1:5062;transport=tcp", wantQ: -1},
		{name: "highest q first, the others as branches",
			puts: []put{
				{aor: "john", c: usrloc.Contact{URI: "sip:a@10.0.0.1", Expires: exp, Q: 500}},
				{aor: "john", c: usrloc.Contact{URI: "sip:b@10.0.0.2", Expires: exp, Q: 1000}},
				{aor: "john", c: usrloc.Contact{URI: "sip:c@10.0.0.3", Expires: exp, Q: 500}},
				{aor: "john", c: usrloc.Contact{URI: "sip:old@10.0.0.4", Expires: t0.Unix() - 10, Q: 1000}},
			},
			ruri:    "sip:john@example.com",
			wantRet: 1, wantRURI: "sip:b@10.0.0.2", wantQ: 1,
			wantBranches: "sip:c@10.0.0.3(0.5) sip:a@10.0.0.1(0.5)"},
		{name: "append_branches 0",
			params: map[string]any{"append_branches": 0},
			puts: []put{
				{aor: "john", c: usrloc.Contact{URI: "sip:a@10.0.0.1", Expires: exp, Q: 500}},
				{aor: "john", c: usrloc.Contact{URI: "sip:b@10.0.0.2", Expires: exp, Q: 1000}},
			},
			ruri:    "sip:john@example.com",
			wantRet: 1, wantRURI: "sip:b@10.0.0.2", wantQ: 1},
		{name: "NATed contacts go to their received address",
			params: map[string]any{"nat_flag": 3},
			puts: []put{
				{aor: "john", c: usrloc.Contact{URI: "sip:a@192.168.0.2", Expires: exp, Q: 1000, Received: "sip:203.0.113.5:40312", Flags: usrloc.FlagNAT}},
				{aor: "john", c: usrloc.Contact{URI: "sip:b@192.168.0.3", Expires: exp, Q: 900, Received: "sip:203.0.113.6:5060;transport=tcp", Flags: usrloc.FlagNAT}},
			},
			ruri:    "sip:john@example.com",
			wantRet: 1, wantRURI: "sip:a@192.168.0.2", wantDst: "sip:203.0.113.5:40312", wantQ: 1,
			wantBranches: "sip:b@192.168.0.3>sip:203.0.113.6:5060;transport=tcp(0.9)", wantNAT: true},
		{name: "alias rewrites to the canonical URI",
			puts:  []put{{table: "aliases", aor: "8885551192", c: usrloc.Contact{URI: "sip:john.doe@foo.bar", Expires: t0.Unix(), Q: 1000, Flags: usrloc.FlagPermanent}}},
			table: "aliases", ruri: "sip:8885551192@foo.bar",
			wantRet: 1, wantRURI: "sip:john.doe@foo.bar", wantQ: 1},
		{name: "use_domain",
			params:  map[string]any{"use_domain": 1},
			puts:    []put{{aor: "john@example.com", c: usrloc.Contact{URI: "sip:a@10.0.0.1", Expires: exp, Q: usrloc.QUnset}}},
			ruri:    "sip:john@EXAMPLE.com",
			wantRet: 1, wantRURI: "sip:a@10.0.0.1", wantQ: -1},
		{name: "use_domain, other domain",
			params:  map[string]any{"use_domain": 1},
			puts:    []put{{aor: "john@example.com", c: usrloc.Contact{URI: "sip:a@10.0.0.1", Expires: exp}}},
			ruri:    "sip:john@example.org",
			wantRet: -3, wantRURI: "sip:john@example.org", wantQ: -1},
		{name: "R-URI without a usable AOR", ruri: "tel:+4312345", wantRet: -1, wantRURI: "tel:+4312345", wantQ: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.params, nil)
			table := tt.table
			if table == "" {
				table = "location"
			}
			lookup := f.bind("lookup", table)
			for _, p := range tt.puts {
				tb := p.table
				if tb == "" {
					tb = "location"
				}
				if err := f.ul.Register(tb).Put(p.aor, p.c); err != nil {
					t.Fatal(err)
				}
			}
			m := invite(t, tt.ruri)
			ret, err := lookup(m)
			if ret != tt.wantRet || err != nil {
				t.Fatalf("lookup = %d, %v; want %d", ret, err, tt.wantRet)
			}
			if m.URIString() != tt.wantRURI || m.DstURI != tt.wantDst || m.RURIQ != tt.wantQ {
				t.Fatalf("R-URI %q dst %q q %v; want %q %q %v", m.URIString(), m.DstURI, m.RURIQ, tt.wantRURI, tt.wantDst, tt.wantQ)
			}
			if got := branches(m.Branches); got != tt.wantBranches {
				t.Fatalf("branches %q, want %q", got, tt.wantBranches)
			}
			if m.IsFlagSet(3) != tt.wantNAT {
				t.Fatalf("nat flag %v, want %v", m.IsFlagSet(3), tt.wantNAT)
			}
		})
	}
}

// TestRegisterLookupExpire goes through a registration's life: save,
// lookup, expiry by time, removal by the timer.
func TestRegisterLookupExpire(t *testing.T) {
	f := newFixture(t, nil, nil)
	save := f.bind("save", "location")
	lookup := f.bind("lookup", "location")
	registered := f.bind("registered", "location")

	check := func(step string, wantLookup, wantRegistered int) {
		t.Helper()
		m := invite(t, "sip:john@example.com")
		if ret, _ := lookup(m); ret != wantLookup {
			t.Fatalf("%s: lookup = %d, want %d", step, ret, wantLookup)
		}
		if ret, _ := registered(invite(t, "sip:john@example.com")); ret != wantRegistered {
			t.Fatalf("%s: registered = %d, want %d", step, ret, wantRegistered)
		}
	}
	check("before", -3, -1)
	if ret, _ := save(register{contacts: []string{"<sip:john@10.0.0.1>;expires=120"}}.msg(t)); ret != 1 {
		t.Fatalf("save = %d", ret)
	}
	check("registered", 1, 1)
	f.advance(119)
	check("one second left", 1, 1)
	f.advance(1)
	check("expired", -5, -1)
	if n := f.ul.ExpireNow(); n != 1 {
		t.Fatalf("timer removed %d", n)
	}
	check("removed by the timer", -3, -1)
}

// TestConcurrentSaveLookup registers and looks up from many goroutines;
// run with -race.
func TestConcurrentSaveLookup(t *testing.T) {
	f := newFixture(t, nil, nil)
	save := f.bind("save_noreply", "location")
	lookup := f.bind("lookup", "location")
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 1; i <= 100; i++ {
				user := fmt.Sprintf("u%d", i%10)
				if (g+i)%2 == 0 {
					r := register{
						to:       "sip:" + user + "@example.com",
						callID:   fmt.Sprintf("c%d", g),
						cseq:     i,
						contacts: []string{fmt.Sprintf("<sip:%s@10.0.0.%d>;q=0.%d", user, g, i%10)},
					}
					if ret, err := save(r.msg(t)); ret != 1 || err != nil {
						t.Errorf("save = %d, %v", ret, err)
						return
					}
					continue
				}
				m := invite(t, "sip:"+user+"@example.com")
				if ret, err := lookup(m); err != nil || (ret != 1 && ret != -3) {
					t.Errorf("lookup = %d, %v", ret, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	d, _ := f.ul.Domain("location")
	if st := d.Stats(); st.Records != 10 || st.Contacts != 30 {
		t.Fatalf("stats %+v, want 10 AORs with 3 contacts each (one per goroutine saving it)", st)
	}
}
