package console

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

// historySpan is how much history the status page draws.
const historySpan = time.Hour

// Sparkline geometry, in SVG user units (the SVG stretches to its box).
const sparkW, sparkH = 120.0, 32.0

// spark is one inline-SVG sparkline with its caption.
type spark struct {
	ID     string // stable id for tests and screenshots
	Label  string
	Latest string // the newest value, formatted
	Title  string // a tooltip: range and scale
	Paths  []sparkPath
	Legend []sparkPath // the series named in the caption (error classes)
}

type sparkPath struct {
	D     string // SVG path data; "" when the series has no value
	Class string
	Name  string
	Total string
}

// destHistory is one destination's row of sparklines.
type destHistory struct {
	Name   string
	Sparks []spark
}

// statusHistory lays out the status series as sparklines: per destination
// success %, p95 end-to-end latency, queue depth, time to drain and failed
// attempts by error class; and dedup hits of all sources together.
func statusHistory(s api.StatusSeries) (dests []destHistory, dedup spark) {
	if len(s.Times) == 0 {
		return nil, spark{}
	}
	end := s.Times[len(s.Times)-1]
	xs := make([]float64, len(s.Times))
	for i, t := range s.Times {
		xs[i] = sparkW - end.Sub(t).Seconds()/historySpan.Seconds()*sparkW
	}
	for _, d := range s.Destinations {
		h := destHistory{Name: d.Destination}
		id := func(k string) string { return "spark-" + d.Destination + "-" + k }

		ratio := d.SuccessRatio
		h.Sparks = append(h.Sparks, spark{ID: id("success"), Label: "success", Latest: latest(ratio, pct, "no attempts"),
			Title: "attempts that succeeded, each minute (scale 0–100%)",
			Paths: []sparkPath{{D: line(xs, ratio, 1), Class: "good"}}})

		top := maxOf(d.P95Seconds)
		h.Sparks = append(h.Sparks, spark{ID: id("p95"), Label: "p95 end to end",
			Latest: latest(d.P95Seconds, func(f *float64) string { return duration(*f) }, "no deliveries"),
			Title:  "95th percentile receipt-to-delivery latency, each minute (top " + duration(top) + ")",
			Paths:  []sparkPath{{D: line(xs, d.P95Seconds, top)}}})

		depth := ints(d.QueueDepth)
		top = maxOf(depth)
		h.Sparks = append(h.Sparks, spark{ID: id("depth"), Label: "queue depth",
			Latest: strconv.Itoa(d.QueueDepth[len(d.QueueDepth)-1]),
			Title:  fmt.Sprintf("due, scheduled and in flight at each minute (top %.0f)", top),
			Paths:  []sparkPath{{D: line(xs, depth, top)}}})

		drain := d.TimeToDrainSeconds
		top = maxOf(drain)
		lastDrain := "stalled"
		if !d.Stalled[len(d.Stalled)-1] {
			lastDrain = latest(drain, func(f *float64) string { return duration(*f) }, "—")
		}
		stalled := make([]*float64, len(d.Stalled))
		for i, st := range d.Stalled {
			if st {
				stalled[i] = ptrf(1)
			}
		}
		h.Sparks = append(h.Sparks, spark{ID: id("drain"), Label: "time to drain", Latest: lastDrain,
			Title: "backlog ÷ completion rate at each minute (top " + duration(top) + "; red: stalled)",
			Paths: []sparkPath{{D: line(xs, drain, top)}, {D: dots(xs, stalled), Class: "bad"}}})

		h.Sparks = append(h.Sparks, errorSpark(id("errors"), xs, d))
		dests = append(dests, h)
	}

	total := make([]*float64, len(s.Times))
	sum := 0.0
	for i := range s.Times {
		v := 0.0
		for _, hits := range s.DedupHits {
			v += hits[i]
		}
		total[i] = ptrf(v)
		sum += v
	}
	top := maxOf(total)
	dedup = spark{ID: "spark-dedup", Label: "dedup hits", Latest: fmt.Sprintf("%.0f in 1h", sum),
		Title: fmt.Sprintf("duplicates recognised each minute, all sources (top %.0f)", top),
		Paths: []sparkPath{{D: line(xs, total, top)}}}
	return dests, dedup
}

// errorSpark draws one line per error class, on a common scale.
func errorSpark(id string, xs []float64, d api.DestinationSeries) spark {
	names := make([]string, 0, len(d.ErrorClasses))
	for c := range d.ErrorClasses {
		names = append(names, c)
	}
	slices.Sort(names)
	series := make([][]*float64, len(names))
	top, sum := 0.0, 0.0
	for i, c := range names {
		series[i] = floats(d.ErrorClasses[c])
		top = max(top, maxOf(series[i]))
	}
	sp := spark{ID: id, Label: "failed, by class",
		Title: fmt.Sprintf("failed attempts each minute, one line per error class (top %.0f)", top)}
	for i, c := range names {
		n := 0.0
		for _, v := range d.ErrorClasses[c] {
			n += v
		}
		sum += n
		p := sparkPath{D: line(xs, series[i], top), Class: "c" + strconv.Itoa(i%4), Name: c, Total: fmt.Sprintf("%.0f", n)}
		sp.Paths = append(sp.Paths, p)
		sp.Legend = append(sp.Legend, p)
	}
	sp.Latest = fmt.Sprintf("%.0f in 1h", sum)
	return sp
}

// line is the SVG path of values at xs scaled so top is the full height;
// a missing value (nil) breaks the line, and a lone value is drawn as a
// short dash so it stays visible.
func line(xs []float64, values []*float64, top float64) string {
	if top <= 0 {
		top = 1
	}
	y := func(v float64) string { return num(sparkH - 1 - math.Min(v/top, 1)*(sparkH-2)) }
	var parts []string
	for i := 0; i < len(values); {
		if values[i] == nil {
			i++
			continue
		}
		var seg []string
		j := i
		for ; j < len(values) && values[j] != nil; j++ {
			seg = append(seg, num(xs[j])+" "+y(*values[j]))
		}
		if len(seg) == 1 {
			parts = append(parts, "M"+num(math.Max(xs[i]-1.5, 0))+" "+y(*values[i])+" h1.5")
		} else {
			parts = append(parts, "M"+strings.Join(seg, " L"))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// dots marks the points where values is set, as short strokes along the
// bottom edge.
func dots(xs []float64, values []*float64) string {
	var parts []string
	for i, v := range values {
		if v != nil {
			parts = append(parts, fmt.Sprintf("M%s %s h1.5", num(math.Max(xs[i]-1.5, 0)), num(sparkH-1)))
		}
	}
	return strings.Join(parts, " ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func maxOf(vs []*float64) float64 {
	top := 0.0
	for _, v := range vs {
		if v != nil && !math.IsInf(*v, 0) && !math.IsNaN(*v) {
			top = max(top, *v)
		}
	}
	return top
}

// latest formats the newest value of vs, or none when it has none.
func latest(vs []*float64, format func(*float64) string, none string) string {
	if len(vs) == 0 || vs[len(vs)-1] == nil {
		return none
	}
	return format(vs[len(vs)-1])
}

func ints(vs []int) []*float64 {
	out := make([]*float64, len(vs))
	for i, v := range vs {
		out[i] = ptrf(float64(v))
	}
	return out
}

func floats(vs []float64) []*float64 {
	out := make([]*float64, len(vs))
	for i, v := range vs {
		out[i] = ptrf(v)
	}
	return out
}

func ptrf(f float64) *float64 { return &f }

// duration formats seconds for a caption: milliseconds under a second.
func duration(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
