package usrloc

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/store"
)

var loadContacts = flag.Int("loadcontacts", 1_000_000, "rows in the location table of BenchmarkStartupLoad")

// fillLocation writes n registrar-like rows (one contact per AOR, a few
// User-Agents) into the location table of the database at path.
func fillLocation(tb testing.TB, path string, n int) {
	tb.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+path, store.WithLogger(quietLog))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if err := st.EnsureLocationTable(context.Background(), "location"); err != nil {
		tb.Fatal(err)
	}
	uas := []string{"Linphone/3.6.1 (belle-sip/1.3.0)", "snom360/6.5.2", "Grandstream GXP2000 1.1.6.16", "X-Lite release 1104o"}
	exp := time.Now().Add(time.Hour)
	ops := make([]store.ContactOp, 0, flushBatch)
	for i := 0; i < n; i++ {
		ops = append(ops, store.ContactOp{Kind: store.OpUpsert, Contact: store.Contact{
			Username:  "user" + strconv.Itoa(i),
			Contact:   "sip:user" + strconv.Itoa(i) + "@192.168." + strconv.Itoa(i/250%250) + "." + strconv.Itoa(i%250) + ":5060;transport=udp",
			Expires:   exp,
			Q:         -1,
			CallID:    strconv.Itoa(i) + "-a84b4c76e66710@pc33.example.com",
			CSeq:      i % 1000,
			UserAgent: uas[i%len(uas)],
		}})
		if len(ops) == cap(ops) || i == n-1 {
			if err := st.FlushContacts(context.Background(), "location", ops); err != nil {
				tb.Fatal(err)
			}
			ops = ops[:0]
		}
	}
}

// BenchmarkStartupLoad measures what a restart in db_mode 1 or 2 costs:
// opening the database and loading a location table of -loadcontacts rows
// (default 1,000,000) into memory with Start. It reports the load time,
// rows per second and the heap the loaded table takes per contact.
//
//	go test -run XXX -bench StartupLoad -benchtime 1x ./core/modules/usrloc/
func BenchmarkStartupLoad(b *testing.B) {
	n := *loadContacts
	path := filepath.Join(b.TempDir(), "ser.db")
	start := time.Now()
	fillLocation(b, path, n)
	b.Logf("wrote %d rows in %v", n, time.Since(start).Round(time.Millisecond))
	var perContact float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		st, err := store.Open(context.Background(), "sqlite://"+path, store.WithLogger(quietLog))
		if err != nil {
			b.Fatal(err)
		}
		m := New()
		p, _ := Exports.FindParam("db_mode")
		_ = p.Set(m, module.Value{N: 2, IsInt: true})
		env := &module.Env{RPC: rpc.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			DB: func(string) (*store.Store, error) { return st, nil }}
		if err := Exports.Initialize(m, env); err != nil {
			b.Fatal(err)
		}
		d := m.Register("location")
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := d.Stats().Contacts; got != int64(n) {
			b.Fatalf("loaded %d contacts, want %d", got, n)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perContact = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		if cs, ok := d.Get("user" + strconv.Itoa(n/2)); !ok || len(cs) != 1 {
			b.Fatal("lookup after load failed")
		}
		m.Stop()
		st.Close()
		b.StartTimer()
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec, "s/load")
	b.ReportMetric(float64(n)/sec, "contacts/s")
	b.ReportMetric(perContact, "heap-bytes/contact")
}

// BenchmarkSaveDB is one REGISTER refresh (an update of an existing
// binding among 10,000) in each persistent db_mode: db_mode 1 writes the
// row before returning, db_mode 2 only queues it, db_mode 3 reads the
// record from the database and writes it back.
func BenchmarkSaveDB(b *testing.B) {
	for _, mode := range []int{1, 2, 3} {
		b.Run("db_mode="+strconv.Itoa(mode), func(b *testing.B) {
			dm := startDB(b, filepath.Join(b.TempDir(), "ser.db"), mode, []string{"location"})
			d, _ := dm.m.Domain("location")
			for i := 0; i < 10_000; i++ {
				_ = d.Put("user"+strconv.Itoa(i), benchContact(i))
			}
			_ = dm.m.Flush()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := (i * 7919) % 10_000
				c := benchContact(n)
				c.CSeq = int32(i)
				if err := d.Put("user"+strconv.Itoa(n), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookupDBOnly is a lookup in db_mode 3: one indexed query.
func BenchmarkLookupDBOnly(b *testing.B) {
	dm := startDB(b, filepath.Join(b.TempDir(), "ser.db"), 3, []string{"location"})
	d, _ := dm.m.Domain("location")
	for i := 0; i < 10_000; i++ {
		_ = d.Put("user"+strconv.Itoa(i), benchContact(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cs, ok, err := d.Lookup("user" + strconv.Itoa((i*7919)%10_000)); err != nil || !ok || len(cs) != 1 {
			b.Fatal("lookup failed", err)
		}
	}
}
