package metrics

import (
	"math"
	"sync"
	"time"
)

// TimeToDrain estimates how long a backlog of depth deliveries takes at
// rate completions per second: 0 for an empty backlog, +Inf when nothing
// completes.
func TimeToDrain(depth int, rate float64) float64 {
	switch {
	case depth <= 0:
		return 0
	case rate <= 0:
		return math.Inf(1)
	}
	return float64(depth) / rate
}

// drainBucket is the resolution of the completion counts.
const drainBucket = 100 * time.Millisecond

// drainRate counts completions per destination in 100 ms buckets over a
// sliding window, for the completion rate behind time-to-drain.
//
// The rate is taken over the part of the window since its first
// completion, not the whole window: when a backlog starts draining, a
// minute-long average would count the idle seconds before it and put the
// estimate off several-fold (measured: 4.9–9.8× for a 20k backlog, see
// docs/BENCHMARKS.md) until a full minute of draining had passed.
type drainRate struct {
	mu     sync.Mutex
	window time.Duration
	counts map[string]map[int64]int // destination → bucket (unix ns / drainBucket) → completions
}

func newDrainRate(window time.Duration) *drainRate {
	return &drainRate{window: window, counts: map[string]map[int64]int{}}
}

func (d *drainRate) add(dest string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.counts[dest]
	if b == nil {
		b = map[int64]int{}
		d.counts[dest] = b
	}
	k := now.UnixNano() / int64(drainBucket)
	b[k]++
	span := int64(d.window / drainBucket)
	if len(b) > int(span)+20 {
		for s := range b {
			if s <= k-span {
				delete(b, s)
			}
		}
	}
}

// rate is completions per second over the window ending at now, or over
// the time since the window's first completion when that is shorter (at
// least one second, so a handful of completions do not read as a burst).
func (d *drainRate) rate(dest string, now time.Time) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	nowK := now.UnixNano() / int64(drainBucket)
	from := nowK - int64(d.window/drainBucket)
	n, first := 0, nowK+1
	for s, c := range d.counts[dest] {
		if s > from && s <= nowK {
			n += c
			first = min(first, s)
		}
	}
	if n == 0 {
		return 0
	}
	covered := now.Sub(time.Unix(0, first*int64(drainBucket)))
	covered = min(max(covered, time.Second), d.window)
	return float64(n) / covered.Seconds()
}
