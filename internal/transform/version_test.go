package transform

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

func TestHash(t *testing.T) {
	h := Hash("big-orders-to-oms", `.body | {id}`)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(h) {
		t.Fatalf("Hash = %q, want 12 hex digits", h)
	}
	if Hash("big-orders-to-oms", `.body | {id}`) != h {
		t.Error("Hash is not stable")
	}
	// Known value, so stamps stay comparable across releases.
	if got := Hash("a"); got != "3b196fd4907b" {
		t.Errorf(`Hash("a") = %s`, got)
	}
	distinct := [][]string{{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {}, {""}}
	seen := map[string][]string{}
	for _, parts := range distinct {
		h := Hash(parts...)
		if prev, ok := seen[h]; ok {
			t.Errorf("Hash(%q) == Hash(%q)", parts, prev)
		}
		seen[h] = parts
	}
}

func TestInCanary(t *testing.T) {
	const n = 10000
	share := func(pct float64, id func(i int) string) float64 {
		in := 0
		for i := range n {
			if InCanary(id(i), pct) {
				in++
			}
		}
		return float64(in) / n * 100
	}
	sequential := func(i int) string { return fmt.Sprintf("evt_%d", i) }
	for _, pct := range []float64{1, 5, 20, 50} {
		if s := share(pct, sequential); s < pct-2 || s > pct+2 {
			t.Errorf("sequential ids, %v%%: share %.2f%% outside ±2 points", pct, s)
		}
	}
	// Real ids carry random bits; at 5% ±2 points is 9 standard deviations.
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	ulid := func(i int) string { return webhook.NewID("evt_", t0.Add(time.Duration(i)*time.Millisecond)) }
	if s := share(5, ulid); s < 3 || s > 7 {
		t.Errorf("event ids, 5%%: share %.2f%% outside 3–7%%", s)
	}
	for _, tt := range []struct {
		pct  float64
		want bool
	}{{0, false}, {-5, false}, {100, true}, {150, true}} {
		if got := InCanary("evt_x", tt.pct); got != tt.want {
			t.Errorf("InCanary(%v) = %v", tt.pct, got)
		}
	}
	// Deterministic, and monotone in percent: an event in a 5% canary stays
	// in when the canary grows to 20%.
	for i := range 1000 {
		id := fmt.Sprintf("evt_%d", i)
		if InCanary(id, 5) != InCanary(id, 5) || InCanary(id, 5) && !InCanary(id, 20) {
			t.Fatalf("InCanary(%s) is not deterministic and monotone", id)
		}
	}
}
