package deliver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"sync"
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

// sink is an httptest destination that answers with a settable status and
// records what it saw: arrival times and the most concurrent requests.
type sink struct {
	srv      *httptest.Server
	status   atomic.Int32
	hits     atomic.Int32
	mu       sync.Mutex
	arrivals []time.Time
	cur, max int
	hold     chan struct{} // when set, each request waits on it
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.status.Store(200)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		s.cur++
		s.max = max(s.max, s.cur)
		hold := s.hold
		s.mu.Unlock()
		if hold != nil {
			<-hold
		}
		s.mu.Lock()
		s.cur--
		s.mu.Unlock()
		w.WriteHeader(int(s.status.Load()))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// holdRequests makes every request wait until the returned release is
// called (at the latest when the test ends).
func (s *sink) holdRequests(t *testing.T) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}

// peak is the most requests the sink has had open at once.
func (s *sink) peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

func (s *sink) sender(t *testing.T, name string) deliver.Sender {
	snd, err := dest.NewHTTP(config.Destination{Name: name, Type: "http", URL: s.srv.URL}, dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// recorder collects alert events and breaker transitions.
type recorder struct {
	mu       sync.Mutex
	events   []string
	states   []string
	limited  atomic.Int32
	stateHit chan string
}

func newRecorder() *recorder { return &recorder{stateHit: make(chan string, 100)} }

func (r *recorder) Event(kind, destination, _ string) {
	r.mu.Lock()
	r.events = append(r.events, kind+":"+destination)
	r.mu.Unlock()
}

func (r *recorder) BreakerState(destination string, state int) {
	r.mu.Lock()
	r.states = append(r.states, deliver.BreakerName(state))
	r.mu.Unlock()
	r.stateHit <- deliver.BreakerName(state)
}

func (r *recorder) RateLimited(string, time.Duration) { r.limited.Add(1) }

func (r *recorder) snapshot() (events, states []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), slices.Clone(r.states)
}

// clock is real time plus an offset the test moves forward, so breaker
// and disable spans pass without sleeping.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time           { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration)  { c.offset.Add(int64(d)) }
func (c *clock) at(t time.Time) time.Time { return t.Add(time.Duration(c.offset.Load())) }

type ctlBundle struct {
	store  *sqlite.Store
	engine *deliver.Engine
	rec    *recorder
	clock  *clock
}

func setupControls(t *testing.T, dests ...deliver.Destination) *ctlBundle {
	t.Helper()
	return setupControlsAt(t, filepath.Join(t.TempDir(), "q.db"), dests...)
}

func setupControlsAt(t *testing.T, path string, dests ...deliver.Destination) *ctlBundle {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := &ctlBundle{store: st, rec: newRecorder(), clock: &clock{}}
	b.engine = deliver.New(deliver.Config{Store: st, Destinations: dests, Controls: st,
		Events: b.rec.Event, ControlObserver: b.rec, Now: b.clock.now, IdlePoll: 50 * time.Millisecond,
		Rand: func() float64 { return 0 }, Grace: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.engine.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return b
}

func (b *ctlBundle) ingest(t *testing.T, dest string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		now := time.Now()
		ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
			DedupKey: webhook.NewID("", now), ReceivedAt: now, Headers: http.Header{}, Body: []byte(`{"id":1}`)}
		if _, err := b.store.Ingest(context.Background(), ev, []webhook.NewDelivery{
			{Destination: dest, Route: "r", Priority: webhook.PriorityNormal, MaxAttempts: 50}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	b.engine.Wake(dest)
	return ids
}

func (b *ctlBundle) succeeded(t *testing.T, dest string) []webhook.Delivery {
	t.Helper()
	ds, _, err := b.store.DeliveryList(context.Background(), store.DeliveryFilter{Destination: dest,
		States: []webhook.State{webhook.StateSucceeded}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (b *ctlBundle) state(t *testing.T, name string) store.DestinationState {
	t.Helper()
	all, err := b.store.DestinationStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Destination == name {
			return s
		}
	}
	return store.DestinationState{Destination: name, Status: store.StatusActive}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitState(t *testing.T, r *recorder, want string) {
	t.Helper()
	for {
		select {
		case got := <-r.stateHit:
			if got == want {
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("breaker never reached %s", want)
		}
	}
}

// TestBreakerFlappingSink drives closed → open → half-open → open →
// half-open → closed against a sink that fails and then recovers, and
// counts every request: while the breaker is open nothing is sent and no
// attempt is used.
func TestBreakerFlappingSink(t *testing.T) {
	s := newSink(t)
	s.status.Store(503)
	const openFor = time.Hour // only the test's clock moves it
	b := setupControls(t, deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 1,
		Policy:  deliver.Policy{MaxAttempts: 50, Initial: time.Millisecond, Max: time.Millisecond},
		Breaker: deliver.BreakerConfig{ConsecutiveFailures: 3, OpenFor: openFor}})
	b.ingest(t, "oms", 10)
	waitState(t, b.rec, "open")
	if n := s.hits.Load(); n != 3 {
		t.Fatalf("%d requests before the breaker opened, want 3", n)
	}
	if st := b.state(t, "oms"); st.BreakerOpenUntil.IsZero() {
		t.Fatal("open breaker not recorded in the store for other nodes")
	}
	// Still down when the probe goes: it fails and the breaker reopens.
	b.clock.advance(openFor)
	b.engine.Wake("oms")
	waitState(t, b.rec, "half_open")
	waitState(t, b.rec, "open")
	if n := s.hits.Load(); n != 4 {
		t.Fatalf("%d requests after one failed probe, want 4", n)
	}
	// Recovered: the next probe closes the breaker and the backlog drains.
	s.status.Store(200)
	b.clock.advance(openFor)
	b.engine.Wake("oms")
	waitState(t, b.rec, "half_open")
	waitState(t, b.rec, "closed")
	eventually(t, "backlog drained", func() bool { return len(b.succeeded(t, "oms")) == 10 })
	if n := s.hits.Load(); n != 14 {
		t.Fatalf("%d requests in all, want 4 failures + 10 successes", n)
	}
	attempts := 0
	for _, d := range b.succeeded(t, "oms") {
		attempts += d.Attempts
	}
	if attempts != 14 {
		t.Fatalf("%d attempts recorded, want 14 (none used while open)", attempts)
	}
	events, states := b.rec.snapshot()
	if want := []string{"open", "half_open", "open", "half_open", "closed"}; !slices.Equal(states, want) {
		t.Fatalf("breaker went %v, want %v", states, want)
	}
	if want := []string{"breaker_opened:oms", "breaker_closed:oms"}; !slices.Equal(events, want) {
		t.Fatalf("alert events %v, want %v", events, want)
	}
	if st := b.state(t, "oms"); !st.BreakerOpenUntil.IsZero() || !st.FailingSince.IsZero() {
		t.Fatalf("after recovery the store still says %+v", st)
	}
}

// TestBreakerOpenDeadLetters: with on_open dead_letter, work due while the
// breaker is open is dead-lettered without a request, class breaker_open.
func TestBreakerOpenDeadLetters(t *testing.T) {
	s := newSink(t)
	s.status.Store(503)
	b := setupControls(t, deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 1,
		Policy:           deliver.Policy{MaxAttempts: 50, Initial: time.Hour, Max: time.Hour},
		Breaker:          deliver.BreakerConfig{ConsecutiveFailures: 2, OpenFor: time.Hour},
		DeadLetterOnOpen: true})
	b.ingest(t, "oms", 2)
	waitState(t, b.rec, "open")
	b.ingest(t, "oms", 3)
	eventually(t, "3 dead letters", func() bool {
		n, err := b.store.DeliveryCount(context.Background(), store.DeliveryFilter{Destination: "oms",
			States: []webhook.State{webhook.StateDead}, ErrorClasses: []string{webhook.ClassBreakerOpen}})
		return err == nil && n == 3
	})
	if n := s.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want only the 2 that opened the breaker", n)
	}
}

// TestRateLimitMeasuredBySink: the sink's arrival times never run ahead of
// the token bucket (burst, then rate per second), and concurrency never
// exceeds the configured slots.
func TestRateLimitMeasuredBySink(t *testing.T) {
	s := newSink(t)
	const rate, burst, n = 20.0, 2, 30
	b := setupControls(t, deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 3,
		Rate: rate, Burst: burst})
	b.ingest(t, "oms", n)
	eventually(t, "all delivered", func() bool { return len(b.succeeded(t, "oms")) == n })
	s.mu.Lock()
	at := slices.Clone(s.arrivals)
	peak := s.max
	s.mu.Unlock()
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	// The bucket bounds when sends start; arrivals jitter by scheduling on
	// a loaded machine. So every window of 10 consecutive arrivals, and the
	// whole run, must span at least 70% of what the bucket allows.
	span := func(from, to int) {
		t.Helper()
		min := time.Duration(float64(to-from+1-burst) / rate * 0.7 * float64(time.Second))
		if got := at[to-1].Sub(at[from-1]); got < min {
			t.Fatalf("requests %d to %d arrived within %v; the rate limit allows no less than %v", from, to, got, min)
		}
	}
	for k := 10; k <= n; k++ {
		span(k-9, k)
	}
	span(1, n)
	if peak > 3 {
		t.Fatalf("sink saw %d concurrent requests, concurrency is 3", peak)
	}
	if b.rec.limited.Load() == 0 {
		t.Fatal("no rate-limit wait was reported")
	}
	t.Logf("%d requests over %v (rate %v/s, burst %d)", n, at[n-1].Sub(at[0]), rate, burst)
}

// TestConcurrencyLimitMeasuredBySink: with every request held open, the
// sink sees exactly the configured number at once (normal-priority work:
// concurrency 4 less the one slot reserved for high priority).
func TestConcurrencyLimitMeasuredBySink(t *testing.T) {
	s := newSink(t)
	release := s.holdRequests(t)
	b := setupControls(t, deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 4, HighReserve: 1,
		Timeout: 30 * time.Second})
	b.ingest(t, "oms", 12)
	eventually(t, "3 requests in flight", func() bool { return s.hits.Load() == 3 })
	release()
	eventually(t, "all delivered", func() bool { return len(b.succeeded(t, "oms")) == 12 })
	if peak := s.peak(); peak != 3 {
		t.Fatalf("peak concurrency %d, want 3", peak)
	}
}

// TestMaxInFlightAcrossEngines: two engines on one store (two nodes), each
// with 4 slots, never have more than max_in_flight requests open at the
// sink together.
func TestMaxInFlightAcrossEngines(t *testing.T) {
	s := newSink(t)
	release := s.holdRequests(t)
	d := deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 4, HighReserve: 1,
		Timeout: 30 * time.Second, MaxInFlight: 3}
	b := setupControls(t, d)
	other := deliver.New(deliver.Config{Store: b.store, Destinations: []deliver.Destination{d}, Controls: b.store,
		Owner: "node-b", IdlePoll: 50 * time.Millisecond, Grace: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { other.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	b.ingest(t, "oms", 12)
	other.Wake("oms")
	eventually(t, "3 requests in flight", func() bool { return s.hits.Load() == 3 })
	// Both engines keep polling; neither may add a fourth while three are open.
	for range 4 {
		b.engine.Wake("oms")
		other.Wake("oms")
		time.Sleep(60 * time.Millisecond)
	}
	release()
	eventually(t, "all delivered", func() bool { return len(b.succeeded(t, "oms")) == 12 })
	if peak := s.peak(); peak != 3 {
		t.Fatalf("peak concurrency at the sink %d, want the cluster cap 3", peak)
	}
}

// TestGoneDisablesAndEnableDrains: a 410 disables the destination in the
// store with a reason; later deliveries wait without attempts; enabling
// drains them.
func TestGoneDisablesAndEnableDrains(t *testing.T) {
	s := newSink(t)
	s.status.Store(410)
	other := newSink(t)
	b := setupControls(t,
		deliver.Destination{Name: "crm", Sender: s.sender(t, "crm"), Concurrency: 1},
		deliver.Destination{Name: "oms", Sender: other.sender(t, "oms"), Concurrency: 1})
	b.ingest(t, "crm", 1)
	eventually(t, "disabled", func() bool { return b.state(t, "crm").Status == store.StatusDisabled })
	st := b.state(t, "crm")
	if st.Reason == "" || st.Since.IsZero() {
		t.Fatalf("disabled without reason or time: %+v", st)
	}
	// Held: new work for crm waits while oms (same engine) keeps flowing.
	b.ingest(t, "crm", 3)
	b.ingest(t, "oms", 3)
	eventually(t, "oms delivered", func() bool { return len(b.succeeded(t, "oms")) == 3 })
	if !b.engine.Held("crm") {
		t.Fatal("engine does not report crm as held")
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("disabled destination got %d requests, want only the 410", n)
	}
	s.status.Store(200)
	if _, changed, err := b.store.DestinationSetStatus(context.Background(), "crm", []string{store.StatusDisabled},
		store.StatusActive, "", time.Now()); err != nil || !changed {
		t.Fatal(changed, err)
	}
	if err := b.engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "held work drained", func() bool { return len(b.succeeded(t, "crm")) == 3 })
	for _, d := range b.succeeded(t, "crm") {
		if d.Attempts != 1 {
			t.Fatalf("held delivery used %d attempts, want 1", d.Attempts)
		}
	}
	events, _ := b.rec.snapshot()
	if want := []string{"destination_disabled:crm", "destination_enabled:crm"}; !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
}

// TestDisabledSurvivesRestart: a destination disabled before the engine
// starts (by another node, or before a restart) sends nothing, and the
// alert is raised again.
func TestDisabledSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "q.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DestinationSetStatus(context.Background(), "crm", []string{store.StatusActive}, store.StatusDisabled,
		"HTTP 410: the destination answered Gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	s, other := newSink(t), newSink(t)
	b := setupControlsAt(t, filepath.Join(dir, "q.db"),
		deliver.Destination{Name: "crm", Sender: s.sender(t, "crm"), Concurrency: 1},
		deliver.Destination{Name: "oms", Sender: other.sender(t, "oms"), Concurrency: 1})
	b.ingest(t, "crm", 2)
	b.ingest(t, "oms", 2)
	eventually(t, "oms delivered", func() bool { return len(b.succeeded(t, "oms")) == 2 })
	if n := s.hits.Load(); n != 0 || !b.engine.Held("crm") {
		t.Fatalf("disabled destination got %d requests (held %v)", n, b.engine.Held("crm"))
	}
	if events, _ := b.rec.snapshot(); !slices.Equal(events, []string{"destination_disabled:crm"}) {
		t.Fatalf("events %v", events)
	}
}

// TestSustainedFailureDisables: once every attempt has failed for
// disable_after, the destination is disabled.
func TestSustainedFailureDisables(t *testing.T) {
	s := newSink(t)
	s.status.Store(500)
	b := setupControls(t, deliver.Destination{Name: "oms", Sender: s.sender(t, "oms"), Concurrency: 1,
		Policy: deliver.Policy{MaxAttempts: 50, Initial: time.Hour, Max: time.Hour}, DisableAfter: 24 * time.Hour})
	ids := b.ingest(t, "oms", 1)
	eventually(t, "failure clock started", func() bool { return !b.state(t, "oms").FailingSince.IsZero() })
	if b.state(t, "oms").Status != store.StatusActive {
		t.Fatal("disabled after one failure")
	}
	// A day later (the test's clock), the next failure disables it.
	b.clock.advance(25 * time.Hour)
	b.engine.Wake("oms")
	eventually(t, "disabled", func() bool { return b.state(t, "oms").Status == store.StatusDisabled })
	d, err := b.store.DeliveryGet(context.Background(), store.DeliveryID(ids[0], 0))
	if err != nil || d.State != webhook.StatePending {
		t.Fatalf("delivery after disable: %+v %v (want pending, held)", d, err)
	}
	events, _ := b.rec.snapshot()
	if !slices.Contains(events, "destination_disabled:oms") {
		t.Fatalf("no disable event: %v", events)
	}
}

// TestPauseHoldsAndResumeDrains: a pause recorded in the store (as the
// admin API does) holds new work; resume delivers it with one attempt each.
func TestPauseHoldsAndResumeDrains(t *testing.T) {
	s, other := newSink(t), newSink(t)
	b := setupControls(t,
		deliver.Destination{Name: "crm", Sender: s.sender(t, "crm"), Concurrency: 2},
		deliver.Destination{Name: "oms", Sender: other.sender(t, "oms"), Concurrency: 2})
	ctx := context.Background()
	if _, _, err := b.store.DestinationSetStatus(ctx, "crm", []string{store.StatusActive}, store.StatusPaused, "maintenance", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.engine.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	b.ingest(t, "crm", 5)
	b.ingest(t, "oms", 5)
	eventually(t, "oms delivered", func() bool { return len(b.succeeded(t, "oms")) == 5 })
	if n := s.hits.Load(); n != 0 {
		t.Fatalf("paused destination got %d requests", n)
	}
	if _, _, err := b.store.DestinationSetStatus(ctx, "crm", []string{store.StatusPaused}, store.StatusActive, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.engine.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "crm drained", func() bool { return len(b.succeeded(t, "crm")) == 5 })
	if n := s.hits.Load(); n != 5 {
		t.Fatalf("%d requests after resume, want 5", n)
	}
}
