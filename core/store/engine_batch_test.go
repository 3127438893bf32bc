package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a batch executor for the batcher tests: it records the batches
// it got and, while held, blocks each one until released.
type gate struct {
	mu      sync.Mutex
	batches [][]int
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{}, 100)}
}

func (g *gate) exec(_ context.Context, qs []int) ([]int, []error) {
	g.mu.Lock()
	g.batches = append(g.batches, append([]int(nil), qs...))
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
	rs, errs := make([]int, len(qs)), make([]error, len(qs))
	for i, q := range qs {
		if q < 0 {
			errs[i] = fmt.Errorf("bad %d", q)
		}
		rs[i] = q * 10
	}
	return rs, errs
}

// waitQueued polls until n calls wait in b's queue.
func waitQueued(t *testing.T, b *batcher[int, int], n int) {
	t.Helper()
	for {
		b.mu.Lock()
		q := len(b.queue)
		b.mu.Unlock()
		if q == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	r, q int
	err  error
}

func TestBatcherCoalesces(t *testing.T) {
	g := newGate()
	b := newBatcher(3, g.exec)
	ctx := context.Background()
	out := make(chan outcome, 10)
	call := func(q int) {
		r, err := b.do(ctx, q)
		out <- outcome{r, q, err}
	}
	// A lone call runs at once, alone.
	go call(1)
	<-g.entered
	// Four more arrive while it is in flight: they queue.
	for _, q := range []int{2, 3, -4, 5} {
		go call(q)
	}
	waitQueued(t, b, 4)
	g.release <- struct{}{}
	// The first queued call runs the queue up to max (3) as one batch,
	// then the next one the rest.
	<-g.entered
	g.release <- struct{}{}
	<-g.entered
	g.release <- struct{}{}
	got := map[int]outcome{}
	for range 5 {
		o := <-out
		got[o.q] = o
	}
	for _, q := range []int{1, 2, 3, 5} {
		if got[q].err != nil || got[q].r != q*10 {
			t.Errorf("call %d: %d, %v", q, got[q].r, got[q].err)
		}
	}
	if got[-4].err == nil {
		t.Errorf("call -4 got no error")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.batches) != 3 || len(g.batches[0]) != 1 || len(g.batches[1]) != 3 || len(g.batches[2]) != 1 {
		t.Fatalf("batches %v, want sizes 1, 3, 1", g.batches)
	}
	// Arrival order is kept across batches.
	var order []int
	for _, bt := range g.batches[1:] {
		order = append(order, bt...)
	}
	sorted := append([]int(nil), order...)
	if !reflect.DeepEqual(order, sorted) || len(order) != 4 {
		t.Errorf("queued calls ran as %v", g.batches[1:])
	}
	b.mu.Lock()
	if b.busy || len(b.queue) != 0 {
		t.Errorf("batcher left busy=%v with %d queued", b.busy, len(b.queue))
	}
	b.mu.Unlock()
}

func TestBatcherQueuedCallGivesUp(t *testing.T) {
	g := newGate()
	b := newBatcher(10, g.exec)
	go b.do(context.Background(), 1)
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := b.do(ctx, 2); done <- err }()
	waitQueued(t, b, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	g.release <- struct{}{}
	// The batcher is free again, and the abandoned call never ran.
	go b.do(context.Background(), 3)
	<-g.entered
	g.release <- struct{}{}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !reflect.DeepEqual(g.batches, [][]int{{1}, {3}}) {
		t.Errorf("batches %v, want [[1] [3]]", g.batches)
	}
}

func TestBatcherInFlightCallGivesUp(t *testing.T) {
	g := newGate()
	b := newBatcher(10, g.exec)
	go b.do(context.Background(), 1)
	<-g.entered
	// 2 and 3 queue; 2 then runs them as one batch, and 3 gives up while
	// it is in flight.
	lead := make(chan outcome, 1)
	go func() { r, err := b.do(context.Background(), 2); lead <- outcome{r, 2, err} }()
	waitQueued(t, b, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := b.do(ctx, 3); done <- err }()
	waitQueued(t, b, 2)
	g.release <- struct{}{}
	<-g.entered // [2 3] in flight
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	g.release <- struct{}{}
	if o := <-lead; o.err != nil || o.r != 20 {
		t.Errorf("leading call: %+v", o)
	}
	go func() { <-g.entered; g.release <- struct{}{} }()
	if r, err := b.do(context.Background(), 4); err != nil || r != 40 {
		t.Errorf("next call: %d, %v", r, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !reflect.DeepEqual(g.batches, [][]int{{1}, {2, 3}, {4}}) {
		t.Errorf("batches %v", g.batches)
	}
}

func TestBatchContextDeadline(t *testing.T) {
	now := time.Now()
	short, c1 := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer c1()
	long, c2 := context.WithDeadline(context.Background(), now.Add(time.Hour))
	defer c2()
	calls := []*batchCall[int, int]{{ctx: short}, {ctx: long}}
	ctx, cancel := batchContext(calls)
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(now.Add(time.Hour)) {
		t.Errorf("deadline %v %v, want the latest", d, ok)
	}
	c1() // one caller giving up does not cancel the batch
	if ctx.Err() != nil {
		t.Errorf("batch cancelled with its first caller")
	}
	calls = append(calls, &batchCall[int, int]{ctx: context.Background()})
	ctx2, cancel2 := batchContext(calls)
	defer cancel2()
	if _, ok := ctx2.Deadline(); ok {
		t.Errorf("a call without deadline: the batch has one")
	}
}

// TestMariaDBBatchedStatements runs the MySQL batches of UpsertContact
// and Credentials directly (multi-row upsert, UNION ALL lookup) with a
// failing member, then many concurrent callers through the store.
func TestMariaDBBatchedStatements(t *testing.T) {
	t.Parallel()
	s, _ := mariadbEngine.open(t)
	ctx := context.Background()
	qt, err := s.ident("location")
	if err != nil {
		t.Fatal(err)
	}

	// A multi-row upsert; a row the database refuses (NULL username)
	// fails alone, the others are written.
	a, b := contact("alice", "sip:a@10.0.0.1", t0.Add(time.Hour)), contact("bob", "sip:b@10.0.0.2", t0.Add(time.Hour))
	bad := s.contactArgs(&b)
	bad[0] = nil
	ba := s.contactArgs(&a)
	_, errs := s.upsertBatcher(qt).exec(ctx, [][]any{ba, s.contactArgs(&b)})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("batch: %v", errs)
	}
	a.CSeq = 7
	_, errs = s.upsertBatcher(qt).exec(ctx, [][]any{s.contactArgs(&a), bad})
	if errs[0] != nil || errs[1] == nil {
		t.Fatalf("batch with a bad row: %v", errs)
	}
	got, err := s.Contacts(ctx, "location", "alice", "example.com")
	if err != nil || len(got) != 1 || got[0].CSeq != 7 {
		t.Fatalf("alice after the fallback: %+v, %v", got, err)
	}

	// A joined lookup: found, not found, found; a lookup with the wrong
	// number of parameters fails alone.
	for _, u := range []string{"u1", "u2"} {
		if err := s.AddSubscriber(ctx, Subscriber{Username: u, Domain: "example.com", Password: "pw-" + u}); err != nil {
			t.Fatal(err)
		}
	}
	q := "SELECT `ha1`, `domain` FROM `subscriber` WHERE `username` = ? LIMIT 1"
	lb := s.lookupBatcher(q, 2)
	rs, errs := lb.exec(ctx, [][]any{{"u2"}, {"nobody"}, {"u1"}})
	if errs[0] != nil || errs[1] != sql.ErrNoRows || errs[2] != nil {
		t.Fatalf("joined lookup errors %v", errs)
	}
	if rs[0][0].String != HA1("u2", "example.com", "pw-u2") || rs[2][0].String != HA1("u1", "example.com", "pw-u1") || rs[2][1].String != "example.com" {
		t.Errorf("joined lookup rows %+v", rs)
	}
	rs, errs = lb.exec(ctx, [][]any{{"u1"}, {}})
	if errs[0] != nil || errs[1] == nil || rs[0][0].String != HA1("u1", "example.com", "pw-u1") {
		t.Fatalf("joined lookup with a bad member: %v %+v", errs, rs)
	}

	// Many concurrent callers: every contact written with its own values,
	// every lookup answered with its own row, every acc record written.
	const users, rounds = 40, 5
	var wg sync.WaitGroup
	fail := make(chan error, users*rounds*2)
	for i := range users {
		wg.Go(func() {
			u := fmt.Sprintf("c%d", i)
			if err := s.AddSubscriber(ctx, Subscriber{Username: u, Domain: "example.com", Password: "pw" + u}); err != nil {
				fail <- err
				return
			}
			for r := range rounds {
				c := contact(u, "sip:"+u+"@192.0.2.1", t0.Add(time.Hour))
				c.CSeq = r
				if err := s.UpsertContact(ctx, "location", c); err != nil {
					fail <- err
				}
				got, err := s.Credentials(ctx, CredentialsQuery{Username: u, Columns: []string{"ha1"}})
				if err != nil || len(got) != 1 || got[0] != HA1(u, "example.com", "pw"+u) {
					fail <- fmt.Errorf("credentials of %s: %v %v", u, got, err)
				}
				if _, err := s.Credentials(ctx, CredentialsQuery{Username: u + "-missing", Columns: []string{"ha1"}}); !errors.Is(err, ErrNotFound) {
					fail <- fmt.Errorf("missing %s: %v", u, err)
				}
				if err := s.InsertAcc(ctx, "acc", AccRecord{Method: "INVITE", Status: "200", CallID: fmt.Sprintf("%s-%d", u, r), Username: u}); err != nil {
					fail <- err
				}
			}
		})
	}
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Error(err)
	}
	var n, ids int
	if err := s.r.QueryRow("SELECT COUNT(*), COUNT(DISTINCT sip_callid) FROM acc WHERE sip_method = 'INVITE'").Scan(&n, &ids); err != nil || n != users*rounds || ids != n {
		t.Errorf("acc: %d rows, %d call ids, want %d (%v)", n, ids, users*rounds, err)
	}
	for i := range users {
		u := fmt.Sprintf("c%d", i)
		got, err := s.Contacts(ctx, "location", u, "example.com")
		if err != nil || len(got) != 1 || got[0].CSeq != rounds-1 || !strings.HasPrefix(got[0].Contact, "sip:"+u+"@") {
			t.Errorf("%s: %+v, %v", u, got, err)
		}
	}
}

// TestBatcherStress runs many callers with random deadlines (some
// expiring while queued, some while their batch is in flight) against a
// slow executor: every call returns, every answered call gets its own
// result, and the batcher ends idle.
func TestBatcherStress(t *testing.T) {
	var execs sync.WaitGroup
	b := newBatcher(8, func(ctx context.Context, qs []int) ([]int, []error) {
		execs.Add(1)
		defer execs.Done()
		time.Sleep(time.Duration(len(qs)%3) * 100 * time.Microsecond)
		rs := make([]int, len(qs))
		for i, q := range qs {
			rs[i] = q + 1
		}
		return rs, make([]error, len(qs))
	})
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := range 200 {
				q := w*1000 + i
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((q*7919)%500)*time.Microsecond)
				r, err := b.do(ctx, q)
				cancel()
				if err == nil && r != q+1 {
					t.Errorf("call %d got %d", q, r)
				}
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("call %d: %v", q, err)
				}
			}
		})
	}
	wg.Wait()
	execs.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy || len(b.queue) != 0 {
		t.Errorf("batcher left busy=%v with %d queued", b.busy, len(b.queue))
	}
}

// TestBatcherPanic: an executor that panics (in the leading caller's
// goroutine, which the SIP worker recovers) fails the other calls of the
// batch and leaves the batcher usable.
func TestBatcherPanic(t *testing.T) {
	g := newGate()
	boom := true
	b := newBatcher(10, func(ctx context.Context, qs []int) ([]int, []error) {
		if len(qs) > 1 && boom {
			boom = false
			panic("boom")
		}
		return g.exec(ctx, qs)
	})
	go b.do(context.Background(), 1)
	<-g.entered
	lead := make(chan any, 1)
	go func() {
		defer func() { lead <- recover() }()
		b.do(context.Background(), 2)
	}()
	waitQueued(t, b, 1)
	other := make(chan error, 1)
	go func() { _, err := b.do(context.Background(), 3); other <- err }()
	waitQueued(t, b, 2)
	g.release <- struct{}{} // [2 3] runs and panics in 2's goroutine
	if p := <-lead; p != "boom" {
		t.Fatalf("leading call recovered %v", p)
	}
	if err := <-other; !errors.Is(err, errPanicked) {
		t.Fatalf("other call of the batch: %v", err)
	}
	go func() { <-g.entered; g.release <- struct{}{} }()
	if r, err := b.do(context.Background(), 4); err != nil || r != 40 {
		t.Errorf("after the panic: %d, %v", r, err)
	}
}
