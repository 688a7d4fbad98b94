package metrics

import (
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// TestSnapshot: the snapshot reports the same totals /metrics exposes.
func TestSnapshot(t *testing.T) {
	m := New()
	t0 := time.Unix(1_800_000_000, 0)
	ev := &webhook.Event{ReceivedAt: t0}
	d := &webhook.Delivery{}
	for i := range 10 {
		a := &webhook.Attempt{StartedAt: t0.Add(time.Duration(i) * 30 * time.Second), Duration: time.Millisecond}
		m.Attempted("oms", d, ev, a, webhook.StateSucceeded)
	}
	m.Attempted("oms", d, ev, &webhook.Attempt{StartedAt: t0, ErrorClass: "5xx"}, webhook.StatePending)
	m.Attempted("oms", d, ev, &webhook.Attempt{StartedAt: t0, ErrorClass: "4xx"}, webhook.StateDead)
	m.Ingested("shop", "accepted", time.Millisecond, 0, "orders/create")
	m.Ingested("shop", "duplicate", time.Millisecond, 0, "")
	m.Ingested("shop", "duplicate", time.Millisecond, 0, "")

	s := m.Snapshot()
	if got := s.Attempts[AttemptKey{"oms", "success", ""}]; got != 10 {
		t.Errorf("success attempts = %v", got)
	}
	if got := s.Attempts[AttemptKey{"oms", "retry", "5xx"}]; got != 1 {
		t.Errorf("5xx retries = %v", got)
	}
	if got := s.Completed["oms"]; got != 11 {
		t.Errorf("completed = %v, want 10 succeeded + 1 dead", got)
	}
	if got := s.DedupHits["shop"]; got != 2 {
		t.Errorf("dedup hits = %v", got)
	}
	if got := s.Ingest[IngestKey{"shop", "duplicate"}]; got != 2 {
		t.Errorf("ingest duplicates = %v", got)
	}
	h := s.EndToEnd["oms"]
	if h.Count != 10 || len(h.Bounds) != len(buckets) || len(h.Counts) != len(buckets) {
		t.Fatalf("histogram = %+v", h)
	}
	// End-to-end times are 0, 30s, …, 270s: two are within 59.6s (the
	// bucket bound below a minute).
	for i, b := range h.Bounds {
		if b > 59 && b < 60 && h.Counts[i] != 2 {
			t.Errorf("le=%v count %v, want 2", b, h.Counts[i])
		}
	}
}
