package alert

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// queue is the store's QueueStats, set by the test: the one fake here,
// standing in for the database at the package boundary.
type queue struct {
	mu    sync.Mutex
	stats map[string]store.QueueStat
	err   error
}

func (q *queue) QueueStats(context.Context, time.Time) ([]store.QueueStat, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []store.QueueStat
	for _, s := range q.stats {
		out = append(out, s)
	}
	return out, q.err
}

func (q *queue) set(s store.QueueStat) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats[s.Destination] = s
}

// bench drives an Engine minute by minute on a fake clock, recording
// traffic through real metrics.
type bench struct {
	t   *testing.T
	m   *metrics.Metrics
	q   *queue
	e   *Engine
	now time.Time
	log *bytes.Buffer
}

func setup(t *testing.T, cfg Config) *bench {
	t.Helper()
	b := &bench{t: t, m: metrics.New(), q: &queue{stats: map[string]store.QueueStat{}}, now: t0, log: &bytes.Buffer{}}
	if cfg.Destinations == nil {
		cfg.Destinations = []string{"oms"}
	}
	cfg.Now = func() time.Time { return b.now }
	cfg.Rand = func() float64 { return 0 }
	cfg.Logger = slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(b.m, b.q, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	return b
}

// attempts records ok successful and failed failed attempts to dest; each
// success took e2e end to end.
func (b *bench) attempts(dest string, ok, failed int, e2e time.Duration, class string) {
	ev := &webhook.Event{ReceivedAt: b.now.Add(-e2e)}
	for range ok {
		b.m.Attempted(dest, &webhook.Delivery{}, ev, &webhook.Attempt{StartedAt: b.now}, webhook.StateSucceeded)
	}
	for range failed {
		a := &webhook.Attempt{StartedAt: b.now, ErrorClass: class, Error: "HTTP 503 Service Unavailable"}
		b.m.Attempted(dest, &webhook.Delivery{}, ev, a, webhook.StatePending)
		b.e.Attempted(dest, nil, ev, a, webhook.StatePending)
	}
}

// minute advances the clock one minute, lets traffic happen in it, and
// evaluates.
func (b *bench) minute(traffic func(minute int)) {
	b.t.Helper()
	b.now = b.now.Add(time.Minute)
	if traffic != nil {
		traffic(int(b.now.Sub(t0) / time.Minute))
	}
	if err := b.e.Tick(context.Background(), b.now); err != nil {
		b.t.Fatal(err)
	}
	b.e.Flush(context.Background(), b.now)
}

func (b *bench) run(minutes int, traffic func(minute int)) {
	b.t.Helper()
	for range minutes {
		b.minute(traffic)
	}
}

func (b *bench) firing() map[string]Incident {
	f, _ := b.e.Alerts()
	out := map[string]Incident{}
	for _, in := range f {
		out[in.Key] = in
	}
	return out
}

// TestBurnRates checks the burn rates and the multi-window rule against
// hand-computed values: 100 attempts a minute, SLO 99% (budget 1%).
func TestBurnRates(t *testing.T) {
	steady := func(failPct int) func(b *bench, m int) {
		return func(b *bench, m int) { b.attempts("oms", 100-failPct, failPct, time.Second, "5xx") }
	}
	outage := func(from, to int) func(b *bench, m int) {
		return func(b *bench, m int) {
			if m > from && m <= to {
				b.attempts("oms", 0, 100, time.Second, "5xx")
			} else {
				b.attempts("oms", 100, 0, time.Second, "5xx")
			}
		}
	}
	tests := []struct {
		name    string
		minutes int
		traffic func(b *bench, m int)
		want    map[string]float64 // burn rates
		firing  bool
	}{
		{"healthy", 400, steady(0), map[string]float64{"5m": 0, "30m": 0, "1h": 0, "6h": 0}, false},
		{"within budget", 400, steady(1), map[string]float64{"5m": 1, "30m": 1, "1h": 1, "6h": 1}, false},
		// 10% errors burn 10×: below the fast pair's 14.4, above the slow pair's 6.
		{"slow burn", 400, steady(10), map[string]float64{"5m": 10, "30m": 10, "1h": 10, "6h": 10}, true},
		// 5% errors: 5× is below both thresholds.
		{"simmering", 400, steady(5), map[string]float64{"5m": 5, "30m": 5, "1h": 5, "6h": 5}, false},
		// 8 minutes of total outage after 6h of health: 1h = 800/6000 = 13.3× (no page yet).
		{"outage 8m", 368, outage(360, 368), map[string]float64{"5m": 100, "30m": 800.0 / 30, "1h": 800.0 / 60, "6h": 800.0 / 360}, false},
		// 9 minutes: 1h = 900/6000 = 15× and 5m = 100×: the fast pair pages.
		{"outage 9m", 369, outage(360, 369), map[string]float64{"5m": 100, "30m": 30, "1h": 15, "6h": 900.0 / 360}, true},
		// Recovered 5 minutes ago: the 5m window is clean, so the fast pair
		// stops although the 1h window still burns.
		{"recovered", 374, outage(360, 369), map[string]float64{"5m": 0, "30m": 30, "1h": 15, "6h": 900.0 / 360}, false},
		// Only 20 minutes of history, all failing: windows are as long as
		// the history, and a real outage still pages.
		{"outage at start", 20, outage(0, 20), map[string]float64{"5m": 100, "30m": 100, "1h": 100, "6h": 100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t, Config{SLOs: []config.SLO{{Name: "delivery-success", Objective: "99%", Destination: "*"}}})
			b.run(tt.minutes, func(m int) { tt.traffic(b, m) })
			s := &b.e.slos[0]
			got := b.e.burnRates(b.now, s, "oms")
			for w, want := range tt.want {
				if math.Abs(got[w]-want) > 1e-6 {
					t.Errorf("burn rate %s = %v, want %v", w, got[w], want)
				}
			}
			key := "slo-success-burn/delivery-success/oms"
			_, firing := b.firing()[key]
			_, active := b.e.evaluate(b.now)[key]
			if active != tt.firing {
				t.Errorf("condition holds = %v, want %v (burn rates %v)", active, tt.firing, got)
			}
			if tt.firing && !firing {
				t.Errorf("no incident open; alerts %v", b.firing())
			}
		})
	}
}

// TestLatencyBurn: the share of deliveries over the threshold is read
// from the histogram, interpolating within the bucket the threshold falls
// in.
func TestLatencyBurn(t *testing.T) {
	tests := []struct {
		name   string
		slow   int // of 100 a minute, delivered in 90s; the rest in 1s
		want   float64
		firing bool
	}{
		{"all fast", 0, 0, false},
		{"10% slow", 10, 2, false}, // 10% bad / 5% budget
		{"all slow", 100, 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t, Config{SLOs: []config.SLO{{Name: "e2e", Objective: "p95 < 60s", Destination: "oms"}}})
			b.run(90, func(int) {
				b.attempts("oms", 100-tt.slow, 0, time.Second, "")
				b.attempts("oms", tt.slow, 0, 90*time.Second, "")
			})
			// 90s falls in the bucket (59.6s, 149s]; the interpolated share
			// under 60s of that bucket is (60-59.6)/(149-59.6) ≈ 0.4%.
			got := b.e.burnRate(b.now, &b.e.slos[0], "oms", time.Hour)
			if math.Abs(got-tt.want) > 0.01*max(tt.want, 1) {
				t.Errorf("burn rate = %v, want about %v", got, tt.want)
			}
			if _, firing := b.firing()["slo-latency-burn/e2e/oms"]; firing != tt.firing {
				t.Errorf("firing = %v, want %v", firing, tt.firing)
			}
		})
	}
}

func TestWithinThreshold(t *testing.T) {
	bounds := []float64{1, 10, 100}
	counts := []float64{10, 50, 90} // cumulative; 100 in all
	tests := []struct{ x, want float64 }{
		{0.5, 5}, {1, 10}, {5.5, 30}, {10, 50}, {55, 70}, {100, 90}, {1000, 90},
	}
	for _, tt := range tests {
		if got := withinThreshold(bounds, counts, 100, tt.x); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("withinThreshold(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

// TestDirectRules covers the rules that are not burn rates.
func TestDirectRules(t *testing.T) {
	tests := []struct {
		name    string
		slos    []config.SLO
		minutes int
		traffic func(b *bench, m int)
		want    []string // firing incident keys at the end
	}{
		{"queue growing 10 minutes", nil, 12, func(b *bench, m int) {
			b.q.set(store.QueueStat{Destination: "oms", Due: 100 + 10*m})
		}, []string{"queue-growing/oms"}},
		{"queue growing but paused once", nil, 12, func(b *bench, m int) {
			d := 100 + 10*m
			if m == 8 {
				d -= 10 // one dip resets the run
			}
			b.q.set(store.QueueStat{Destination: "oms", Due: d})
		}, nil},
		{"queue growing 9 minutes", nil, 9, func(b *bench, m int) {
			b.q.set(store.QueueStat{Destination: "oms", Due: 100 + 10*m})
		}, nil},
		{"error class above 1%", nil, 20, func(b *bench, m int) {
			b.attempts("oms", 98, 2, time.Second, "timeout")
		}, []string{"error-class/oms/timeout"}},
		{"error class at 1%", nil, 20, func(b *bench, m int) {
			b.attempts("oms", 99, 1, time.Second, "429")
		}, nil},
		{"error class on too little traffic", nil, 20, func(b *bench, m int) {
			if m%5 == 0 {
				b.attempts("oms", 5, 1, time.Second, "5xx")
			}
		}, nil},
		{"dlq growing", nil, 20, func(b *bench, m int) {
			if m == 12 {
				b.q.set(store.QueueStat{Destination: "oms", Dead: 3})
			}
		}, []string{"dlq-growing/oms"}},
		{"time-to-drain above objective", []config.SLO{{Name: "ttd", Objective: "< 5m"}}, 10, func(b *bench, m int) {
			// 6000 waiting, 10 completions a minute: 600 minutes to drain.
			b.q.set(store.QueueStat{Destination: "oms", Due: 6000})
			b.attempts("oms", 10, 0, time.Second, "")
		}, []string{"slo-time-to-drain/ttd/oms"}},
		{"time-to-drain within objective", []config.SLO{{Name: "ttd", Objective: "< 5m"}}, 10, func(b *bench, m int) {
			b.q.set(store.QueueStat{Destination: "oms", Due: 300})
			b.attempts("oms", 100, 0, time.Second, "") // 3 minutes
		}, nil},
		{"time-to-drain stalled", []config.SLO{{Name: "ttd", Objective: "< 5m"}}, 10, func(b *bench, m int) {
			b.q.set(store.QueueStat{Destination: "oms", Due: 5, InFlight: 1})
		}, []string{"slo-time-to-drain/ttd/oms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t, Config{SLOs: tt.slos})
			b.run(tt.minutes, func(m int) { tt.traffic(b, m) })
			got := b.firing()
			if len(got) != len(tt.want) {
				t.Errorf("firing %v, want %v", keys(got), tt.want)
			}
			for _, k := range tt.want {
				in, ok := got[k]
				if !ok {
					t.Errorf("%s not firing; firing %v", k, keys(got))
					continue
				}
				if in.Summary == "" || in.Runbook == "" || in.RunbookURL != DefaultRunbookBase+"#"+in.Runbook {
					t.Errorf("incident %+v", in)
				}
			}
		})
	}
}

// TestDedupSurge: the last hour's duplicates against the hourly average of
// the days before.
func TestDedupSurge(t *testing.T) {
	tests := []struct {
		name       string
		history    time.Duration
		perHour    int // baseline duplicates an hour
		lastHour   int
		wantFiring bool
	}{
		{"double", 3 * 24 * time.Hour, 20, 40, true},
		{"plus 40%", 3 * 24 * time.Hour, 20, 28, false},
		{"too few", 3 * 24 * time.Hour, 2, 9, false},
		{"no baseline yet", 12 * time.Hour, 20, 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t, Config{})
			hours := int(tt.history / time.Hour)
			// Hourly steps for the history keep the test fast; the last hour
			// goes minute by minute.
			for range hours {
				b.now = b.now.Add(time.Hour)
				for range tt.perHour {
					b.m.Ingested("shop", "duplicate", time.Millisecond, 0, "")
				}
				if err := b.e.Tick(context.Background(), b.now); err != nil {
					t.Fatal(err)
				}
			}
			i := 0
			b.run(60, func(int) {
				for range tt.lastHour*(i+1)/60 - tt.lastHour*i/60 {
					b.m.Ingested("shop", "duplicate", time.Millisecond, 0, "")
				}
				i++
			})
			_, firing := b.firing()["dedup-surge/shop"]
			if firing != tt.wantFiring {
				t.Errorf("firing = %v, want %v (alerts %v)", firing, tt.wantFiring, keys(b.firing()))
			}
		})
	}
}

// TestLifecycle: one incident per key, however the condition flaps, and
// resolution only after ResolveAfter of quiet.
func TestLifecycle(t *testing.T) {
	b := setup(t, Config{})
	b.e.Event(EventBreakerOpened, "oms", "failure ratio 0.8 over 1m")
	b.minute(nil)
	b.e.Event(EventBreakerClosed, "oms", "")
	b.run(3, nil)
	b.e.Event(EventBreakerOpened, "oms", "")
	b.minute(nil)
	b.e.Event(EventBreakerClosed, "oms", "")
	b.run(9, nil)
	if _, ok := b.firing()["breaker-open/oms"]; !ok {
		t.Fatal("resolved before ResolveAfter of quiet")
	}
	b.run(1, nil)
	firing, resolved := b.e.Alerts()
	if len(firing) != 0 || len(resolved) != 1 || resolved[0].Key != "breaker-open/oms" || resolved[0].State != StateResolved {
		t.Fatalf("firing %v resolved %v", firing, resolved)
	}
	if got := resolved[0].ResolvedAt.Sub(resolved[0].StartedAt); got != 15*time.Minute {
		t.Errorf("incident lasted %v", got)
	}
	// A new opening later is a new incident with the same key.
	b.e.Event(EventDestinationDisabled, "oms", "410 Gone")
	b.e.Event(EventBreakerOpened, "oms", "")
	if f := b.firing(); len(f) != 2 || f["destination-disabled/oms"].Severity != SeverityCritical {
		t.Errorf("firing %v", f)
	}
	b.e.Event("nonsense", "oms", "")
	if !strings.Contains(b.log.String(), "unknown alert event") {
		t.Error("an unknown event kind is not logged")
	}
}

// TestLeader: a follower samples but does not open incidents.
func TestLeader(t *testing.T) {
	leader := false
	b := setup(t, Config{Leader: func() bool { return leader }})
	b.run(12, func(m int) { b.q.set(store.QueueStat{Destination: "oms", Due: 10 * m}) })
	if len(b.firing()) != 0 {
		t.Fatalf("follower opened %v", keys(b.firing()))
	}
	leader = true
	b.run(1, func(m int) { b.q.set(store.QueueStat{Destination: "oms", Due: 10 * m}) })
	if _, ok := b.firing()["queue-growing/oms"]; !ok {
		t.Errorf("the new leader has no history: %v", keys(b.firing()))
	}
}

// TestSLOStatus checks what GET /api/v1/slos reports.
func TestSLOStatus(t *testing.T) {
	b := setup(t, Config{Destinations: []string{"oms", "crm"}, SLOs: []config.SLO{
		{Name: "delivery-success", Objective: "99.0%", Destination: "*"},
		{Name: "ttd", Objective: "< 5m", Destination: "oms"},
	}})
	b.run(60, func(m int) {
		b.attempts("oms", 995, 5, time.Second, "5xx") // 0.5% bad: half the budget
		b.q.set(store.QueueStat{Destination: "oms", Due: 120})
	})
	st := b.e.SLOs()
	if len(st) != 3 {
		t.Fatalf("statuses %+v", st)
	}
	crm, oms, ttd := st[0], st[1], st[2]
	if crm.Destination != "crm" || crm.HasData || crm.BudgetRemaining != 1 {
		t.Errorf("crm %+v", crm)
	}
	if oms.Destination != "oms" || !oms.HasData || math.Abs(oms.SLI-0.995) > 1e-9 ||
		math.Abs(oms.BudgetRemaining-0.5) > 1e-9 || math.Abs(oms.BurnRates["1h"]-0.5) > 1e-9 ||
		oms.Window != 28*24*time.Hour || oms.Covered != 59*time.Minute || oms.Firing {
		t.Errorf("oms %+v", oms)
	}
	// 120 waiting, 995 completions a minute (the 5 failures retry): 7.24s.
	if ttd.Kind != config.ObjectiveDrain || !ttd.HasData || math.Abs(ttd.TimeToDrain-120/(995.0/60)) > 1e-9 {
		t.Errorf("ttd %+v", ttd)
	}
}

// TestErrorSamples: samples are sanitized and ranked by frequency.
func TestErrorSamples(t *testing.T) {
	s := newErrorSamples()
	s.add("oms", "connection", `Post "https://oms.example.com/hook?token=SECRET123": dial tcp 10.0.0.1:443: connect: connection refused`)
	s.add("oms", "transform", `jq: error: cannot iterate over string ("buyer@example.com")`)
	s.add("oms", "5xx", "HTTP 503 Service Unavailable")
	s.add("oms", "5xx", "HTTP 503 Service Unavailable")
	s.add("oms", "connection", "dial https://user:pw@oms.example.com/x?key=SECRET123 failed for buyer@example.com\nline two")
	got := s.top("oms", 10)
	joined := strings.Join(got, "\n")
	for _, bad := range []string{"SECRET123", "buyer@example.com", "pw@", "\n line"} {
		if strings.Contains(joined, bad) {
			t.Errorf("sample leaks %q: %q", bad, got)
		}
	}
	if got[0] != "5xx: HTTP 503 Service Unavailable (×2)" {
		t.Errorf("top = %q", got)
	}
	if !strings.Contains(joined, "https://oms.example.com/…") || !strings.Contains(joined, "…@…") {
		t.Errorf("samples %q", got)
	}
	for range samplesPerDest * 2 {
		s.add("oms", "timeout", "context deadline exceeded")
	}
	if n := len(s.recs["oms"]); n != samplesPerDest {
		t.Errorf("%d samples kept", n)
	}
}

// TestRunbooksDocumented: every anchor alerts link to exists in
// docs/RUNBOOKS.md.
func TestRunbooksDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/RUNBOOKS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Runbooks() {
		if !bytes.Contains(doc, []byte(`<a id="`+a+`"></a>`)) {
			t.Errorf("docs/RUNBOOKS.md has no anchor %q", a)
		}
	}
}

// TestNewErrors: configs that skipped validation fail with the key named.
func TestNewErrors(t *testing.T) {
	m := metrics.New()
	if _, err := New(m, &queue{}, Config{SLOs: []config.SLO{{Name: "x", Objective: "fast"}}}); err == nil ||
		!strings.Contains(err.Error(), "slos[0].objective") {
		t.Errorf("err = %v", err)
	}
	if _, err := New(m, &queue{}, Config{Alerts: []config.Alert{{Name: "x", Type: "sms"}}}); err == nil ||
		!strings.Contains(err.Error(), "alerts[0]") {
		t.Errorf("err = %v", err)
	}
	e, err := New(m, &queue{}, Config{Retry: deliver.Policy{MaxAttempts: 3}})
	if err != nil || e.cfg.Retry.MaxAttempts != 3 || e.cfg.Interval != time.Minute {
		t.Errorf("defaults: %+v %v", e.cfg, err)
	}
}

// TestQueueUnavailable: a failed queue read is reported, and the queue
// rules keep the last known queue instead of seeing it empty.
func TestQueueUnavailable(t *testing.T) {
	b := setup(t, Config{})
	b.run(3, func(m int) { b.q.set(store.QueueStat{Destination: "oms", Dead: 1}) })
	b.q.err = context.DeadlineExceeded
	b.now = b.now.Add(time.Minute)
	if err := b.e.Tick(context.Background(), b.now); err == nil {
		t.Fatal("no error")
	}
	if d := b.e.minutes.newest().dest("oms").dead; d != 1 {
		t.Errorf("dead = %d, want the last known 1", d)
	}
}

// TestRun: Run samples at once and stops with its context.
func TestRun(t *testing.T) {
	m := metrics.New()
	e, err := New(m, &queue{}, Config{Interval: time.Hour, Alerts: []config.Alert{{Name: "w", Type: "webhook", URL: "http://127.0.0.1:1/"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Run samples once before it first waits, so a cancelled context
	// gives exactly one sample and a clean return.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.minutes.len(); n != 1 {
		t.Errorf("%d samples", n)
	}
}

func keys(m map[string]Incident) []string { return sortedKeys(m) }
