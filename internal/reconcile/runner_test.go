package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type sqliteStore interface {
	store.Store
	store.Reconciles
}

func openStore(t testing.TB) sqliteStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// oneRoute sends every event to destination "oms".
type oneRoute struct{}

func (oneRoute) Deliveries(context.Context, *webhook.Event) []webhook.NewDelivery {
	return []webhook.NewDelivery{{Destination: "oms", Route: "stripe->oms", Priority: webhook.PriorityNormal, MaxAttempts: 5}}
}

// observed records finished runs.
type observed struct {
	mu   sync.Mutex
	runs []reconcile.Run
}

func (o *observed) Reconciled(r *reconcile.Run, _ int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs = append(o.runs, *r)
}

// stripeEvents returns n events, one a minute before t0, and ingests
// every one whose index is not in missing as a real webhook would have.
func stripeEvents(t testing.TB, s store.Store, n int, missing map[int]bool) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		id := fmt.Sprintf("evt_%06d", i)
		created := t0.Add(-time.Duration(n-i) * time.Second)
		body := reconciletest.StripeEvent(id, "payment_intent.succeeded", created, 100+i)
		out = append(out, body)
		if missing[i] {
			continue
		}
		ev := &webhook.Event{ID: webhook.NewID("evt_", created), Source: "stripe", Provider: "stripe",
			Topic: "payment_intent.succeeded", DedupKey: id, ReceivedAt: created, Body: body}
		if _, err := s.Ingest(t.Context(), ev, oneRoute{}.Deliveries(t.Context(), ev)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func stripeSource(api *reconciletest.Stripe, sleeps *[]time.Duration) reconcile.Source {
	c := reconcile.Client{Sleep: func(_ context.Context, d time.Duration) error { *sleeps = append(*sleeps, d); return nil }}
	return reconcile.Source{Name: "stripe", Provider: "stripe", Backfill: true,
		Lister: reconcile.NewStripe(api.URL, "rk_test_key", c), Every: time.Minute, Lookback: time.Hour}
}

func TestRunBackfillsGapsThroughRateLimitsAndErrors(t *testing.T) {
	st := openStore(t)
	missing := map[int]bool{0: true, 99: true, 100: true, 101: true, 249: true}
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 250, missing))
	api.Faults = []int{429, 503} // first page: rate limited, then a transient error
	var sleeps []time.Duration
	obs := &observed{}
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Locker: leader.NewLocal(), Observer: obs, Now: func() time.Time { return t0 }})

	run, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != 250 || run.Matched != 245 || run.Missing != 5 || run.Backfilled != 5 || run.Errors != 0 {
		t.Fatalf("run %+v", run)
	}
	if len(sleeps) < 2 || sleeps[0] != 2*time.Second {
		t.Fatalf("waits %v: want the 429's Retry-After (2s) first, then a backoff", sleeps)
	}
	// 3 pages of 100 plus the two faults.
	if n := api.RequestCount(); n != 5 {
		t.Fatalf("%d API requests, want 5", n)
	}
	for i := range missing {
		id := fmt.Sprintf("evt_%06d", i)
		evs, _, err := st.EventList(t.Context(), store.EventFilter{Source: "stripe", DedupKey: id})
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %d events, %v", id, len(evs), err)
		}
		ev, err := st.EventGet(t.Context(), evs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Headers.Get(reconcile.OriginHeader) != "reconcile" || ev.Headers.Get(reconcile.RunHeader) != run.ID ||
			ev.Topic != "payment_intent.succeeded" || string(ev.Body) != string(reconciletest.StripeEvent(id, "payment_intent.succeeded", t0.Add(-time.Duration(250-i)*time.Second), 100+i)) {
			t.Fatalf("backfilled %s: topic %q headers %v body %s", id, ev.Topic, ev.Headers, ev.Body)
		}
		ds, _, err := st.DeliveryList(t.Context(), store.DeliveryFilter{EventID: ev.ID})
		if err != nil || len(ds) != 1 || ds[0].Destination != "oms" {
			t.Fatalf("%s deliveries %v %v", id, ds, err)
		}
	}
	stored, err := st.ReconcileRunGet(t.Context(), run.ID)
	if err != nil || stored != run {
		t.Fatalf("stored run %+v, %v; want %+v", stored, err, run)
	}
	if len(obs.runs) != 1 || obs.runs[0].Missing != 5 {
		t.Fatalf("observer saw %+v", obs.runs)
	}

	// A second run over the same window finds nothing missing.
	again, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if again.Listed != 250 || again.Matched != 250 || again.Missing != 0 || again.Backfilled != 0 {
		t.Fatalf("second run %+v", again)
	}
}

func TestRunReportOnly(t *testing.T) {
	st := openStore(t)
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 30, map[int]bool{3: true, 7: true}))
	var sleeps []time.Duration
	src := stripeSource(api, &sleeps)
	src.Backfill = false
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.Missing != 2 || run.Backfilled != 0 {
		t.Fatalf("run %+v", run)
	}
	if got, _ := st.EventKeysStored(t.Context(), "stripe", []string{"evt_000003", "evt_000007"}); len(got) != 0 {
		t.Fatalf("report-only run stored %v", got)
	}
}

func TestRunPermanentAPIErrorFailsTheRun(t *testing.T) {
	st := openStore(t)
	api := reconciletest.NewStripe(t, "the-right-key", stripeEvents(t, st, 5, nil))
	var sleeps []time.Duration
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunFailed || run.Errors != 1 || len(sleeps) != 0 {
		t.Fatalf("run %+v after waits %v: want failed at once on 401", run, sleeps)
	}
	if want := "HTTP 401"; !contains(run.LastError, want) || contains(run.LastError, "the-right-key") || contains(run.LastError, "rk_test_key") {
		t.Fatalf("last error %q: want %q and no key", run.LastError, want)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestResumeAfterInterruption stops a run in the middle (the node shuts
// down while page 3 is being fetched), then a new runner — the next
// leader — resumes it from its checkpoint: the run keeps its id, continues
// at the saved cursor, and every missing event is stored exactly once.
func TestResumeAfterInterruption(t *testing.T) {
	st := openStore(t)
	missing := map[int]bool{10: true, 150: true, 290: true}
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 300, missing))
	// Newest first: page 1 ends with evt_000200, page 2 with evt_000100.
	api.Gate, api.GateAfter = make(chan struct{}), "evt_000100"
	var sleeps []time.Duration
	src := stripeSource(api, &sleeps)
	ctx, cancel := context.WithCancel(t.Context())
	first := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	done := make(chan reconcile.Run)
	go func() {
		run, err := first.Run(ctx, "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerSchedule)
		if err != nil {
			t.Error(err)
		}
		done <- run
	}()
	// Wait until the third page is requested, then stop the node.
	for api.RequestCount() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	close(api.Gate)
	interrupted := <-done
	saved, ok, err := st.ReconcileRunUnfinished(t.Context(), "stripe")
	if err != nil || !ok {
		t.Fatalf("no unfinished run after interruption (%v); returned %+v", err, interrupted)
	}
	if saved.Cursor != "evt_000100" || saved.Listed != 200 || saved.Backfilled != 2 {
		t.Fatalf("checkpoint %+v: want cursor evt_000100 after 200 listed, 2 backfilled", saved)
	}

	obs := &observed{}
	next := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Observer: obs, Now: func() time.Time { return t0.Add(time.Minute) }})
	before := api.RequestCount()
	next.Tick(t.Context())
	if len(obs.runs) != 1 {
		t.Fatalf("tick finished %d runs, want the resumed one", len(obs.runs))
	}
	run := obs.runs[0]
	if run.ID != saved.ID || run.State != store.RunDone || run.Listed != 300 || run.Missing != 3 || run.Backfilled != 3 {
		t.Fatalf("resumed run %+v", run)
	}
	resumedAt := api.Request(before)
	if !contains(resumedAt, "starting_after=evt_000100") {
		t.Fatalf("resumed with %q, want starting_after=evt_000100", resumedAt)
	}
	for i := range missing {
		evs, _, err := st.EventList(t.Context(), store.EventFilter{Source: "stripe", DedupKey: fmt.Sprintf("evt_%06d", i)})
		if err != nil || len(evs) != 1 {
			t.Fatalf("event %d stored %d times (%v)", i, len(evs), err)
		}
	}
}

// TestOneRunPerSource: while a run of a source holds its lock, a second
// one (here through the same Locker, as another node would through the
// database) is refused, and the scheduler skips the source.
func TestOneRunPerSource(t *testing.T) {
	st := openStore(t)
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 150, map[int]bool{1: true}))
	api.Gate, api.GateAfter = make(chan struct{}), ""
	var sleeps []time.Duration
	locks := leader.NewLocal()
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Locker: locks, Now: func() time.Time { return t0 }})
	started, err := r.Start(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if started.State != store.RunRunning {
		t.Fatalf("started %+v", started)
	}
	other := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Locker: locks, Now: func() time.Time { return t0 }})
	if _, err := other.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual); !errors.Is(err, reconcile.ErrBusy) {
		t.Fatalf("second run: %v, want ErrBusy", err)
	}
	other.Tick(t.Context()) // must not start or resume anything
	close(api.Gate)
	r.Wait()
	runs, err := st.ReconcileRunList(t.Context(), "stripe", 10)
	if err != nil || len(runs) != 1 || runs[0].State != store.RunDone || runs[0].Backfilled != 1 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if _, err := r.Run(t.Context(), "nope", t0.Add(-time.Hour), t0, reconcile.TriggerManual); !errors.Is(err, reconcile.ErrUnknownSource) {
		t.Fatalf("unknown source: %v", err)
	}
	if _, err := r.Run(t.Context(), "stripe", t0, t0, reconcile.TriggerManual); !errors.Is(err, webhook.ErrInvalid) {
		t.Fatalf("empty window: %v", err)
	}
}

// TestScheduleLeaderOnly: a node that does not lead never runs; the
// leader runs a source once per Every.
func TestScheduleLeaderOnly(t *testing.T) {
	st := openStore(t)
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 20, map[int]bool{4: true}))
	var sleeps []time.Duration
	now := t0
	leads := false
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Locker: leader.NewLocal(), Elector: electorFunc(func() bool { return leads }),
		Now: func() time.Time { return now }})
	r.Tick(t.Context())
	if n := api.RequestCount(); n != 0 {
		t.Fatalf("a follower called the API %d times", n)
	}
	leads = true
	r.Tick(t.Context())
	now = now.Add(30 * time.Second) // Every is 1m: not due yet
	r.Tick(t.Context())
	runs, _ := st.ReconcileRunList(t.Context(), "stripe", 10)
	if len(runs) != 1 || runs[0].Trigger != reconcile.TriggerSchedule || runs[0].Backfilled != 1 ||
		!runs[0].Since.Equal(t0.Add(-time.Hour)) || !runs[0].Until.Equal(t0) {
		t.Fatalf("runs after two ticks: %+v", runs)
	}
	now = now.Add(31 * time.Second)
	r.Tick(t.Context())
	runs, _ = st.ReconcileRunList(t.Context(), "stripe", 10)
	if len(runs) != 2 || runs[0].Missing != 0 {
		t.Fatalf("runs after the next due tick: %+v", runs)
	}
}

type electorFunc func() bool

func (f electorFunc) IsLeader() bool { return f() }

// TestSettleEndsWindowsEarly: scheduled and default manual windows end
// Settle before now, leaving webhooks still in flight to arrive.
func TestSettleEndsWindowsEarly(t *testing.T) {
	st := openStore(t)
	// Event 9 was created 1s before t0: inside the settle time.
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 10, map[int]bool{9: true}))
	var sleeps []time.Duration
	src := stripeSource(api, &sleeps)
	src.Settle = 10 * time.Minute
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	r.Tick(t.Context())
	runs, err := st.ReconcileRunList(t.Context(), "stripe", 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if run := runs[0]; !run.Until.Equal(t0.Add(-10*time.Minute)) || !run.Since.Equal(t0.Add(-70*time.Minute)) ||
		run.Missing != 0 || run.Listed != 0 {
		t.Fatalf("scheduled run %+v: want window [t0-70m, t0-10m) with nothing in it", run)
	}
	manual, err := r.Run(t.Context(), "stripe", time.Time{}, time.Time{}, reconcile.TriggerManual)
	if err != nil || !manual.Until.Equal(t0.Add(-10*time.Minute)) {
		t.Fatalf("manual run %+v %v", manual, err)
	}
	// An explicit window reaches as far as asked.
	explicit, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil || explicit.Missing != 1 || explicit.Backfilled != 1 {
		t.Fatalf("explicit run %+v %v", explicit, err)
	}
}

// blockingRoute routes like oneRoute but holds the backfill of one key
// until the run's context ends, so a test can stop a node in the middle
// of a page's backfills.
type blockingRoute struct {
	key     string
	reached chan struct{}
}

func (b blockingRoute) Deliveries(ctx context.Context, ev *webhook.Event) []webhook.NewDelivery {
	if ev.DedupKey == b.key {
		close(b.reached)
		<-ctx.Done()
	}
	return oneRoute{}.Deliveries(ctx, ev)
}

// TestInterruptedMidPageCountsOnce: a node stopped while it backfills a
// page's gaps saves the run as of its last checkpoint, so the next leader,
// which redoes that page, does not count it twice.
func TestInterruptedMidPageCountsOnce(t *testing.T) {
	st := openStore(t)
	missing := map[int]bool{10: true, 150: true, 290: true}
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 300, missing))
	var sleeps []time.Duration
	src := stripeSource(api, &sleeps)
	ctx, cancel := context.WithCancel(t.Context())
	route := blockingRoute{key: "evt_000010", reached: make(chan struct{})} // on page 3
	first := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: route,
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first.Run(ctx, "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerSchedule)
	}()
	<-route.reached // page 3 listed and compared, its gap being stored
	cancel()
	<-done
	saved, ok, err := st.ReconcileRunUnfinished(t.Context(), "stripe")
	if err != nil || !ok {
		t.Fatalf("no unfinished run after interruption: %v", err)
	}
	if saved.Cursor != "evt_000100" || saved.Listed != 200 || saved.Missing != 2 || saved.Backfilled != 2 {
		t.Fatalf("saved %+v: want the page-2 checkpoint (cursor evt_000100, 200 listed, 2 missing, 2 backfilled)", saved)
	}
	obs := &observed{}
	next := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Observer: obs, Now: func() time.Time { return t0.Add(time.Minute) }})
	next.Tick(t.Context())
	if len(obs.runs) != 1 {
		t.Fatalf("tick finished %d runs, want the resumed one", len(obs.runs))
	}
	// The held backfill may have been stored as the node stopped (its
	// write was already queued); the redone page then finds it stored
	// and counts it as matched rather than backfilled.
	run := obs.runs[0]
	if run.ID != saved.ID || run.State != store.RunDone || run.Listed != 300 || run.Matched+run.Missing != 300 ||
		run.Missing < 2 || run.Missing > 3 || run.Backfilled != run.Missing {
		t.Fatalf("resumed run %+v: want 300 listed once, 2 or 3 missing, all backfilled", run)
	}
	for i := range missing {
		evs, _, err := st.EventList(t.Context(), store.EventFilter{Source: "stripe", DedupKey: fmt.Sprintf("evt_%06d", i)})
		if err != nil || len(evs) != 1 {
			t.Fatalf("event %d stored %d times (%v)", i, len(evs), err)
		}
	}
}
