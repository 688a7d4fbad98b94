package deliver

import (
	"testing"
	"time"
)

var b0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestBreakerConsecutiveFailuresOpenThenProbeCloses(t *testing.T) {
	b := NewBreaker(BreakerConfig{ConsecutiveFailures: 3, OpenFor: 10 * time.Second, Probes: 2})
	now := b0
	for i := range 2 {
		if _, to := b.Record(false, now); to != BreakerClosed {
			t.Fatalf("failure %d opened the breaker", i+1)
		}
	}
	b.Record(true, now) // a success breaks the run
	for range 2 {
		b.Record(false, now)
	}
	if b.State() != BreakerClosed {
		t.Fatal("2 failures after a success opened it")
	}
	if from, to := b.Record(false, now); from != BreakerClosed || to != BreakerOpen {
		t.Fatalf("third consecutive failure: %s → %s", BreakerName(from), BreakerName(to))
	}
	if n, wait := b.Allow(now.Add(time.Second)); n != 0 || wait != 9*time.Second {
		t.Fatalf("open: allow %d, wait %v", n, wait)
	}
	// After OpenFor: one probe at a time.
	now = now.Add(10 * time.Second)
	if n, _ := b.Allow(now); n != 1 || b.State() != BreakerHalfOpen {
		t.Fatalf("after open_for: allow %d in %s", n, BreakerName(b.State()))
	}
	if n, _ := b.Allow(now); n != 0 {
		t.Fatal("second probe allowed while the first is in flight")
	}
	// A failed probe opens it again for another OpenFor.
	if _, to := b.Record(false, now); to != BreakerOpen {
		t.Fatalf("failed probe left it %s", BreakerName(to))
	}
	if n, _ := b.Allow(now.Add(9 * time.Second)); n != 0 {
		t.Fatal("reopened breaker allowed work before open_for")
	}
	now = now.Add(10 * time.Second)
	b.Allow(now)
	if _, to := b.Record(true, now); to != BreakerHalfOpen {
		t.Fatalf("one of two probes closed it: %s", BreakerName(to))
	}
	if n, _ := b.Allow(now); n != 1 {
		t.Fatal("second probe not allowed after the first succeeded")
	}
	if _, to := b.Record(true, now); to != BreakerClosed {
		t.Fatalf("two good probes left it %s", BreakerName(to))
	}
	if n, _ := b.Allow(now); n != -1 {
		t.Fatal("closed breaker limits work")
	}
}

func TestBreakerFailureRatioOverWindow(t *testing.T) {
	b := NewBreaker(BreakerConfig{FailureRatio: 0.5, Window: 10 * time.Second, MinRequests: 10})
	now := b0
	// 4 failures and 4 successes: ratio met, but below MinRequests.
	for range 4 {
		b.Record(false, now)
		b.Record(true, now)
	}
	if b.State() != BreakerClosed {
		t.Fatal("opened below min_requests")
	}
	// Outcomes older than the window no longer count.
	now = now.Add(11 * time.Second)
	for range 4 {
		b.Record(true, now)
		b.Record(false, now)
	}
	if b.State() != BreakerClosed {
		t.Fatal("old outcomes counted towards min_requests")
	}
	b.Record(true, now)
	if _, to := b.Record(false, now.Add(time.Second)); to != BreakerOpen {
		t.Fatalf("5 of 10 failed in the window: %s, want open", BreakerName(to))
	}
}

func TestBreakerLowRatioStaysClosed(t *testing.T) {
	b := NewBreaker(BreakerConfig{FailureRatio: 0.5, Window: time.Minute, MinRequests: 10})
	for i := range 100 {
		b.Record(i%3 != 0, b0.Add(time.Duration(i)*100*time.Millisecond)) // a third fail
	}
	if b.State() != BreakerClosed {
		t.Fatal("33% failures opened a 50% breaker")
	}
}

func TestBreakerTripFromAnotherNode(t *testing.T) {
	b := NewBreaker(BreakerConfig{ConsecutiveFailures: 5})
	if !b.Trip(b0.Add(time.Minute)) || b.State() != BreakerOpen {
		t.Fatal("trip did not open")
	}
	if n, _ := b.Allow(b0); n != 0 {
		t.Fatal("tripped breaker allowed work")
	}
	if n, _ := b.Allow(b0.Add(time.Minute)); n != 1 {
		t.Fatal("no probe after the shared open time")
	}
	b.Unprobe()
	if n, _ := b.Allow(b0.Add(time.Minute)); n != 1 {
		t.Fatal("an unused probe was not given back")
	}
}
