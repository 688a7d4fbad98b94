package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
)

// delivery runs a real delivery engine for an alert engine's durable
// destinations until stop is called.
type delivery struct {
	eng  *deliver.Engine
	stop func()
}

func startDelivery(t *testing.T, st store.Store, e *Engine) *delivery {
	t.Helper()
	eng := deliver.New(deliver.Config{Store: st, Destinations: e.Destinations(nil), Owner: "test",
		IdlePoll: 20 * time.Millisecond, Grace: time.Second, Tracer: e.cfg.Tracer})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { eng.Run(ctx) })
	d := &delivery{eng: eng}
	d.stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(d.stop)
	return d
}

// drained waits until no notification is queued or in flight.
func drained(t *testing.T, st store.Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		qs, err := st.QueueStats(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		live := 0
		for _, q := range qs {
			if IsInternal(q.Destination) {
				live += q.Due + q.Scheduled + q.InFlight
			}
		}
		if live == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications still queued: %+v", qs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDurableNotifications: notifications stored as events and delivered
// by the real delivery engine on a real SQLite store. A Slack-compatible
// fake that answers 503 three times and a PagerDuty-compatible fake that
// fails the resolve once each receive exactly one firing and one resolved
// message, in that order; a notification stored while no engine runs is
// delivered after the store is reopened (a restart).
func TestDurableNotifications(t *testing.T) {
	slack := newFake(t, func(n int, w http.ResponseWriter) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	pd := newFake(t, func(n int, w http.ResponseWriter) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusAccepted
	})
	path := filepath.Join(t.TempDir(), "hookyard.db")
	st := openStore(t, path)
	var d *delivery
	alerts := []config.Alert{
		{Name: "oncall", Type: "slack", URL: slack.srv.URL + "/services/T0/B0/XOXB"},
		{Name: "pager", Type: "pagerduty", URL: pd.srv.URL + "/v2/enqueue", RoutingKey: "R0UT1NG"},
	}
	retry := deliver.Policy{MaxAttempts: 10, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	spans := tracetest.NewInMemoryExporter()
	tp := tracing.NewProvider(nil, sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	b := setup(t, Config{Alerts: alerts, Queue: st, Retry: retry, Wake: func(dest string) { d.eng.Wake(dest) },
		Tracer: tracing.New(tp)})
	if got := len(b.e.Destinations(nil)); got != 2 {
		t.Fatalf("%d durable destinations", got)
	}
	d = startDelivery(t, st, b.e)

	b.e.Event(EventBreakerOpened, "oms", "failure ratio 0.9")
	b.minute(nil)
	b.e.Event(EventBreakerClosed, "oms", "")
	b.run(11, nil) // quiet for ResolveAfter: resolves
	if _, resolved := b.e.Alerts(); len(resolved) != 1 {
		t.Fatalf("the incident did not resolve: %v", resolved)
	}
	if b.e.Pending() != 0 {
		t.Fatalf("%d notifications not stored", b.e.Pending())
	}
	drained(t, st)

	check := func(f *fake, wantSeen int, states func(body string) string) {
		t.Helper()
		var got []string
		for _, m := range f.accepted() {
			got = append(got, states(m))
		}
		if strings.Join(got, " ") != "firing resolved" || f.seen != wantSeen {
			t.Errorf("accepted %q after %d requests, want firing then resolved after %d", got, f.seen, wantSeen)
		}
	}
	check(slack, 5, func(m string) string {
		var sm slackMessage
		json.Unmarshal([]byte(m), &sm)
		switch {
		case strings.Contains(sm.Text, "*FIRING*") && strings.Contains(sm.Text, "breaker-open/oms"):
			return "firing"
		case strings.Contains(sm.Text, "*RESOLVED*") && strings.Contains(sm.Text, "breaker-open/oms"):
			return "resolved"
		}
		return "?" + sm.Text
	})
	pdState := func(m string) string {
		var ev pdEvent
		json.Unmarshal([]byte(m), &ev)
		if ev.DedupKey != "hookyard/breaker-open/oms" {
			return "?" + ev.DedupKey
		}
		return map[string]string{"trigger": "firing", "resolve": "resolved"}[ev.EventAction]
	}
	check(pd, 3, pdState)
	var first pdEvent
	json.Unmarshal([]byte(pd.accepted()[0]), &first)
	if first.Payload == nil || !strings.HasPrefix(first.Links[0].Href, DefaultRunbookBase+"#") {
		t.Errorf("trigger without payload or runbook link: %+v", first)
	}

	// Storing a notification is the root span of its event's trace; the
	// attempts to send it are its children.
	// An attempt's span ends just after its outcome is recorded.
	for deadline := time.Now().Add(10 * time.Second); len(spans.GetSpans()) < 10 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	roots := map[string]bool{}
	attempts := 0
	for _, s := range spans.GetSpans() {
		if s.Name == tracing.SpanIngest {
			roots[s.SpanContext.SpanID().String()] = true
		}
	}
	for _, s := range spans.GetSpans() {
		if s.Name == tracing.SpanAttempt {
			attempts++
			if !roots[s.Parent.SpanID().String()] {
				t.Errorf("attempt span without its notification's span as parent: %v", s.Parent)
			}
		}
	}
	if len(roots) != 2 || attempts != 8 { // slack 5, pagerduty 3
		t.Errorf("%d notification spans, %d attempt spans", len(roots), attempts)
	}

	// The same notification stored twice (a retried write, a second node)
	// is one event.
	firing, resolved := b.e.Alerts()
	if len(firing) != 0 {
		t.Fatalf("still firing: %v", firing)
	}
	if err := b.e.storeOne(context.Background(), resolved[0]); err != nil {
		t.Fatal(err)
	}
	drained(t, st)
	if pd.seen != 3 || slack.seen != 5 {
		t.Errorf("a duplicate notification was sent again: pd %d, slack %d", pd.seen, slack.seen)
	}

	// A restart: the engine is down when the incident fires; the stored
	// notification is delivered once the store is reopened.
	d.stop()
	b.e.Event(EventDestinationDisabled, "oms", "410 Gone")
	if b.e.Pending() != 0 {
		t.Fatal("not stored while the delivery engine is down")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, path)
	defer st2.Close()
	b2 := setup(t, Config{Alerts: alerts, Queue: st2, Retry: retry})
	startDelivery(t, st2, b2.e)
	drained(t, st2)
	msgs := slack.accepted()
	if len(msgs) != 3 || !strings.Contains(msgs[2], "destination-disabled/oms") || !strings.Contains(msgs[2], "*FIRING*") {
		t.Errorf("after the restart slack has %q", msgs)
	}
	if got := pd.accepted(); len(got) != 3 {
		t.Errorf("after the restart pagerduty has %d messages", len(got))
	}
}
