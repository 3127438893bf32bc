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

// chart is a server-drawn line chart: inline SVG, readable without a
// script (axes, a <title> with the latest and highest value); the
// console's script adds values on hover from the data-pts attribute.
type chart struct {
	Title string // with the unit, e.g. "New transactions (per minute)"
	Last  string // the latest value with its unit, for the figure beside the title
	SVG   template.HTML
}

// measure says how a chart's values read: whole counts (integer axis
// ticks) or rates, and the unit after a value.
type measure struct {
	Integer bool
	Unit    string // appended to values: "/min"; "" for counts
}

var (
	countMeasure  = measure{Integer: true}
	perMinMeasure = measure{Unit: "/min"}
)

// format prints v: counts as whole numbers, rates with at most one
// decimal (two below 1), the unit appended.
func (m measure) format(v float64) string {
	var s string
	switch {
	case m.Integer || v == math.Trunc(v):
		s = fmt.Sprintf("%.0f", math.Round(v))
	case math.Abs(v) < 1:
		s = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	default:
		s = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
	}
	return s + m.Unit
}

// Chart geometry (SVG user units).
const (
	chartW, chartH         = 640, 170
	plotL, plotR           = 56, 630
	plotT, plotB           = 12, 140
	gapFactor      float64 = 2.5 // a gap longer than this many intervals breaks the line
)

// drawChart draws pts over [from, to]. Points further apart than
// gapFactor sampling intervals are not joined (server or sampler down);
// a point joined to no other is drawn as a dot.
func drawChart(title string, m measure, pts []point, from, to time.Time, interval time.Duration) chart {
	c := chart{Title: title, Last: "–"}
	top := 0.0
	for _, p := range pts {
		top = math.Max(top, p.V)
	}
	if len(pts) > 0 {
		c.Last = m.format(pts[len(pts)-1].V)
	}
	top, step := axisScale(top, m.Integer)
	span := to.Sub(from).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return plotL + (plotR-plotL)*t.Sub(from).Seconds()/span }
	y := func(v float64) float64 { return plotB - (plotB-plotT)*v/top }
	tf := "15:04"
	if to.Sub(from) < 10*time.Minute {
		tf = "15:04:05"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s"`, chartW, chartH,
		template.HTMLEscapeString(title))
	if len(pts) > 0 {
		// Hover data for the script: x,y,label;…
		b.WriteString(` data-pts="`)
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(';')
			}
			fmt.Fprintf(&b, "%.1f,%.1f,%s %s", x(p.T), y(p.V), p.T.UTC().Format(tf), template.HTMLEscapeString(m.format(p.V)))
		}
		b.WriteByte('"')
	}
	b.WriteString(`>`)
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<title>%s: %s at %s UTC, highest %s</title>`, template.HTMLEscapeString(title),
			template.HTMLEscapeString(c.Last), pts[len(pts)-1].T.UTC().Format(tf), template.HTMLEscapeString(m.format(maxOf(pts))))
	}
	// Grid lines with their values, one per step.
	for v := 0.0; v <= top+step/2; v += step {
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotL, yy, plotR, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotL-6, yy+4,
			template.HTMLEscapeString(m.format(v)))
	}
	// Time labels: start, quarters, end (UTC).
	for i := 0; i <= 4; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / 4))
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(t), chartH-8, anchor,
			t.UTC().Format(tf))
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle">no data yet</text>`,
			(plotL+plotR)/2, (plotT+plotB)/2)
	} else {
		var d, dots strings.Builder
		gap := time.Duration(gapFactor * float64(interval))
		for i, p := range pts {
			joinedBefore := i > 0 && p.T.Sub(pts[i-1].T) <= gap
			joinedAfter := i+1 < len(pts) && pts[i+1].T.Sub(p.T) <= gap
			cmd := "L"
			if !joinedBefore {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, x(p.T), y(p.V))
			if !joinedBefore && !joinedAfter {
				fmt.Fprintf(&dots, `<circle class="dot" cx="%.1f" cy="%.1f" r="3.5"/>`, x(p.T), y(p.V))
			}
		}
		fmt.Fprintf(&b, `<path class="line" d="%s"/>`, strings.TrimSpace(d.String()))
		b.WriteString(dots.String())
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) // built from numbers and escaped text only
	return c
}

// maxOf returns the highest value of pts.
func maxOf(pts []point) float64 {
	m := math.Inf(-1)
	for _, p := range pts {
		m = math.Max(m, p.V)
	}
	return m
}

// axisScale returns the top of the value axis and the step between its
// grid lines for values up to v: about four steps of 1, 2 or 5 times a
// power of ten; whole numbers for counts (at least one), so an axis of
// counts never reads 0.5.
func axisScale(v float64, integer bool) (top, step float64) {
	if v <= 0 {
		v = 1
	}
	step = niceCeil(v / 4)
	if integer && step < 1 {
		step = 1
	}
	top = math.Ceil(v/step-1e-9) * step
	if top <= 0 {
		top = step
	}
	return top, step
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// everyText says how often samples are taken: "every minute", "every 30
// seconds", "every 5 minutes".
func everyText(d time.Duration) string {
	switch {
	case d == time.Second:
		return "every second"
	case d == time.Minute:
		return "every minute"
	case d == time.Hour:
		return "every hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("every %d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("every %d minutes", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("every %d seconds", d/time.Second)
	}
	return "every " + d.String()
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
