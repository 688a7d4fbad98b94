package main

import (
	"context"
	"fmt"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
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
	a, err := newAlerting(cfg, m, st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, leader.NewLocal(), nil)
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

// TestAlertingLeaderOnly: two nodes on one PostgreSQL database evaluate
// alerts, but only the holder of the leadership lock opens incidents and
// stores notifications; when it goes, the other takes over.
func TestAlertingLeaderOnly(t *testing.T) {
	dsn, schema := storetest.PostgresDSN(t, "hy_alert_leader")
	ctx := context.Background()

	cfg := &config.Config{
		Destinations: []config.Destination{{Name: "oms"}},
		Alerts:       []config.Alert{{Name: "oncall", Type: "webhook", URL: "http://127.0.0.1:9/unused"}},
	}
	type node struct {
		st *postgres.Store
		ld *leader.Postgres
		a  *alerting
	}
	// A lock name of this test's own, so other tests' nodes do not compete.
	opts := leader.Options{Name: schema, Interval: 50 * time.Millisecond}
	var nodes []*node
	for range 2 {
		st, err := postgres.Open(ctx, dsn, postgres.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ld, err := leader.NewPostgres(ctx, dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ld.Close() })
		a, err := newAlerting(cfg, metrics.New(), st, slog.New(slog.DiscardHandler), nil, ld, nil)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, &node{st, ld, a})
	}
	stored := func() int {
		t.Helper()
		es, _, err := nodes[0].st.EventList(ctx, store.EventFilter{Source: alert.Source})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	if nodes[0].ld.IsLeader() == nodes[1].ld.IsLeader() {
		t.Fatalf("leaders: %v %v", nodes[0].ld.IsLeader(), nodes[1].ld.IsLeader())
	}
	lead, follow := nodes[0], nodes[1]
	if !lead.ld.IsLeader() {
		lead, follow = follow, lead
	}
	for _, n := range nodes {
		n.a.engine.Event(alert.EventBreakerOpened, "oms", "failure ratio 0.9")
	}
	if got := stored(); got != 1 {
		t.Fatalf("%d notifications stored, want the leader's one", got)
	}
	if f, _ := follow.a.engine.Alerts(); len(f) != 0 {
		t.Errorf("the follower opened %v", f)
	}
	// The leader goes away: the follower takes over and alerts.
	lead.ld.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !follow.ld.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the follower never took over")
		}
		time.Sleep(10 * time.Millisecond)
	}
	follow.a.engine.Event(alert.EventDestinationDisabled, "oms", "410 Gone")
	if got := stored(); got != 2 {
		t.Fatalf("%d notifications stored after the takeover, want 2", got)
	}
}

// TestAlertNotificationThroughNode: on a real node, an alert's Slack
// message is an event of source hookyard:alerts delivered by the node's
// delivery engine to destination alert:oncall — retried after a 503 like
// any delivery, counted in /metrics — and reaches Slack exactly once.
func TestAlertNotificationThroughNode(t *testing.T) {
	slack := newSink(t, func(n int) int {
		if n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}\n",
		fmt.Sprintf("alerts:\n  - {name: oncall, type: slack, url: %q}\n", slack.srv.URL+"/services/T0/B0/X"))
	n.alerts.engine.Event(alert.EventDestinationDisabled, "oms", "410 Gone")
	first, second := slack.next(t), slack.next(t)
	for _, r := range []sinkReq{first, second} {
		if !strings.Contains(string(r.body), "FIRING") || !strings.Contains(string(r.body), "destination-disabled/oms") {
			t.Errorf("slack got %s", r.body)
		}
	}
	ctx := context.Background()
	list, err := n.client.Events(ctx, api.EventQuery{Source: alert.Source})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Events) != 1 || list.Events[0].Topic != "alert.firing" {
		t.Fatalf("alert events: %+v", list.Events)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, err := n.client.Event(ctx, list.Events[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Deliveries) == 1 && ev.Deliveries[0].State == "succeeded" {
			if d := ev.Deliveries[0]; d.Destination != "alert:oncall" || d.Attempts != 2 {
				t.Errorf("delivery %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notification delivery: %+v", ev.Deliveries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The attempt is counted just after its outcome is recorded.
	want := []string{
		`hookyard_delivery_attempts_total{destination="alert:oncall",error_class="5xx",outcome="retry"} 1`,
		`hookyard_delivery_attempts_total{destination="alert:oncall",error_class="",outcome="success"} 1`,
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + n.adminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(text), want[0]) && strings.Contains(string(text), want[1]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q:\n%s", want, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if slack.count() != 2 {
		t.Errorf("slack saw %d requests", slack.count())
	}
}
