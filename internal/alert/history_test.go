package alert

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// TestHistory drives three minutes of scripted traffic through real
// metrics and checks each minute's point against what was sent.
func TestHistory(t *testing.T) {
	b := setup(t, Config{Destinations: []string{"oms", "crm"}})
	b.minute(nil) // the first sample is the baseline: no point of its own
	b.minute(func(int) {
		b.attempts("oms", 9, 1, 2*time.Second, "http_5xx")
		b.q.set(store.QueueStat{Destination: "oms", Due: 30, Scheduled: 5, InFlight: 10})
		b.m.Ingested("shop", "duplicate", time.Millisecond, 0, "")
	})
	b.minute(func(int) {
		b.attempts("oms", 0, 3, 0, "timeout")
		b.attempts("oms", 0, 1, 0, "http_5xx")
		b.q.set(store.QueueStat{Destination: "oms", Due: 60, InFlight: 0, Dead: 4})
	})
	b.minute(func(int) {
		b.attempts("oms", 20, 0, 200*time.Millisecond, "")
		b.q.set(store.QueueStat{Destination: "oms", Due: 40})
	})

	h := b.e.History(time.Hour)
	if len(h) != 3 {
		t.Fatalf("%d points, want 3: %+v", len(h), h)
	}
	for i, p := range h {
		if want := t0.Add(time.Duration(i+2) * time.Minute); !p.At.Equal(want) {
			t.Errorf("point %d at %v, want %v", i, p.At, want)
		}
		if c := p.Dests["crm"]; c.Succeeded+c.Failed != 0 || c.Depth != 0 || c.TimeToDrain != 0 {
			t.Errorf("point %d: idle crm %+v", i, c)
		}
	}
	o := h[0].Dests["oms"]
	// 9 of 10 succeeded; every success took 2s end to end, so p95 lies
	// in the bucket holding 2s: (1.5625s, 3.90625s].
	if o.Succeeded != 9 || o.Failed != 1 || o.ErrorClasses["http_5xx"] != 1 || o.Delivered != 9 ||
		o.P95 <= 1.5625 || o.P95 > 3.90625 || o.Depth != 45 {
		t.Errorf("minute 1: %+v", o)
	}
	// 9 completions in 60s: 40 due and in flight drain in 40/0.15 s.
	if math.Abs(o.TimeToDrain-40/(9.0/60)) > 1e-6 {
		t.Errorf("minute 1 time to drain %v", o.TimeToDrain)
	}
	if h[0].DedupHits["shop"] != 1 || h[1].DedupHits["shop"] != 0 {
		t.Errorf("dedup hits %v, %v", h[0].DedupHits, h[1].DedupHits)
	}
	o = h[1].Dests["oms"]
	if o.Succeeded != 0 || o.Failed != 4 || o.ErrorClasses["timeout"] != 3 || o.ErrorClasses["http_5xx"] != 1 ||
		o.Delivered != 0 || o.Depth != 60 || o.Dead != 4 || !math.IsInf(o.TimeToDrain, 1) {
		t.Errorf("minute 2: %+v", o)
	}
	o = h[2].Dests["oms"]
	if o.Succeeded != 20 || o.Failed != 0 || len(o.ErrorClasses) != 0 || o.P95 > 0.25 || o.P95 <= 0.1 ||
		math.Abs(o.TimeToDrain-40/(20.0/60)) > 1e-6 {
		t.Errorf("minute 3: %+v", o)
	}

	if h := b.e.History(time.Minute); len(h) != 1 || !h[0].At.Equal(b.now) {
		t.Errorf("History(1m) = %+v, want the newest point only", h)
	}

	// The wall clock steps back 30s: that sample reports no interval.
	if err := b.e.Tick(context.Background(), b.now.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if h := b.e.History(time.Hour); len(h) != 3 {
		t.Errorf("after a clock step back: %d points, want the same 3", len(h))
	}
}

func TestQuantile(t *testing.T) {
	bounds := []float64{1, 10, 100}
	counts := []float64{10, 50, 90} // cumulative; 100 in all
	tests := []struct{ q, want float64 }{
		{0.05, 0.5}, {0.1, 1}, {0.3, 5.5}, {0.7, 55}, {0.9, 100}, {0.95, 100},
	}
	for _, tt := range tests {
		if got := quantile(tt.q, bounds, counts, 100); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(quantile(0.95, bounds, []float64{0, 0, 0}, 0)) {
		t.Error("quantile of nothing is a number")
	}
}
