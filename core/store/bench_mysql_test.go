package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ser/internal/testing/mariadb"
)

// The benchmarks of bench_test.go on MariaDB over TCP on 127.0.0.1 (a
// server of internal/testing/mariadb: no fsync, so these measure the store, the
// driver and the protocol, not a disk).

func BenchmarkMariaDBLoadContacts100k(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	if err := fillLocation(s); err != nil {
		b.Fatal(err)
	}
	benchLoad(b, s)
}

func BenchmarkMariaDBFlushContacts(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchFlush(b, s)
}

func BenchmarkMariaDBUpsertContact(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchUpsert(b, s)
}

func BenchmarkMariaDBCredentials(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchCredentials(b, s)
}

// BenchmarkMariaDBRegisterPath is the database side of an authenticated
// REGISTER (auth_db's credentials lookup, then usrloc's write-through
// upsert) run by w concurrent workers, as ser's SIP workers do, with the
// statements coalesced (engine_batch.go) and, for comparison, one
// statement each ("single": the prepared statements alone). Besides the
// wall time per REGISTER it reports the CPU time of this process and of
// mariadbd per REGISTER and the statements sent per REGISTER. Run it on
// one core (-cpu 1) to see ser's side as on the pinned benchmark.
func BenchmarkMariaDBRegisterPath(b *testing.B) {
	srv := mariadb.Shared(b)
	s := mariadbEngine.openURL(b, srv.URL(srv.NewDatabase(b)))
	ctx := context.Background()
	const users = 1000
	for i := range users {
		if err := s.AddSubscriber(ctx, Subscriber{Username: fmt.Sprintf("u%d", i), Domain: "example.com", Password: "pw"}); err != nil {
			b.Fatal(err)
		}
	}
	qt, _ := s.ident("location")
	const lookup = "SELECT `ha1` FROM `subscriber` WHERE `username` = ? LIMIT 1"
	for _, mode := range []string{"coalesced", "single"} {
		for _, w := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, w), func(b *testing.B) {
				var next atomic.Int64
				register := func() error {
					n := int(next.Add(1))
					u := fmt.Sprintf("u%d", n%users)
					c := Contact{Username: u, Domain: "example.com", Contact: "sip:" + u + "@192.0.2.1", Expires: t0, Q: 1, CSeq: n}
					if mode == "coalesced" {
						if _, err := s.Credentials(ctx, CredentialsQuery{Username: u, Columns: []string{"ha1"}}); err != nil {
							return err
						}
						return s.UpsertContact(ctx, "location", c)
					}
					if _, err := s.lookupOne(ctx, lookup, 1, []any{u}); err != nil {
						return err
					}
					return s.execOne(ctx, s.upsertQuery(qt), s.contactArgs(&c))
				}
				stmts0, cpu0, db0 := s.Stats().Count.Load(), processCPU(), pidCPU(srv.Pid())
				b.ResetTimer()
				var wg sync.WaitGroup
				var left atomic.Int64
				left.Store(int64(b.N))
				for range w {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							if err := register(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				n := float64(b.N)
				b.ReportMetric(float64(processCPU()-cpu0)/n, "cpu-ns/op")
				b.ReportMetric(float64(pidCPU(srv.Pid())-db0)/n, "mariadbd-cpu-ns/op")
				b.ReportMetric(float64(s.Stats().Count.Load()-stmts0)/n, "stmts/op")
			})
		}
	}
}

// processCPU is this process's CPU time (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pidCPU is the CPU time of process pid (all threads), from /proc.
func pidCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
}
