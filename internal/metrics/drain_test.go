package metrics

import (
	"math"
	"testing"
	"time"
)

func TestTimeToDrain(t *testing.T) {
	tests := []struct {
		depth int
		rate  float64
		want  float64
	}{
		{0, 0, 0},
		{0, 10, 0},
		{100, 0, math.Inf(1)},
		{1000, 50, 20},
	}
	for _, tt := range tests {
		if got := TimeToDrain(tt.depth, tt.rate); got != tt.want {
			t.Errorf("TimeToDrain(%d, %v) = %v, want %v", tt.depth, tt.rate, got, tt.want)
		}
	}
}

func TestDrainRateWindow(t *testing.T) {
	d := newDrainRate(time.Minute)
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 120; i++ { // one completion a second for two minutes
		d.add("oms", t0.Add(time.Duration(i)*time.Second))
	}
	// The window (59 s, 119 s] holds the 60 completions at 60…119 s, the
	// first of them 59 s ago.
	if r := d.rate("oms", t0.Add(119*time.Second)); r != 60.0/59 {
		t.Fatalf("rate = %v, want 60 completions over 59 s", r)
	}
	if r := d.rate("oms", t0.Add(10*time.Minute)); r != 0 {
		t.Fatalf("rate long after = %v, want 0", r)
	}
	if r := d.rate("crm", t0); r != 0 {
		t.Fatalf("unknown destination rate = %v", r)
	}
}

// TestDrainRateCovered: a drain that started 10 s ago is measured over
// those 10 s, not diluted by the idle 50 s before it; a lone completion
// counts over at least a second; a stall after a burst lowers the rate.
func TestDrainRateCovered(t *testing.T) {
	d := newDrainRate(time.Minute)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 1000 { // 100 per second for 10 s
		d.add("oms", t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	if r := d.rate("oms", t0.Add(10*time.Second)); r != 100 {
		t.Errorf("rate after 10 s of draining = %v, want 100/s", r)
	}
	if r := d.rate("oms", t0.Add(20*time.Second)); r != 50 {
		t.Errorf("rate 10 s into a stall = %v, want 50/s", r)
	}
	d.add("crm", t0)
	if r := d.rate("crm", t0.Add(time.Millisecond)); r != 1 {
		t.Errorf("one completion just now = %v/s, want 1/s", r)
	}
}
