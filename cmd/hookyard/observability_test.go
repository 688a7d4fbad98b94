package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestAlertingWiring drives the wired alert engine on a fake clock over a
// real SQLite queue and checks what the admin API would answer: a stuck
// destination breaches its time-to-drain objective (stalled: nothing
// completes), and the failures reach the alert as error samples.
func TestAlertingWiring(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), sqlite.Config{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "shop", Provider: "shopify", DedupKey: "k1", ReceivedAt: t0,
		Body: []byte(`{}`)}
	if _, err := st.Ingest(context.Background(), ev, []webhook.NewDelivery{{Destination: "oms", Route: "shop->oms", MaxAttempts: 5}}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Destinations: []config.Destination{{Name: "oms"}, {Name: "crm"}},
		SLOs: []config.SLO{
			{Name: "delivery-success", Objective: "99.0%", Window: config.Duration(28 * 24 * time.Hour), Destination: "*"},
			{Name: "time-to-drain", Objective: "< 5m", Destination: "oms"},
		},
	}
	m := metrics.New()
	a, err := newAlerting(cfg, m, st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := a.observer(m)
	for i := range 7 {
		obs.Attempted("oms", &webhook.Delivery{}, ev, &webhook.Attempt{StartedAt: t0, ErrorClass: "timeout",
			Error: `Post "https://oms.example.com/?token=SECRET": context deadline exceeded`}, webhook.StatePending)
		if err := a.engine.Tick(context.Background(), t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	al := a.api().Alerts()
	var drain *struct{ key, runbook string }
	for _, x := range al.Firing {
		if x.Key == "slo-time-to-drain/time-to-drain/oms" {
			drain = &struct{ key, runbook string }{x.Key, x.RunbookURL}
			if len(x.ErrorSamples) == 0 || strings.Contains(strings.Join(x.ErrorSamples, " "), "SECRET") ||
				!strings.HasPrefix(x.ErrorSamples[0], "timeout: ") {
				t.Errorf("error samples %q", x.ErrorSamples)
			}
		}
	}
	if drain == nil || !strings.HasSuffix(drain.runbook, "docs/RUNBOOKS.md#queue-rising") {
		t.Fatalf("firing %+v", al.Firing)
	}
	if len(al.Resolved) != 0 {
		t.Errorf("resolved %+v", al.Resolved)
	}
	slos := a.api().SLOs().SLOs
	if len(slos) != 3 {
		t.Fatalf("slos %+v", slos)
	}
	var sawStalled, sawSuccess bool
	for _, s := range slos {
		switch {
		case s.Kind == "drain":
			sawStalled = s.Stalled && s.TimeToDrainSeconds == nil && s.Firing && s.ThresholdSeconds == 300
		case s.Destination == "oms":
			// Seven failed attempts, none succeeded.
			sawSuccess = s.SLI != nil && *s.SLI == 0 && s.Events == 6 && s.Window == "672h0m0s" &&
				*s.ErrorBudgetRemaining < 0 && s.BurnRates["5m"] > 99.99 && s.Firing
		case s.Destination == "crm":
			if s.SLI != nil || *s.ErrorBudgetRemaining != 1 {
				t.Errorf("crm %+v", s)
			}
		}
	}
	if !sawStalled || !sawSuccess {
		t.Errorf("slos %+v", slos)
	}
}
