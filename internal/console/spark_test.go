package console

import (
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func TestSparkLine(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	xs := []float64{0, 40, 80, 120}
	tests := []struct {
		name   string
		values []*float64
		top    float64
		want   string
	}{
		// y = 31 - v/top*30: the top at 1, zero at 31.
		{"full", []*float64{f(0), f(5), f(10), f(5)}, 10, "M0.0 31.0 L40.0 16.0 L80.0 1.0 L120.0 16.0"},
		{"gap breaks the line", []*float64{f(0), f(10), nil, f(10)}, 10, "M0.0 31.0 L40.0 1.0 M118.5 1.0 h1.5"},
		{"lone value is a dash", []*float64{nil, f(2), nil, nil}, 4, "M38.5 16.0 h1.5"},
		{"clipped at the top", []*float64{f(20), f(10)}, 10, "M0.0 1.0 L40.0 1.0"},
		{"zero top draws at the bottom", []*float64{f(0), f(0)}, 0, "M0.0 31.0 L40.0 31.0"},
		{"nothing", []*float64{nil, nil}, 1, ""},
	}
	for _, tt := range tests {
		if got := line(xs, tt.values, tt.top); got != tt.want {
			t.Errorf("%s: line = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestStatusHistoryPlacesPointsInTime: x follows the sample times over the
// last hour, so a young node's line starts part way across.
func TestStatusHistoryPlacesPointsInTime(t *testing.T) {
	end := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	one := 1.0
	s := api.StatusSeries{Times: []time.Time{end.Add(-30 * time.Minute), end},
		Destinations: []api.DestinationSeries{{Destination: "oms", Attempts: []float64{1, 1},
			SuccessRatio: []*float64{&one, &one}, P95Seconds: []*float64{nil, nil}, QueueDepth: []int{0, 4},
			Dead: []int{0, 0}, TimeToDrainSeconds: []*float64{nil, nil}, Stalled: []bool{false, true},
			ErrorClasses: map[string][]float64{}}},
		DedupHits: map[string][]float64{"shop": {1, 2}, "stripe": {0, 3}}}
	dests, dedup := statusHistory(s)
	if len(dests) != 1 || len(dests[0].Sparks) != 5 {
		t.Fatalf("%+v", dests)
	}
	byID := map[string]spark{}
	for _, sp := range dests[0].Sparks {
		byID[sp.ID] = sp
	}
	if got := byID["spark-oms-success"].Paths[0].D; got != "M60.0 1.0 L120.0 1.0" {
		t.Errorf("success path %q", got)
	}
	if got := byID["spark-oms-depth"]; got.Paths[0].D != "M60.0 31.0 L120.0 1.0" || got.Latest != "4" {
		t.Errorf("depth %+v", got)
	}
	if got := byID["spark-oms-drain"]; got.Latest != "stalled" || got.Paths[1].D != "M118.5 31.0 h1.5" {
		t.Errorf("drain %+v", got)
	}
	if got := byID["spark-oms-p95"]; got.Paths[0].D != "" || got.Latest != "no deliveries" {
		t.Errorf("p95 %+v", got)
	}
	// Sources are summed: 1 then 5.
	if dedup.Paths[0].D != "M60.0 25.0 L120.0 1.0" || dedup.Latest != "6 in 1h" {
		t.Errorf("dedup %+v", dedup)
	}
}
