package load

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- { // unsorted input
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(s)
	want := Summary{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond,
		Max: 100 * time.Millisecond, Avg: 50500 * time.Microsecond}
	if got != want {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	if one := Summarize([]time.Duration{7}); one != (Summary{N: 1, P50: 7, P95: 7, P99: 7, Max: 7, Avg: 7}) {
		t.Fatalf("single sample = %+v", one)
	}
	if (Summarize(nil) != Summary{}) {
		t.Fatal("empty summary not zero")
	}
}

// TestPercentile checks nearest rank: the smallest sample with at least p%
// of the samples at or below it.
func TestPercentile(t *testing.T) {
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = time.Duration(i + 1)
	}
	for _, tt := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"p50 of 10", ten, 50, 5},
		{"p51 of 10 rounds up", ten, 51, 6},
		{"p95 of 10", ten, 95, 10},
		{"p99 of 10 is the max", ten, 99, 10},
		{"p100", ten, 100, 10},
		{"tiny p is the min", ten, 0.01, 1},
		{"p99 of 1000", thousand, 99, 990},
		{"p99.9 of 1000", thousand, 99.9, 999},
		{"p95 of 1000", thousand, 95, 950},
		{"p50 of 2", []time.Duration{3, 9}, 50, 3},
		{"p51 of 2", []time.Duration{3, 9}, 51, 9},
	} {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: Percentile = %d, want %d", tt.name, got, tt.want)
		}
	}
}
