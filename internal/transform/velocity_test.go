package transform

import (
	"testing"
	"time"
)

func TestVelocityCounter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	v := NewVelocityCounter(time.Hour, 2)
	steps := []struct {
		key, order string
		at         time.Duration
		want       int
	}{
		{"a@x", "1", 0, 1},
		{"a@x", "1", time.Minute, 1}, // the same order again (a retry, another route)
		{"a@x", "2", 10 * time.Minute, 2},
		{"a@x", "", 20 * time.Minute, 3},  // no id: a new order each time
		{"a@x", "3", 61 * time.Minute, 3}, // order 1 left the window
		{"b@x", "9", 62 * time.Minute, 1},
	}
	for i, s := range steps {
		if got := v.Observe(s.key, s.order, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d %+v: count %d, want %d", i, s, got, s.want)
		}
	}
	// A third key over maxKeys 2: neither key is idle, so one is dropped.
	v.Observe("c@x", "1", t0.Add(63*time.Minute))
	if n := v.Keys(); n != 2 {
		t.Fatalf("keys = %d, want the bound 2", n)
	}
	// Idle keys go first.
	w := NewVelocityCounter(time.Hour, 2)
	w.Observe("old", "1", t0)
	w.Observe("busy", "1", t0.Add(90*time.Minute))
	w.Observe("new", "1", t0.Add(91*time.Minute))
	if got := w.Observe("busy", "2", t0.Add(92*time.Minute)); got != 2 {
		t.Fatalf("busy count = %d after eviction, want 2 (the idle key should have gone)", got)
	}
}

// TestRiskScoreVelocityCounter: with a counter, the third distinct order of
// a customer (or an IP) within the window fires the velocity rule, and a
// repeat of an order does not count again.
func TestRiskScoreVelocityCounter(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	order := func(id, email, ip string) any {
		return mustEval(t, `.body.id = `+id+` | .body.email = "`+email+`" | .body.customer.email = "`+email+`" | .body.browser_ip = "`+ip+`"`, shop, Options{})
	}
	for _, by := range []string{VelocityByCustomer, VelocityByIP} {
		rules := RiskRules{VelocityThreshold: 3, VelocityScore: 40, Counter: NewVelocityCounter(time.Hour, 0), VelocityBy: by}
		opts := Options{Risk: &rules}
		score := func(o any) string { return asJSON(mustEval(t, `risk_score`, o, opts)) }
		// By customer the emails match; by IP the emails differ but the IP does not.
		email := func(i int) string {
			if by == VelocityByIP {
				return string(rune('a'+i)) + "@example.com"
			}
			return "Buyer@Example.com"
		}
		for i, id := range []string{"1", "2", "2"} {
			if got := score(order(id, email(i), "203.0.113.9")); got != `{"reasons":[],"score":0}` {
				t.Fatalf("%s: order %s: %s, want no velocity yet", by, id, got)
			}
		}
		if got := score(order("3", email(3), "203.0.113.9")); got != `{"reasons":["velocity"],"score":40}` {
			t.Fatalf("%s: third order: %s, want velocity", by, got)
		}
		if got := score(order("4", "other@example.com", "198.51.100.1")); got != `{"reasons":[],"score":0}` {
			t.Fatalf("%s: another buyer: %s", by, got)
		}
	}
}
