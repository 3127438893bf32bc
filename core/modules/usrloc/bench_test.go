package usrloc

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// benchContacts is the table size of the benchmarks: the performance
// target is 1,000,000 registered contacts in well under 1 GiB.
const benchContacts = 1_000_000

var (
	benchOnce     sync.Once
	benchDomain   *Domain
	benchAORs     []string
	benchPerEntry float64
)

// benchTable fills a table with one contact per AOR, as a registrar
// would, once per test binary run, and measures the heap it takes.
func benchTable(b *testing.B) (*Domain, []string) {
	benchOnce.Do(func() {
		aors := make([]string, benchContacts)
		for i := range aors {
			aors[i] = "user" + strconv.Itoa(i)
		}
		m := New()
		d := m.Register("location")
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i, aor := range aors {
			_ = d.Put(aor, benchContact(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		benchPerEntry = float64(after.HeapAlloc-before.HeapAlloc) / benchContacts
		benchDomain, benchAORs = d, aors
	})
	b.Cleanup(func() { b.ReportMetric(benchPerEntry, "heap-bytes/contact") })
	return benchDomain, benchAORs
}

func benchContact(i int) Contact {
	return Contact{
		URI:       "sip:user" + strconv.Itoa(i) + "@192.168.1." + strconv.Itoa(i%250) + ":5060;transport=udp",
		Expires:   1 << 40,
		Q:         QUnset,
		CallID:    strconv.Itoa(i) + "-a84b4c76e66710@pc33.example.com",
		CSeq:      int32(i),
		UserAgent: "Linphone/3.6.1 (belle-sip/1.3.0)",
	}
}

// BenchmarkSave re-registers contacts of a 1,000,000-contact table (an
// update of an existing binding: what most REGISTERs are).
func BenchmarkSave(b *testing.B) {
	d, aors := benchTable(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := (i * 7919) % len(aors)
		c := benchContact(n)
		c.CSeq = int32(i)
		_ = d.Put(aors[n], c)
	}
}

// BenchmarkSaveParallel is BenchmarkSave from all CPUs at once.
func BenchmarkSaveParallel(b *testing.B) {
	d, aors := benchTable(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			n := (i * 7919) % len(aors)
			_ = d.Put(aors[n], benchContact(n))
		}
	})
}

// BenchmarkLookup gets the contacts of AORs of a 1,000,000-contact table.
func BenchmarkLookup(b *testing.B) {
	d, aors := benchTable(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cs, ok := d.Get(aors[(i*7919)%len(aors)]); !ok || len(cs) == 0 {
			b.Fatal("lookup failed")
		}
	}
}

// BenchmarkLookupParallel is BenchmarkLookup from all CPUs at once.
func BenchmarkLookupParallel(b *testing.B) {
	d, aors := benchTable(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, ok := d.Get(aors[(i*7919)%len(aors)]); !ok {
				b.Fatal("lookup failed")
			}
		}
	})
}
