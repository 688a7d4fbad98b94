package load

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary holds latency percentiles.
type Summary struct {
	N                       int
	P50, P95, P99, Max, Avg time.Duration
}

// Summarize computes nearest-rank percentiles of samples, which it sorts in
// place. Every sample is kept and sorted rather than bucketed: a few million
// samples cost a few tens of megabytes and the figures are exact.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return Summary{N: len(samples), P50: Percentile(samples, 50), P95: Percentile(samples, 95),
		P99: Percentile(samples, 99), Max: samples[len(samples)-1], Avg: sum / time.Duration(len(samples))}
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of sorted
// samples: the smallest sample with at least p% of them at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted))/100)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (s Summary) String() string {
	if s.N == 0 {
		return "no samples"
	}
	r := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)", r(s.P50), r(s.P95), r(s.P99), r(s.Max), s.N)
}
