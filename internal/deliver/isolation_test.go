package deliver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

// BenchmarkIsolation measures a healthy destination's delivery throughput
// (draining a backlog of b.N deliveries) and end-to-end p95 (events
// ingested at a steady 200/s for 1.5s, received by the sink) alone, and
// beside a neighbour that gets the same traffic but blackholes it (every
// attempt hangs until its 1s timeout; blackhole_breaker adds a circuit
// breaker that opens after 5 failures) or answers slowly (250ms). The
// machine is shared and its load swings, so each sub-benchmark runs
// isolationRounds paired rounds — alone and with the neighbour back to
// back, in alternating order — and reports the medians of the per-round
// ratios (1.0 = no effect).
//
//	go test -run '^$' -bench BenchmarkIsolation -benchtime 1000x ./internal/deliver/
func BenchmarkIsolation(b *testing.B) {
	for _, neighbour := range []string{"blackhole", "blackhole_breaker", "slow"} {
		b.Run(neighbour, func(b *testing.B) {
			if b.N == 1 {
				return // the harness's probe run
			}
			var drainAlone, drainWith, p95Alone, p95With, drainRatio, p95Ratio []float64
			for round := range isolationRounds {
				var a, w isolationResult
				if round%2 == 0 {
					a, w = isolationRun(b, "alone"), isolationRun(b, neighbour)
				} else {
					w, a = isolationRun(b, neighbour), isolationRun(b, "alone")
				}
				drainAlone, drainWith = append(drainAlone, a.drain), append(drainWith, w.drain)
				p95Alone, p95With = append(p95Alone, a.p95), append(p95With, w.p95)
				drainRatio, p95Ratio = append(drainRatio, w.drain/a.drain), append(p95Ratio, w.p95/a.p95)
			}
			b.ReportMetric(median(drainAlone), "alone_deliveries/s")
			b.ReportMetric(median(drainWith), "with_deliveries/s")
			b.ReportMetric(median(drainRatio), "throughput_ratio")
			b.ReportMetric(median(p95Alone), "alone_p95_ms")
			b.ReportMetric(median(p95With), "with_p95_ms")
			b.ReportMetric(median(p95Ratio), "p95_ratio")
		})
	}
}

const isolationRounds = 6

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type isolationResult struct{ drain, p95 float64 }

type latencySink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	lat  []time.Duration
	done chan struct{}
	want int
}

// newLatencySink answers 200 and records now − the ingest time carried in
// the body; done closes after want requests.
func newLatencySink(want int) *latencySink {
	s := &latencySink{done: make(chan struct{}), want: want}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at, _ := strconv.ParseInt(string(body), 10, 64)
		s.mu.Lock()
		s.lat = append(s.lat, time.Since(time.Unix(0, at)))
		if len(s.lat) == s.want {
			close(s.done)
		}
		s.mu.Unlock()
	}))
	return s
}

func (s *latencySink) reset(want int) {
	s.mu.Lock()
	s.lat, s.want, s.done = nil, want, make(chan struct{})
	s.mu.Unlock()
}

func (s *latencySink) wait(b *testing.B) []time.Duration {
	select {
	case <-s.done:
	case <-time.After(5 * time.Minute):
		b.Fatal("healthy destination never received everything")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lat)
}

func isolationRun(b *testing.B, neighbour string) isolationResult {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "q.db"), sqlite.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	healthy := newLatencySink(b.N)
	defer healthy.srv.Close()
	sender := func(name, url string) deliver.Sender {
		snd, err := dest.NewHTTP(config.Destination{Name: name, Type: "http", URL: url, Timeout: config.Duration(time.Second)}, dest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return snd
	}
	policy := deliver.Policy{MaxAttempts: 50, Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	dests := []deliver.Destination{{Name: "healthy", Sender: sender("healthy", healthy.srv.URL), Policy: policy,
		Concurrency: 16, Timeout: time.Second}}
	routed := []string{"healthy"}
	if neighbour != "alone" {
		stop := make(chan struct{})
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wait := 250 * time.Millisecond
			if neighbour != "slow" {
				wait = time.Hour // until the attempt's timeout cuts it
			}
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		defer bad.Close()
		defer close(stop)
		nb := deliver.Destination{Name: "neighbour", Sender: sender("neighbour", bad.URL), Policy: policy,
			Concurrency: 16, Timeout: time.Second}
		if neighbour == "blackhole_breaker" {
			nb.Breaker = deliver.BreakerConfig{ConsecutiveFailures: 5, OpenFor: time.Minute}
		}
		dests = append(dests, nb)
		routed = append(routed, "neighbour")
	}
	seq := 0
	ingest := func() {
		seq++
		now := time.Now()
		ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
			DedupKey: fmt.Sprint("k", seq), ReceivedAt: now, Headers: http.Header{}, Body: []byte(strconv.FormatInt(now.UnixNano(), 10))}
		nds := make([]webhook.NewDelivery, len(routed))
		for i, d := range routed {
			nds[i] = webhook.NewDelivery{Destination: d, Route: "shop->" + d, Priority: webhook.PriorityNormal, MaxAttempts: 50}
		}
		if _, err := st.Ingest(ctx, ev, nds); err != nil {
			b.Fatal(err)
		}
	}
	// Phase 1: a backlog of b.N events, then the engine starts.
	for range b.N {
		ingest()
	}
	e := deliver.New(deliver.Config{Store: st, Destinations: dests, IdlePoll: 50 * time.Millisecond, Grace: time.Second})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() { e.Run(runCtx); close(done) }()
	healthy.wait(b)
	drain := time.Since(start)
	// Phase 2: steady load at 200 events/s for the healthy destination
	// (and as many for the neighbour), end-to-end latency at the sink.
	const paced = 300
	healthy.reset(paced)
	tick := time.NewTicker(5 * time.Millisecond)
	for range paced {
		<-tick.C
		ingest()
		e.WakeAll()
	}
	tick.Stop()
	lat := healthy.wait(b)
	cancel()
	<-done
	slices.Sort(lat)
	return isolationResult{drain: float64(b.N) / drain.Seconds(), p95: float64(lat[len(lat)*95/100].Microseconds()) / 1000}
}
