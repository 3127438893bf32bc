package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ser/internal/testing/mariadb"
)

// benchRows is the size of the location table the load benchmark reads.
const benchRows = 100_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchLocation returns the path of a database whose location table holds
// benchRows contacts (10 per AOR, realistic lengths), built once per run.
func benchLocation(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "store-bench")
		if benchErr != nil {
			return
		}
		path := filepath.Join(benchDir, "bench.db")
		s, err := Open(context.Background(), path, WithLogger(quiet))
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		benchErr = fillLocation(s)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "bench.db")
}

// fillLocation writes benchRows contacts into s's location table.
func fillLocation(s *Store) error {
	ops := make([]ContactOp, 0, 10_000)
	for i := range benchRows {
		c := Contact{Username: fmt.Sprintf("user%07d", i/10), Domain: "example.com",
			Contact:  fmt.Sprintf("sip:user%07d@192.0.2.%d:5060;transport=udp;line=%d", i/10, i%250, i),
			Received: "sip:198.51.100.7:32768", Expires: t0.Add(time.Hour), Q: 1,
			CallID: fmt.Sprintf("%016x@192.0.2.1", i), CSeq: 101, UserAgent: "Linksys/PAP2T-3.1.15(LS)"}
		ops = append(ops, ContactOp{Kind: OpUpsert, Contact: c})
		if len(ops) == cap(ops) {
			if err := s.FlushContacts(context.Background(), "location", ops); err != nil {
				return err
			}
			ops = ops[:0]
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	mariadb.StopShared()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// BenchmarkLoadContacts100k streams a 100,000-row location table (usrloc
// preload). Reported: ns per full load and rows/s.
func BenchmarkLoadContacts100k(b *testing.B) {
	path := benchLocation(b)
	s, err := Open(context.Background(), path, WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchLoad(b, s)
}

func benchLoad(b *testing.B, s *Store) {
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		n := 0
		if err := s.LoadContacts(context.Background(), "location", func(Contact) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchRows {
			b.Fatalf("loaded %d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkFlushContacts writes 1,000 upserts in one transaction (usrloc
// write-back). Reported per flush.
func BenchmarkFlushContacts(b *testing.B) {
	s, _ := openTest(b)
	benchFlush(b, s)
}

func benchFlush(b *testing.B, s *Store) {
	ops := make([]ContactOp, 1000)
	b.ResetTimer()
	for n := range b.N {
		for i := range ops {
			ops[i] = ContactOp{Kind: OpUpsert, Contact: Contact{Username: fmt.Sprintf("u%d", i), Domain: "example.com",
				Contact: fmt.Sprintf("sip:u%d@192.0.2.1", i), Expires: t0, Q: 1, CallID: "x", CSeq: n}}
		}
		if err := s.FlushContacts(context.Background(), "location", ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpsertContact is one write-through REGISTER (db_mode 1).
func BenchmarkUpsertContact(b *testing.B) {
	s, _ := openTest(b)
	benchUpsert(b, s)
}

func benchUpsert(b *testing.B, s *Store) {
	b.ResetTimer()
	for n := range b.N {
		c := Contact{Username: fmt.Sprintf("u%d", n%1000), Domain: "example.com", Contact: "sip:u@192.0.2.1", Expires: t0, Q: 1, CSeq: n}
		if err := s.UpsertContact(context.Background(), "location", c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCredentials is auth's per-request lookup.
func BenchmarkCredentials(b *testing.B) {
	s, _ := openTest(b)
	benchCredentials(b, s)
}

func benchCredentials(b *testing.B, s *Store) {
	ctx := context.Background()
	for i := range 1000 {
		if err := s.AddSubscriber(ctx, Subscriber{Username: fmt.Sprintf("u%d", i), Domain: "example.com", Password: "pw"}); err != nil {
			b.Fatal(err)
		}
	}
	q := CredentialsQuery{UseDomain: true, Domain: "example.com", Columns: []string{"ha1", "ha1b"}}
	b.ResetTimer()
	for n := range b.N {
		q.Username = fmt.Sprintf("u%d", n%1000)
		if _, err := s.Credentials(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}
