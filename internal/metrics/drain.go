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

// drainRate counts completions per destination in one-second buckets over
// a sliding window, for the completion rate behind time-to-drain.
type drainRate struct {
	mu     sync.Mutex
	window time.Duration
	counts map[string]map[int64]int // destination → unix second → completions
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
	sec := now.Unix()
	b[sec]++
	if len(b) > int(d.window/time.Second)+2 {
		for s := range b {
			if s <= sec-int64(d.window/time.Second) {
				delete(b, s)
			}
		}
	}
}

// rate is completions per second over the window ending at now.
func (d *drainRate) rate(dest string, now time.Time) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	from := now.Add(-d.window).Unix()
	n := 0
	for s, c := range d.counts[dest] {
		if s > from {
			n += c
		}
	}
	return float64(n) / d.window.Seconds()
}
