package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// monitorApp is an app for monitor runs on a fake FIFO.
func monitorApp(tty bool, sleep func(ctx context.Context, d time.Duration) error) (*app, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &app{
		argv0: "/usr/sbin/serctl", stdout: &out, stderr: &errb, isTTY: tty,
		getenv: func(k string) string { return map[string]string{"WATCH_PERIOD": "7"}[k] },
		exec:   &fakeFIFO{replies: monitorReplies},
		sleep:  sleep,
	}, &out, &errb
}

func TestMonitorTerminal(t *testing.T) {
	var slept []time.Duration
	a, out, _ := monitorApp(true, func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	})
	if code := a.run(context.Background(), []string{"monitor", "3"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Cleared once, then each cycle drawn from the top and the rest of the
	// screen cleared; WATCH_PERIOD between cycles, not after the last.
	cycles := strings.Split(strings.TrimPrefix(out.String(), ttyClear), ttyHome)
	if !strings.HasPrefix(out.String(), ttyClear) || len(cycles) != 4 || cycles[0] != "" {
		t.Fatalf("output %q", out.String())
	}
	for i, c := range cycles[1:] {
		if !strings.HasPrefix(c, "[cycle #: "+string(rune('1'+i))+"; ") || !strings.HasSuffix(c, "'location' 29 17\n"+ttyClrEnd) {
			t.Errorf("cycle %d: %q", i+1, c)
		}
	}
	if len(slept) != 2 || slept[0] != 7*time.Second {
		t.Errorf("slept %v, want 2 × 7s", slept)
	}
}

func TestMonitorInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a, out, _ := monitorApp(false, func(ctx context.Context, d time.Duration) error {
		cancel() // ^C while waiting
		<-ctx.Done()
		return ctx.Err()
	})
	if code := a.run(ctx, []string{"monitor"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.HasPrefix(out.String(), "[cycle #: 1;") || !strings.HasSuffix(out.String(), "'location' 29 17\nserctl monitor ^C-ed\n") {
		t.Errorf("output %q", out.String())
	}
}
