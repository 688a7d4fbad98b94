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
	if r := d.rate("oms", t0.Add(119*time.Second)); r != 1 {
		t.Fatalf("rate = %v, want 1/s over the last minute", r)
	}
	if r := d.rate("oms", t0.Add(10*time.Minute)); r != 0 {
		t.Fatalf("rate long after = %v, want 0", r)
	}
	if r := d.rate("crm", t0); r != 0 {
		t.Fatalf("unknown destination rate = %v", r)
	}
}
