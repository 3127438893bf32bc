package metrics

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

func sample() []byte {
	var w Writer
	w.Single("ser_x_total", Counter, "A counter with a \\ and a\nnewline in its help.", 3)
	w.Family("ser_labelled_total", Counter, "Labelled.")
	w.Sample("ser_labelled_total", 1, "method", "INVITE", "transport", "udp")
	w.Sample("ser_labelled_total", 2, "method", `we"ird\`+"\n", "transport", "tcp")
	w.Family("ser_latency_seconds", Histogram, "A histogram.")
	w.HistogramSamples("ser_latency_seconds", []float64{0.001, 0.01}, []uint64{1, 2, 3}, 0.5, "db", "a")
	WriteRuntime(&w, time.Unix(1_700_000_000, 0))
	return w.Bytes()
}

// TestWriter: families, label escaping and cumulative histogram buckets
// as the exposition format 0.0.4 writes them.
func TestWriter(t *testing.T) {
	out := string(sample())
	for _, want := range []string{
		"# HELP ser_x_total A counter with a \\\\ and a\\nnewline in its help.\n# TYPE ser_x_total counter\nser_x_total 3\n",
		`ser_labelled_total{method="INVITE",transport="udp"} 1` + "\n",
		`ser_labelled_total{method="we\"ird\\\n",transport="tcp"} 2` + "\n",
		`ser_latency_seconds_bucket{db="a",le="0.001"} 1` + "\n",
		`ser_latency_seconds_bucket{db="a",le="0.01"} 3` + "\n",
		`ser_latency_seconds_bucket{db="a",le="+Inf"} 6` + "\n",
		`ser_latency_seconds_sum{db="a"} 0.5` + "\n",
		`ser_latency_seconds_count{db="a"} 6` + "\n",
		"# TYPE go_goroutines gauge\n",
		"process_start_time_seconds 1.7e+09\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a family written twice did not panic")
		}
	}()
	var w Writer
	w.Family("a", Gauge, "")
	w.Family("a", Gauge, "")
}

// TestPromtool: Prometheus' own parser (Debian's promtool) accepts the
// output, lint rules included.
func TestPromtool(t *testing.T) {
	Check(t, sample())
	// The check has teeth: promtool refuses a counter without _total.
	bin := testutil.RequireTool(t, "promtool")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP foo x\n# TYPE foo counter\nfoo 1\n")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("promtool accepted a badly named counter: %s", out)
	}
}

// Check runs "promtool check metrics" on an exposition and fails t with
// promtool's complaints (a missing promtool skips, or fails under CI).
func Check(t testing.TB, exposition []byte) {
	t.Helper()
	bin := testutil.RequireTool(t, "promtool")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(exposition))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
