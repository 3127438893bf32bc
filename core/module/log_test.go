package module

import (
	"log/slog"
	"testing"
)

func TestSlogLevel(t *testing.T) {
	for lvl, want := range map[int]slog.Level{-4: LevelAlert, -3: LevelAlert, -2: LevelCrit, -1: slog.LevelError,
		0: slog.LevelWarn, 1: slog.LevelWarn, 2: LevelNotice, 3: slog.LevelInfo, 4: slog.LevelDebug, 9: slog.LevelDebug} {
		if got := SlogLevel(lvl); got != want {
			t.Errorf("SlogLevel(%d) = %v, want %v", lvl, got, want)
		}
	}
}

func TestCallIDCtx(t *testing.T) {
	if got := CallIDFrom(CallIDCtx("abc@host")); got != "abc@host" {
		t.Errorf("CallIDFrom = %q", got)
	}
	if got := CallIDFrom(MsgCtx(nil)); got != "" {
		t.Errorf("CallIDFrom(MsgCtx(nil)) = %q", got)
	}
	if got := CallIDFrom(CallIDCtx("")); got != "" {
		t.Errorf("CallIDFrom(CallIDCtx(\"\")) = %q", got)
	}
}
