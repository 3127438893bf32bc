package tm

import (
	"testing"
	"time"

	"ser/internal/testing/modtest"
)

// TestMaxTransactions: with max_transactions live, a new transaction is
// refused with SER's out-of-memory answer and counted; a retransmission
// of a live one is still absorbed, and once transactions are deleted new
// ones are taken again.
func TestMaxTransactions(t *testing.T) {
	inst, _ := modtest.Load(t, Exports, modtest.NewCore(), map[string]any{"max_transactions": 2})
	if inst.(*TM).maxTxns != 2 {
		t.Fatalf("max_transactions not applied: %d", inst.(*TM).maxTxns)
	}
	if _, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), map[string]any{"max_transactions": 0}); err == nil {
		t.Fatal("max_transactions 0 accepted")
	}

	tm, _, env := newCountTM(t)
	tm.maxTxns = 2
	tm.SetTimers(Timers{FR: time.Hour, FRInv: time.Hour, Wait: 20 * time.Millisecond, T1: time.Hour, T2: time.Hour})
	relay := modtest.Bind(t, Exports, tm, env, "t_relay")
	var live []int
	for i := 0; i < 2; i++ {
		if r, _ := relay(soakRequest(t, "MESSAGE", i)); r != 1 {
			t.Fatalf("t_relay %d = %d", i, r)
		}
		live = append(live, i)
	}
	m := soakRequest(t, "MESSAGE", 2)
	if r, _ := relay(m); r != -1 || m.ErrCode != 500 || m.ErrReason != reasonNoMem {
		t.Fatalf("over the limit: %d %d %q", r, m.ErrCode, m.ErrReason)
	}
	if got := tm.Stats().Refused; got != 1 {
		t.Fatalf("refused %d, want 1", got)
	}
	if r, _ := relay(soakRequest(t, "MESSAGE", live[0])); r != 0 {
		t.Fatalf("retransmission at the limit: %d, want 0 (absorbed)", r)
	}
	// Once the wait timer deleted a completed one, new ones are taken.
	tm.Stop()
	tm2, _, env2 := newCountTM(t)
	tm2.maxTxns = 1
	tm2.SetTimers(Timers{FR: time.Hour, FRInv: time.Hour, Wait: 20 * time.Millisecond, T1: time.Hour, T2: time.Hour})
	relay2 := modtest.Bind(t, Exports, tm2, env2, "t_relay")
	first := soakRequest(t, "MESSAGE", 10)
	if r, _ := relay2(first); r != 1 {
		t.Fatalf("t_relay = %d", r)
	}
	tm2.HandleReply(replyTo(t, first, 0, 200))
	deadline := time.Now().Add(5 * time.Second)
	for tm2.Count() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions still live after the wait timer", tm2.Count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r, _ := relay2(soakRequest(t, "MESSAGE", 11)); r != 1 {
		t.Fatalf("after deletion: t_relay = %d", r)
	}
	tm2.Stop()
}
