package alert

import (
	"time"

	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store"
)

// minuteSpan is how far back one-minute samples are kept: the longest
// burn-rate window (6h) plus slack. Older windows use hourly samples.
const minuteSpan = 6*time.Hour + 10*time.Minute

// sample is the cumulative totals at one moment, per destination and per
// source. Counters only grow (in one process), so the difference between
// two samples is what happened in between.
type sample struct {
	at    time.Time
	dests map[string]*destSample
	dedup map[string]float64 // dedup hits by source
}

type destSample struct {
	success, failed float64            // attempts
	classes         map[string]float64 // failed attempts by error class
	e2eBounds       []float64          // end-to-end histogram bucket bounds (seconds)
	e2e             []float64          // cumulative counts at e2eBounds
	e2eCount        float64
	completed       float64 // deliveries that reached succeeded or dead
	// Queue gauges (the whole cluster's, from the store).
	due, scheduled, inflight, dead int
}

// live is the backlog that still has to be delivered.
func (d *destSample) live() int { return d.due + d.scheduled + d.inflight }

func newSample(at time.Time, snap metrics.Snapshot, queue map[string]store.QueueStat, dests []string) *sample {
	s := &sample{at: at, dests: make(map[string]*destSample, len(dests)), dedup: snap.DedupHits}
	for _, d := range dests {
		s.dests[d] = &destSample{classes: map[string]float64{}}
	}
	for k, v := range snap.Attempts {
		d := s.dests[k.Destination]
		if d == nil {
			continue
		}
		if k.Outcome == "success" {
			d.success += v
		} else {
			d.failed += v
			d.classes[k.ErrorClass] += v
		}
	}
	for name, h := range snap.EndToEnd {
		if d := s.dests[name]; d != nil {
			d.e2eBounds, d.e2e, d.e2eCount = h.Bounds, h.Counts, h.Count
		}
	}
	for name, n := range snap.Completed {
		if d := s.dests[name]; d != nil {
			d.completed = n
		}
	}
	for name, q := range queue {
		if d := s.dests[name]; d != nil {
			d.due, d.scheduled, d.inflight, d.dead = q.Due, q.Scheduled, q.InFlight, q.Dead
		}
	}
	return s
}

// dest returns the destination's sample, zero when it had none yet.
func (s *sample) dest(name string) *destSample {
	if d := s.dests[name]; d != nil {
		return d
	}
	return &destSample{}
}

// ring is a fixed-size circular buffer of samples, oldest first.
type ring struct {
	buf   []*sample
	start int
	n     int
}

func newRing(size int) *ring { return &ring{buf: make([]*sample, max(size, 2))} }

func (r *ring) push(s *sample) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = s
		r.n++
		return
	}
	r.buf[r.start] = s
	r.start = (r.start + 1) % len(r.buf)
}

// at returns the i-th sample, 0 the oldest.
func (r *ring) at(i int) *sample { return r.buf[(r.start+i)%len(r.buf)] }

func (r *ring) len() int { return r.n }

func (r *ring) newest() *sample {
	if r.n == 0 {
		return nil
	}
	return r.at(r.n - 1)
}

// atOrBefore returns the newest sample taken at or before t, or nil.
func (r *ring) atOrBefore(t time.Time) *sample {
	// The ring is small (hundreds); a backwards scan is clear and fast.
	for i := r.n - 1; i >= 0; i-- {
		if s := r.at(i); !s.at.After(t) {
			return s
		}
	}
	return nil
}

// push adds a sample to the minute ring, and to the hour ring when an hour
// has passed since its newest sample.
func (e *Engine) push(s *sample) {
	e.minutes.push(s)
	if h := e.hours.newest(); h == nil || !s.at.Before(h.at.Add(time.Hour)) {
		e.hours.push(s)
	}
}

// base returns the sample a window ending now starts from: the newest one
// at or before now-window, or the oldest one there is (a window only
// partly covered by history, as after a restart). nil when there are no
// samples.
func (e *Engine) base(now time.Time, window time.Duration) *sample {
	t := now.Add(-window)
	if s := e.minutes.atOrBefore(t); s != nil {
		return s
	}
	if s := e.hours.atOrBefore(t); s != nil {
		return s
	}
	oldest := e.minutes.at(0)
	if e.hours.len() > 0 && e.hours.at(0).at.Before(oldest.at) {
		oldest = e.hours.at(0)
	}
	return oldest
}

// window is what happened in the window ending at the newest sample.
type window struct {
	from, to *sample
}

func (e *Engine) window(now time.Time, d time.Duration) (window, bool) {
	to := e.minutes.newest()
	if to == nil {
		return window{}, false
	}
	return window{from: e.base(now, d), to: to}, true
}

// covered is how much time the window really spans.
func (w window) covered() time.Duration { return w.to.at.Sub(w.from.at) }

// attempts returns the successful and failed attempts to dest in w.
func (w window) attempts(dest string) (good, bad float64) {
	a, b := w.from.dest(dest), w.to.dest(dest)
	return max(0, b.success-a.success), max(0, b.failed-a.failed)
}

// class returns the failed attempts of one error class to dest in w.
func (w window) class(dest, class string) float64 {
	return max(0, w.to.dest(dest).classes[class]-w.from.dest(dest).classes[class])
}

// latency returns the deliveries to dest in w that took at most threshold
// end to end (good) and those that took longer (bad). The threshold
// rarely falls on a bucket bound, so the count below it is interpolated
// linearly within its bucket, as histogram_quantile does.
func (w window) latency(dest string, threshold time.Duration) (good, bad float64) {
	a, b := w.from.dest(dest), w.to.dest(dest)
	total := max(0, b.e2eCount-a.e2eCount)
	if total == 0 || len(b.e2eBounds) == 0 {
		return 0, 0
	}
	delta := make([]float64, len(b.e2e))
	for i := range b.e2e {
		delta[i] = b.e2e[i]
		if i < len(a.e2e) {
			delta[i] -= a.e2e[i]
		}
	}
	good = withinThreshold(b.e2eBounds, delta, total, threshold.Seconds())
	return good, total - good
}

// withinThreshold interpolates how many of total observations were at most
// x, from cumulative bucket counts. Past the last bound, nothing is known
// to be within x beyond the last bucket's count.
func withinThreshold(bounds, counts []float64, total, x float64) float64 {
	lo, clo := 0.0, 0.0
	for i, hi := range bounds {
		chi := counts[i]
		if x <= hi {
			if hi == lo {
				return chi
			}
			return clo + (chi-clo)*(x-lo)/(hi-lo)
		}
		lo, clo = hi, chi
	}
	return min(clo, total)
}
