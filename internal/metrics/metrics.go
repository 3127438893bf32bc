// Package metrics writes Prometheus' text exposition format (version
// 0.0.4): metric families with their HELP and TYPE lines, samples with
// labels, histograms with cumulative buckets. It holds no state: the
// daemon reads the server's counters at each scrape and writes them here
// (internal/daemon/metrics.go), so counting stays where it is (atomic
// counters in the engine) and costs nothing between scrapes. runtime.go
// adds the Go runtime's and the process's figures.
package metrics

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metric types of a family.
const (
	Counter   = "counter"
	Gauge     = "gauge"
	Histogram = "histogram"
)

// Writer collects families in the exposition format. Each family is
// written once (Family), followed by its samples.
type Writer struct {
	b    bytes.Buffer
	seen map[string]bool
}

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.b.Bytes() }

// Family starts a metric family: its HELP and TYPE lines. A family
// started twice is a programming error (the format forbids it) and
// panics.
func (w *Writer) Family(name, typ, help string) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[name] {
		panic("metrics: family " + name + " written twice")
	}
	w.seen[name] = true
	w.b.WriteString("# HELP ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(helpEscaper.Replace(help))
	w.b.WriteString("\n# TYPE ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(typ)
	w.b.WriteByte('\n')
}

// Sample writes one sample of the current family: name (the family's,
// or a histogram's name_bucket/_sum/_count), the value and label pairs
// ("method", "INVITE", "transport", "udp", …).
func (w *Writer) Sample(name string, v float64, labels ...string) {
	w.b.WriteString(name)
	if len(labels) > 0 {
		w.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(labels[i])
			w.b.WriteString(`="`)
			w.b.WriteString(labelEscaper.Replace(labels[i+1]))
			w.b.WriteByte('"')
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(formatFloat(v))
	w.b.WriteByte('\n')
}

// Single writes a family with one unlabelled sample.
func (w *Writer) Single(name, typ, help string, v float64) {
	w.Family(name, typ, help)
	w.Sample(name, v)
}

// HistogramSamples writes the samples of one histogram of the current
// family: counts[i] is the number of observations in (bounds[i-1],
// bounds[i]] (not cumulative), counts[len(bounds)] those above the last
// bound; sum is the sum of the observations.
func (w *Writer) HistogramSamples(name string, bounds []float64, counts []uint64, sum float64, labels ...string) {
	var cum uint64
	lb := append(labels[:len(labels):len(labels)], "le", "")
	for i, b := range bounds {
		cum += counts[i]
		lb[len(lb)-1] = formatFloat(b)
		w.Sample(name+"_bucket", float64(cum), lb...)
	}
	cum += counts[len(bounds)]
	lb[len(lb)-1] = "+Inf"
	w.Sample(name+"_bucket", float64(cum), lb...)
	w.Sample(name+"_sum", sum, labels...)
	w.Sample(name+"_count", float64(cum), labels...)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
