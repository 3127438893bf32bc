package testutil

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// SIPp describes one SIPp run. Scenario is a file path or a built-in name
// ("uac", "uas", …) when Builtin is set.
type SIPp struct {
	Scenario string
	Builtin  bool
	Port     int    // local port (0: a free one)
	Remote   string // "ip:port" of the peer (uac side)
	Calls    int    // -m
	Rate     int    // -r calls per second (0: SIPp's default)
	Timeout  time.Duration
	Extra    []string
	Dir      string
}

func (s *SIPp) args(t testing.TB) []string {
	if s.Port == 0 {
		s.Port = FreePort(t)
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Second
	}
	a := []string{"-i", "127.0.0.1", "-p", fmt.Sprint(s.Port), "-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(s.Timeout.Seconds())), "-timeout_error"}
	if s.Builtin {
		a = append(a, "-sn", s.Scenario)
	} else {
		a = append(a, "-sf", s.Scenario)
	}
	if s.Calls > 0 {
		a = append(a, "-m", fmt.Sprint(s.Calls))
	}
	if s.Rate > 0 {
		a = append(a, "-r", fmt.Sprint(s.Rate))
	}
	a = append(a, s.Extra...)
	if s.Remote != "" {
		a = append(a, s.Remote)
	}
	return a
}

// StartSIPp starts SIPp in the background (for a uas side).
func StartSIPp(t testing.TB, s *SIPp) *Proc {
	t.Helper()
	bin := RequireTool(t, "sipp")
	return Start(t, s.Dir, bin, s.args(t)...)
}

// RunSIPp runs SIPp to completion and returns its output and exit code
// (0: every call succeeded).
func RunSIPp(t testing.TB, s *SIPp) (string, int) {
	t.Helper()
	bin := RequireTool(t, "sipp")
	args := s.args(t)
	return Run(t, s.Timeout+10*time.Second, s.Dir, bin, args...)
}

var sippCount = regexp.MustCompile(`(?m)^\s*(Successful|Failed) call\s*\|[^|]*\|\s*(\d+)`)

// SIPpCalls returns the cumulative successful and failed call counts of
// SIPp's final statistics screen in out; found is false when out has none.
func SIPpCalls(out string) (ok, failed int, found bool) {
	var seen [2]bool
	for _, m := range sippCount.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "Successful" {
			ok, seen[0] = n, true
		} else {
			failed, seen[1] = n, true
		}
	}
	return ok, failed, seen[0] && seen[1]
}
