package dispatcher

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ser/core/modules/tm"
)

func TestProbeMarksDownAndUp(t *testing.T) {
	d, _ := load(t, "1 sip:a\n1 sip:b\n", map[string]any{"ds_probing_threshold": 2})
	down := map[string]bool{}
	u := &fakeUAC{answer: func(r tm.UACRequest) int {
		if down[r.RURI] {
			return 408
		}
		return 200
	}}
	d.SetUAC(u)
	if n := d.ProbeAll(); n != 2 {
		t.Fatalf("probed %d destinations", n)
	}
	if s := state(t, d, 1, "sip:a"); s != "AP" {
		t.Fatalf("after a 200: %s", s)
	}
	r := u.sent[0]
	if r.Method != "OPTIONS" || r.RURI != "sip:a" || r.To != "sip:a" || r.From != "sip:dispatcher@localhost" {
		t.Fatalf("probe %+v", r)
	}
	down["sip:a"] = true
	d.ProbeAll()
	if s := state(t, d, 1, "sip:a"); s != "TP" {
		t.Fatalf("after one failure (threshold 2): %s", s)
	}
	d.ProbeAll()
	if s := state(t, d, 1, "sip:a"); s != "IP" {
		t.Fatalf("after two failures: %s", s)
	}
	for i := 0; i < 5; i++ {
		if u := pick(t, d, invite(t, "c"), 1, AlgRoundRobin); u != "sip:b" {
			t.Fatalf("inactive destination selected: %s", u)
		}
	}
	delete(down, "sip:a")
	d.ProbeAll()
	if s := state(t, d, 1, "sip:a"); s != "AP" {
		t.Fatalf("after answering again: %s", s)
	}
}

func TestProbeReplyCodes(t *testing.T) {
	tests := []struct {
		code int
		up   bool
	}{
		{200, true}, {202, true}, {302, true}, {404, true}, {405, true}, {483, true},
		{408, false}, {500, false}, {503, false}, {600, false}, {478, true},
	}
	for _, tc := range tests {
		if alive(tc.code) != tc.up {
			t.Errorf("alive(%d) = %v", tc.code, !tc.up)
		}
	}
}

func TestProbingMode0(t *testing.T) {
	d, _ := load(t, "1 sip:a\n1 sip:b 9\n", map[string]any{"ds_probing_mode": 0})
	u := &fakeUAC{answer: func(tm.UACRequest) int { return 200 }}
	d.SetUAC(u)
	// Only b (flags 9: inactive + probing) is probed; answering clears
	// both bits, so it is not probed any more.
	if n := d.ProbeAll(); n != 1 || u.sent[0].RURI != "sip:b" {
		t.Fatalf("probed %d: %+v", n, u.sent)
	}
	if s := state(t, d, 1, "sip:b"); s != "AX" {
		t.Fatalf("b after answering: %s", s)
	}
	if n := d.ProbeAll(); n != 0 {
		t.Fatalf("probed %d after every destination is up", n)
	}
	// A failure reported by the script (ds_mark_dst("ip")) starts probing.
	m := invite(t, "c")
	pick(t, d, m, 1, AlgFirst)
	d.Mark(m, StateInactive|StateProbing)
	if n := d.ProbeAll(); n != 1 {
		t.Fatalf("probed %d after ds_mark_dst", n)
	}
}

func TestProbeSkipsDisabledAndPending(t *testing.T) {
	d, _ := load(t, "1 sip:a\n1 sip:b 4\n", nil)
	u := &fakeUAC{} // never answers
	d.SetUAC(u)
	if n := d.ProbeAll(); n != 1 {
		t.Fatalf("first round probed %d", n)
	}
	if n := d.ProbeAll(); n != 0 {
		t.Fatalf("second round probed %d while the first probe is pending", n)
	}
	// The administrator disables a meanwhile: the late reply changes nothing.
	d.SetState(1, "sip:a", StateDisabled)
	u.reply("sip:a", 503)
	if s := state(t, d, 1, "sip:a"); s != "DX" {
		t.Fatalf("a after a late reply: %s", s)
	}
	d.SetState(1, "sip:a", 0)
	if n := d.ProbeAll(); n != 1 {
		t.Fatalf("probe after the reply: %d", n)
	}
}

func TestProbeNotSent(t *testing.T) {
	d, _ := load(t, "1 sip:unresolvable.invalid\n", nil)
	d.SetUAC(&fakeUAC{err: &tm.UACError{Code: 478, Reason: "Unresolvable destination", Err: errors.New("no such host")}})
	d.ProbeAll()
	if s := state(t, d, 1, "sip:unresolvable.invalid"); s != "IP" {
		t.Fatalf("after a probe that could not be sent: %s", s)
	}
}

func TestStartStop(t *testing.T) {
	d, _ := load(t, "1 sip:a\n", nil)
	u := &fakeUAC{answer: func(tm.UACRequest) int { return 503 }}
	d.SetUAC(u)
	d.pingInterval = 10 * time.Millisecond
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Fatalf("second Start: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for u.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.Stop()
	n := u.count()
	if n < 3 {
		t.Fatalf("%d probes in 5 s", n)
	}
	time.Sleep(30 * time.Millisecond)
	if u.count() != n {
		t.Fatal("probes sent after Stop")
	}
	d.Stop() // twice is fine
	if s := state(t, d, 1, "sip:a"); s != "IP" {
		t.Fatalf("state after 503s: %s", s)
	}
	// Without ds_ping_interval nothing starts.
	d2, _ := load(t, "1 sip:a\n", nil)
	if err := d2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	d2.Stop()
}
