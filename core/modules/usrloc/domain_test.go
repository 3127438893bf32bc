package usrloc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// uris lists the URIs of contacts.
func uris(cs []Contact) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.URI)
	}
	return strings.Join(s, " ")
}

func TestContactOrder(t *testing.T) {
	type put struct {
		uri string
		q   Q
	}
	tests := []struct {
		name     string
		descTime bool
		puts     []put
		want     string
	}{
		{name: "highest q first", puts: []put{{"a", 500}, {"b", 1000}, {"c", 0}}, want: "b a c"},
		{name: "equal q newest first", puts: []put{{"a", 500}, {"b", 500}, {"c", 500}}, want: "c b a"},
		{name: "update moves ahead of equal q", puts: []put{{"a", 500}, {"b", 500}, {"a", 500}}, want: "a b"},
		{name: "update changes q", puts: []put{{"a", 1000}, {"b", 500}, {"a", 100}}, want: "b a"},
		{name: "unset q below zero as in SER", puts: []put{{"a", QUnset}, {"b", 0}}, want: "b a"},
		{name: "desc_time_order ignores q", descTime: true, puts: []put{{"a", 1000}, {"b", 0}, {"c", 500}}, want: "c b a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTestModule(t)
			m.SetDescTimeOrder(tt.descTime)
			d := m.Register("location")
			for _, p := range tt.puts {
				if err := d.Put("john", Contact{URI: p.uri, Q: p.q, Expires: t0.Unix() + 3600}); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := d.Get("john")
			if !ok || uris(got) != tt.want {
				t.Fatalf("Get = %q (found %v), want %q", uris(got), ok, tt.want)
			}
		})
	}
}

func TestUpdateRollback(t *testing.T) {
	m, _, _ := newTestModule(t)
	d := m.Register("location")
	if err := d.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 60}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := d.Update("john", func(r *Record) error {
		r.Delete("sip:a")
		r.Put(Contact{URI: "sip:b", Expires: r.Now() + 60})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update err = %v", err)
	}
	if got, _ := d.Get("john"); uris(got) != "sip:a" {
		t.Fatalf("after failed update: %q, want the old contacts", uris(got))
	}
	// A failed update of an unknown AOR leaves no record behind.
	_ = d.Update("mary", func(r *Record) error {
		r.Put(Contact{URI: "sip:m", Expires: r.Now() + 60})
		return boom
	})
	if _, ok := d.Get("mary"); ok {
		t.Fatal("failed update created a record")
	}
	if st := d.Stats(); st.Records != 1 || st.Contacts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeleteAndStats(t *testing.T) {
	m, _, _ := newTestModule(t)
	d := m.Register("location")
	for i, uri := range []string{"sip:a", "sip:b"} {
		if err := d.Put("john", Contact{URI: uri, Q: Q(i * 100), Expires: t0.Unix() + 60}); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Put("mary", Contact{URI: "sip:m", Expires: t0.Unix() + 60})
	tests := []struct {
		name      string
		aor, uri  string
		wantErr   error
		wantStats Stats
	}{
		{name: "unknown aor", aor: "nobody", uri: "sip:a", wantErr: ErrNoAOR, wantStats: Stats{Name: "location", Records: 2, Contacts: 3}},
		{name: "unknown contact", aor: "john", uri: "sip:x", wantErr: ErrNoContact, wantStats: Stats{Name: "location", Records: 2, Contacts: 3}},
		{name: "one contact", aor: "john", uri: "sip:a", wantStats: Stats{Name: "location", Records: 2, Contacts: 2}},
		{name: "last contact removes the record", aor: "john", uri: "sip:b", wantStats: Stats{Name: "location", Records: 1, Contacts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.DeleteContact(tt.aor, tt.uri); !errors.Is(err, tt.wantErr) {
				t.Fatalf("DeleteContact = %v, want %v", err, tt.wantErr)
			}
			if st := d.Stats(); st != tt.wantStats {
				t.Fatalf("stats %+v, want %+v", st, tt.wantStats)
			}
		})
	}
	if !d.DeleteAOR("mary") || d.DeleteAOR("mary") {
		t.Fatal("DeleteAOR should report the record once")
	}
	if st := d.Stats(); st.Records != 0 || st.Contacts != 0 {
		t.Fatalf("stats after DeleteAOR %+v", st)
	}
}

func TestExpiry(t *testing.T) {
	m, _, clk := newTestModule(t)
	d := m.Register("location")
	now := t0.Unix()
	_ = d.Put("john", Contact{URI: "sip:short", Expires: now + 10})
	_ = d.Put("john", Contact{URI: "sip:long", Expires: now + 100})
	_ = d.Put("mary", Contact{URI: "sip:m", Expires: now + 10})
	_ = d.Put("alias", Contact{URI: "sip:p", Expires: now, Flags: FlagPermanent})

	clk.Advance(10 * time.Second) // expires == now: no longer valid
	if got, ok := d.Get("john"); !ok || uris(got) != "sip:long" {
		t.Fatalf("john = %q, %v", uris(got), ok)
	}
	if got, ok := d.Get("mary"); !ok || len(got) != 0 {
		t.Fatalf("mary before the timer = %q, %v; want an empty record", uris(got), ok)
	}
	var dumped []string
	d.Dump(false, func(aor string, cs []Contact) bool {
		dumped = append(dumped, aor+"="+uris(cs))
		return true
	})
	if got := strings.Join(dumped, ","); got != "john=sip:long,alias=sip:p" {
		t.Fatalf("Dump(valid) = %q", got)
	}
	if n := m.ExpireNow(); n != 2 {
		t.Fatalf("ExpireNow removed %d, want 2", n)
	}
	if _, ok := d.Get("mary"); ok {
		t.Fatal("mary's empty record survived the timer")
	}
	if got, _ := d.Get("alias"); uris(got) != "sip:p" {
		t.Fatalf("permanent contact = %q", uris(got))
	}
	if st := d.Stats(); st != (Stats{Name: "location", Records: 2, Contacts: 2, Expired: 2}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestTimer(t *testing.T) {
	m, _, clk := newTestModule(t)
	d := m.Register("location")
	var mu sync.Mutex
	m.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clk.Now() })
	_ = d.Put("john", Contact{URI: "sip:a", Expires: t0.Unix() + 1})
	mu.Lock()
	clk.Advance(2 * time.Second)
	mu.Unlock()

	m.tick = time.Millisecond
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err == nil {
		t.Fatal("second Start should fail")
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Records != 0 {
		if time.Now().After(deadline) {
			t.Fatal("timer did not remove the expired contact")
		}
		time.Sleep(time.Millisecond)
	}
	m.Stop()
	m.Stop() // idempotent
	if d.Stats().Expired != 1 {
		t.Fatalf("expired = %d", d.Stats().Expired)
	}
}

func TestRegisterOrder(t *testing.T) {
	m, _, _ := newTestModule(t)
	a := m.Register("location")
	m.Register("aliases")
	if m.Register("location") != a {
		t.Fatal("Register made a second location table")
	}
	var names []string
	for _, d := range m.Domains() {
		names = append(names, d.Name())
	}
	if got := strings.Join(names, " "); got != "aliases location" {
		t.Fatalf("Domains = %q", got)
	}
	if _, ok := m.Domain("nosuch"); ok {
		t.Fatal("Domain found a table never registered")
	}
}

// TestConcurrent saves, looks up, deletes and expires from many
// goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	m, _, _ := newTestModule(t)
	d := m.Register("location")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				aor := fmt.Sprintf("user%d", i%20)
				switch (g + i) % 5 {
				case 0, 1:
					_ = d.Put(aor, Contact{URI: fmt.Sprintf("sip:%d@h", g), Q: Q(i % 1000), Expires: t0.Unix() + int64(i%3)})
				case 2:
					d.Get(aor)
				case 3:
					_ = d.DeleteContact(aor, fmt.Sprintf("sip:%d@h", g))
				case 4:
					if i%50 == 0 {
						m.ExpireNow()
						d.Dump(true, func(string, []Contact) bool { return true })
					}
				}
			}
		}(g)
	}
	wg.Wait()
	var recs, contacts int64
	d.Dump(true, func(_ string, cs []Contact) bool {
		recs++
		contacts += int64(len(cs))
		return true
	})
	if st := d.Stats(); st.Records != recs || st.Contacts != contacts {
		t.Fatalf("stats %+v disagree with the table: %d records, %d contacts", st, recs, contacts)
	}
}
