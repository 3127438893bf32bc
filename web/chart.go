package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// point is one value of a chart at a time.
type point struct {
	T time.Time
	V float64
}

// chart is a server-drawn line chart (inline SVG, no script).
type chart struct {
	Title string
	Last  string // the latest value, for the figure beside the title
	SVG   template.HTML
}

// Chart geometry (SVG user units).
const (
	chartW, chartH         = 640, 170
	plotL, plotR           = 56, 630
	plotT, plotB           = 12, 140
	gapFactor      float64 = 2.5 // a gap longer than this many intervals breaks the line
)

// drawChart draws pts over [from, to]. Points further apart than
// gapFactor sampling intervals are not joined (server or sampler down).
func drawChart(title string, pts []point, from, to time.Time, interval time.Duration, format func(float64) string) chart {
	c := chart{Title: title, Last: "–"}
	if len(pts) > 0 {
		c.Last = format(pts[len(pts)-1].V)
	}
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.V)
	}
	top = niceCeil(top)
	span := to.Sub(from).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return plotL + (plotR-plotL)*t.Sub(from).Seconds()/span }
	y := func(v float64) float64 { return plotB - (plotB-plotT)*v/top }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH,
		template.HTMLEscapeString(title))
	// Grid: baseline, middle and top with their values.
	for _, frac := range []float64{0, 0.5, 1} {
		yy := y(top * frac)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotL, yy, plotR, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotL-6, yy+4,
			template.HTMLEscapeString(format(top*frac)))
	}
	// Time labels: start, middle, end.
	for i, t := range []time.Time{from, from.Add(to.Sub(from) / 2), to} {
		anchor := [...]string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(t), chartH-8, anchor,
			t.UTC().Format("15:04"))
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle">no data yet</text>`,
			(plotL+plotR)/2, (plotT+plotB)/2)
	} else {
		var d strings.Builder
		gap := time.Duration(gapFactor * float64(interval))
		for i, p := range pts {
			cmd := "L"
			if i == 0 || p.T.Sub(pts[i-1].T) > gap {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, x(p.T), y(p.V))
		}
		fmt.Fprintf(&b, `<path class="line" d="%s"/>`, strings.TrimSpace(d.String()))
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3"/>`, x(pts[0].T), y(pts[0].V))
		}
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) // built from numbers and escaped text only
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// formatCount prints a count (1234 → "1234", 12.5 → "12.5").
func formatCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// gauge returns the points of a value read at each sample.
func gauge(samples []sample, ok func(sample) bool, v func(sample) float64) []point {
	var out []point
	for _, s := range samples {
		if ok(s) {
			out = append(out, point{s.T, v(s)})
		}
	}
	return out
}

// rate returns a counter's increase per minute between consecutive
// samples; a counter that went down (server restarted) gives no point.
func rate(samples []sample, ok func(sample) bool, v func(sample) uint64) []point {
	var out []point
	for i := 1; i < len(samples); i++ {
		prev, cur := samples[i-1], samples[i]
		if !ok(prev) || !ok(cur) || v(cur) < v(prev) {
			continue
		}
		dt := cur.T.Sub(prev.T).Minutes()
		if dt <= 0 {
			continue
		}
		out = append(out, point{cur.T, float64(v(cur)-v(prev)) / dt})
	}
	return out
}
