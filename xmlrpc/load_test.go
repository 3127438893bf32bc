package xmlrpc

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/rpc"
)

// TestLoad makes 2,000 fifo.execute calls from 20 concurrent kolo clients;
// each answer must carry its own call's parameters.
func TestLoad(t *testing.T) {
	const clients, perClient = 20, 100
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newKoloTransport(t, ts.URL+"/xmlrpc", &http.Transport{MaxIdleConnsPerHost: 1})
			for i := range perClient {
				tag := fmt.Sprintf("c%d-%d", c, i)
				var res execResult
				err := cl.Call("fifo.execute", map[string]any{"cmdname": "echo", "cmdparams": []any{tag, i}}, &res)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", tag, err)
					return
				}
				if res.Code != 200 || len(res.Lines) != 2 || res.Lines[0] != tag || res.Lines[1] != fmt.Sprint(i) {
					errs <- fmt.Errorf("%s: wrong answer %+v", tag, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	elapsed := time.Since(start)
	if n := f.runs.Load(); n != clients*perClient {
		t.Fatalf("%d commands ran, want %d", n, clients*perClient)
	}
	if elapsed > 20*time.Second {
		t.Fatalf("2,000 calls took %s", elapsed)
	}
	t.Logf("%d calls in %s (%.0f calls/s)", clients*perClient, elapsed, float64(clients*perClient)/elapsed.Seconds())
}

// BenchmarkFifoExecute measures fifo.execute round trips (kolo client,
// HTTP over loopback, in-process registry), reported as calls/s.
func BenchmarkFifoExecute(b *testing.B) {
	f := newFixture(b)
	_, ts := newServer(b, rpc.NewLocal(f.reg), Options{})
	args := map[string]any{"cmdname": "ul_show_contact", "cmdparams": []string{"location", "012345"}}
	b.ReportAllocs()
	b.SetParallelism(4)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		cl := newKoloTransport(b, ts.URL+"/xmlrpc", &http.Transport{MaxIdleConnsPerHost: 1})
		for pb.Next() {
			var res execResult
			if err := cl.Call("fifo.execute", args, &res); err != nil || res.Code != 200 {
				b.Errorf("call: %+v, %v", res, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkDecodeCall measures decoding PHP's seed request.
func BenchmarkDecodeCall(b *testing.B) {
	body := seedBody(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCall(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
