package alert

import (
	"math"
	"time"

	"github.com/hookyard/hookyard/internal/metrics"
)

// HistoryPoint is what happened in one sampling interval: between the
// previous sample and the one taken At. The status page draws its
// sparklines from these; they come from the same minute ring the rules
// read, so they cover at most the ring's six hours.
type HistoryPoint struct {
	At time.Time
	// Dests has an entry for every destination the sample knew.
	Dests map[string]DestHistory
	// DedupHits is the duplicates recognised in the interval, by source.
	DedupHits map[string]float64
}

// DestHistory is one destination's share of a HistoryPoint.
type DestHistory struct {
	Succeeded, Failed float64            // attempts in the interval
	ErrorClasses      map[string]float64 // failed attempts by error class
	// Delivered counts the deliveries whose end-to-end latency was
	// recorded in the interval; P95 (seconds) is their 95th percentile,
	// meaningful only when Delivered > 0.
	Delivered float64
	P95       float64
	// Depth is the backlog still to deliver (due, scheduled and in
	// flight) and Dead the dead letters, both at At.
	Depth, Dead int
	// TimeToDrain is the due and in-flight backlog at At divided by the
	// interval's completion rate, in seconds: 0 for none, +Inf when
	// nothing completed.
	TimeToDrain float64
}

// History returns a point for every sample of the last span, oldest
// first, each relative to the sample before it. span is measured back
// from the newest sample, so a node that just started returns few points
// and one whose clock jumped still returns its latest ones.
func (e *Engine) History(span time.Duration) []HistoryPoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	newest := e.minutes.newest()
	if newest == nil {
		return nil
	}
	from := newest.at.Add(-span)
	var out []HistoryPoint
	for i := 1; i < e.minutes.len(); i++ {
		prev, cur := e.minutes.at(i-1), e.minutes.at(i)
		// A sample not after its predecessor (the wall clock stepped
		// back) has no interval of its own to report.
		if !cur.at.After(from) || !cur.at.After(prev.at) {
			continue
		}
		out = append(out, historyPoint(prev, cur))
	}
	return out
}

func historyPoint(prev, cur *sample) HistoryPoint {
	p := HistoryPoint{At: cur.at, Dests: make(map[string]DestHistory, len(cur.dests)),
		DedupHits: map[string]float64{}}
	for src, n := range cur.dedup {
		p.DedupHits[src] = max(0, n-prev.dedup[src])
	}
	dt := cur.at.Sub(prev.at).Seconds()
	for name, b := range cur.dests {
		a := prev.dest(name)
		h := DestHistory{Succeeded: max(0, b.success-a.success), Failed: max(0, b.failed-a.failed),
			ErrorClasses: map[string]float64{}, Depth: b.live(), Dead: b.dead}
		for class, n := range b.classes {
			if d := n - a.classes[class]; d > 0 {
				h.ErrorClasses[class] = d
			}
		}
		h.Delivered = max(0, b.e2eCount-a.e2eCount)
		if h.Delivered > 0 {
			delta := make([]float64, len(b.e2e))
			for i := range b.e2e {
				delta[i] = b.e2e[i]
				if i < len(a.e2e) {
					delta[i] -= a.e2e[i]
				}
			}
			h.P95 = quantile(0.95, b.e2eBounds, delta, h.Delivered)
		}
		rate := 0.0
		if dt > 0 {
			rate = max(0, b.completed-a.completed) / dt
		}
		h.TimeToDrain = metrics.TimeToDrain(b.due+b.inflight, rate)
		p.Dests[name] = h
	}
	return p
}

// quantile estimates the q-quantile of total observations from cumulative
// bucket counts, interpolating linearly within the bucket as Prometheus's
// histogram_quantile does. Beyond the last bound it answers the last
// bound: the histogram knows nothing finer.
func quantile(q float64, bounds, counts []float64, total float64) float64 {
	if total <= 0 || len(bounds) == 0 {
		return math.NaN()
	}
	rank := q * total
	lo, clo := 0.0, 0.0
	for i, hi := range bounds {
		chi := counts[i]
		if chi >= rank {
			if chi == clo {
				return hi
			}
			return lo + (hi-lo)*(rank-clo)/(chi-clo)
		}
		lo, clo = hi, chi
	}
	return bounds[len(bounds)-1]
}

// Sampled returns when the newest sample was taken; zero before the first.
func (e *Engine) Sampled() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.minutes.newest(); s != nil {
		return s.at
	}
	return time.Time{}
}
