package deliver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

type bundle struct {
	store  *sqlite.Store
	engine *deliver.Engine
	cancel context.CancelFunc
	done   chan struct{}
}

// setup runs an engine over a real SQLite store with one destination.
func setup(t *testing.T, name string, snd deliver.Sender, policy deliver.Policy) *bundle {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := deliver.New(deliver.Config{Store: st, Destinations: []deliver.Destination{
		{Name: name, Sender: snd, Policy: policy, Concurrency: 4, Timeout: time.Second}},
		Rand: func() float64 { return 0 }, Grace: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	b := &bundle{store: st, engine: e, cancel: cancel, done: make(chan struct{})}
	go func() { e.Run(ctx); close(b.done) }()
	t.Cleanup(func() {
		cancel()
		<-b.done
		st.Close()
	})
	return b
}

func (b *bundle) ingest(t *testing.T, dest string, maxAttempts int) string {
	t.Helper()
	now := time.Now()
	ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
		DedupKey: webhook.NewID("", now), ReceivedAt: now, Headers: http.Header{}, Body: []byte(`{"id":1}`)}
	if _, err := b.store.Ingest(context.Background(), ev, []webhook.NewDelivery{
		{Destination: dest, Route: "r", Priority: webhook.PriorityNormal, MaxAttempts: maxAttempts}}); err != nil {
		t.Fatal(err)
	}
	b.engine.Wake(dest)
	return ev.ID
}

func (b *bundle) waitFinal(t *testing.T, eventID string) webhook.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds, _, err := b.store.DeliveryList(context.Background(), store.DeliveryFilter{EventID: eventID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && (ds[0].State == webhook.StateSucceeded || ds[0].State == webhook.StateDead) {
			return ds[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("delivery never finished")
	return webhook.Delivery{}
}

type panicSender struct{}

func (panicSender) Send(context.Context, *dest.Message) dest.Response { panic("boom") }

func TestPanicIsRecordedAsFailedAttempt(t *testing.T) {
	b := setup(t, "p", panicSender{}, deliver.Policy{MaxAttempts: 2, Initial: time.Millisecond, Max: time.Millisecond})
	d := b.waitFinal(t, b.ingest(t, "p", 2))
	if d.State != webhook.StateDead || d.Attempts != 2 || d.LastErrorClass != webhook.ClassInternal {
		t.Fatalf("delivery = %+v", d)
	}
}

func TestAttemptsExhaustedGoesDead(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	snd, err := dest.NewHTTP(config.Destination{Name: "x", Type: "http", URL: srv.URL}, dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, "x", snd, deliver.Policy{MaxAttempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond})
	d := b.waitFinal(t, b.ingest(t, "x", 3))
	if d.State != webhook.StateDead || d.Attempts != 3 || hits.Load() != 3 || d.LastErrorClass != webhook.ClassHTTP5xx {
		t.Fatalf("delivery = %+v after %d requests", d, hits.Load())
	}
	as, _ := b.store.AttemptList(context.Background(), d.ID)
	if len(as) != 3 {
		t.Fatalf("attempts = %d", len(as))
	}
}

func TestRetryAfterIsAFloor(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	snd, _ := dest.NewHTTP(config.Destination{Name: "x", Type: "http", URL: srv.URL}, dest.Options{})
	b := setup(t, "x", snd, deliver.Policy{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond})
	id := b.ingest(t, "x", 3)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ds, _, _ := b.store.DeliveryList(context.Background(), store.DeliveryFilter{EventID: id})
		if len(ds) == 1 && ds[0].Attempts == 1 {
			if ds[0].State != webhook.StatePending || ds[0].LastErrorClass != webhook.ClassHTTP429 {
				t.Fatalf("after 429: %+v", ds[0])
			}
			if wait := time.Until(ds[0].NextAttemptAt); wait < 59*time.Minute {
				t.Fatalf("next attempt in %v, want ≥ the 1h Retry-After", wait)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("first attempt never recorded")
}
