package reconcile_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
)

// BenchmarkRunStripe measures a whole run against the fake Stripe API
// over loopback on SQLite: 5,000 listed events, of which none or 10% are
// missing and backfilled (one routed delivery each). Each iteration uses a
// fresh store, built outside the timer.
func BenchmarkRunStripe(b *testing.B) {
	const n = 5000
	for _, pct := range []int{0, 10} {
		b.Run(fmt.Sprintf("missing-%dpct", pct), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				st := openStore(b)
				missing := map[int]bool{}
				for i := 0; i < n*pct/100; i++ {
					missing[i*100/max(pct, 1)] = true
				}
				events := stripeEvents(b, st, n, missing)
				api := reconciletest.NewStripe(b, "rk_test_key", events)
				var sleeps []time.Duration
				r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
					Router: oneRoute{}, Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
				b.StartTimer()
				run, err := r.Run(b.Context(), "stripe", t0.Add(-24*time.Hour), t0, reconcile.TriggerManual)
				b.StopTimer()
				if err != nil || run.Listed != n || run.Backfilled != len(missing) {
					b.Fatalf("run %+v %v", run, err)
				}
				api.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
