package console

import (
	"fmt"
	"testing"
	"time"
)

// TestLoginLimiterBounded: the tracked addresses never exceed the bound;
// refilled buckets go first, then the one idle longest.
func TestLoginLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	l := newLoginLimiter(2, 3)
	for i := range 3 {
		l.allow(fmt.Sprint("a", i), t0.Add(time.Duration(i)*time.Second))
	}
	// A fourth address while all three are recent: a0, idle longest, goes.
	l.allow("a3", t0.Add(3*time.Second))
	if len(l.buckets) != 3 || l.buckets["a0"] != nil {
		t.Fatalf("buckets %v", keys(l.buckets))
	}
	// A minute on, every bucket has refilled: all are dropped for a4.
	l.allow("a4", t0.Add(2*time.Minute))
	if len(l.buckets) != 1 || l.buckets["a4"] == nil {
		t.Fatalf("buckets %v", keys(l.buckets))
	}
	// Two attempts, then a wait of half a minute (2 a minute).
	l.allow("a4", t0.Add(2*time.Minute))
	if ok, wait := l.allow("a4", t0.Add(2*time.Minute)); ok || wait != 30*time.Second {
		t.Fatalf("third attempt: %v, wait %v", ok, wait)
	}
}

func keys(m map[string]*bucket) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
