package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

// Pipeline benchmarks run a real node (SQLite file, loopback listeners, an
// httptest destination) through one scenario per iteration and report the
// scenario's figures as custom metrics; run them with -benchtime=1x. The
// figures and the exact command are in docs/BENCHMARKS.md.

// arrivals is an httptest destination that notes when each event arrives,
// by the "k" field of the JSON it receives ("kind-i"). Events whose kind is
// in hold wait on gate; deliveries whose kind is in fail answer 503.
type arrivals struct {
	srv   *httptest.Server
	mu    sync.Mutex
	at    map[string]time.Time
	kinds map[string]int // arrivals by kind
	n     atomic.Int64
	gate  chan struct{}
}

func newArrivals(tb testing.TB, hold, fail string) *arrivals {
	a := &arrivals{at: map[string]time.Time{}, kinds: map[string]int{}, gate: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ K, Kind string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &b)
		if hold != "" && b.Kind == hold {
			select {
			case <-a.gate:
			case <-r.Context().Done():
				return
			}
		}
		if fail != "" && b.Kind == fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		now := time.Now()
		a.mu.Lock()
		if _, dup := a.at[b.K]; !dup {
			a.at[b.K] = now
			a.kinds[b.Kind]++
			a.n.Add(1)
		}
		a.mu.Unlock()
	}))
	tb.Cleanup(a.srv.Close)
	return a
}

func (a *arrivals) kind(k string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.kinds[k]
}

func (a *arrivals) get(k string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.at[k]
	return t, ok
}

// waitFor waits until n distinct events have arrived.
func (a *arrivals) waitFor(tb testing.TB, n int64, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for a.n.Load() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d events arrived within %s", a.n.Load(), n, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sendAll posts bodies to url from conc senders. Requests are signed up
// front, on the benchmark goroutine.
func sendAll(tb testing.TB, url string, bodies [][]byte, conc int) {
	tb.Helper()
	reqs := make([]*http.Request, len(bodies))
	for i, b := range bodies {
		reqs[i] = signedRequest(tb, url, b, fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
	}
	var next atomic.Int64
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if err := send(reqs[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}

func send(req *http.Request) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("ingest answered %d: %s", resp.StatusCode, b)
	}
	return nil
}

func p95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*95+99)/100-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkHighPriorityUnderBacklog measures the latency of high-priority
// events (ingest → destination) sent one every 20 ms while a backlog of
// 20,000 normal-priority events drains to the same destination, and, as the
// baseline in the same run, the latency of the same stream into an idle
// node. The backlog is ingested while the destination holds normal work, so
// it is whole when the high stream starts.
func BenchmarkHighPriorityUnderBacklog(b *testing.B) {
	const backlog, every = 20000, 20 * time.Millisecond
	const routes = `  - {source: shop, destination: oms, priority: 'if .body.kind == "high" then "high" else "normal" end', transform: '{k: .body.k, kind: .body.kind}'}`
	highStream := func(b *testing.B, n *node, a *arrivals, until func() bool, max int) []time.Duration {
		var sent []time.Time
		for i := 0; i < max && !until(); i++ {
			at := time.Now()
			if resp, body := post(b, n.ingestURL("shop"), fmt.Appendf(nil, `{"kind":"high","k":"high-%d"}`, i), fmt.Sprint("high-", i)); resp.StatusCode != http.StatusAccepted {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
			sent = append(sent, at)
			time.Sleep(every)
		}
		lat := make([]time.Duration, 0, len(sent))
		deadline := time.Now().Add(time.Minute)
		for i, at := range sent {
			for {
				got, ok := a.get(fmt.Sprint("high-", i))
				if ok {
					lat = append(lat, got.Sub(at))
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("high event %d never arrived", i)
				}
				time.Sleep(time.Millisecond)
			}
		}
		return lat
	}
	for b.Loop() {
		// Baseline: the same high stream into an idle node.
		idle := newArrivals(b, "", "")
		n0 := startNode(b, patientDest(idle.srv.URL), routes)
		base := highStream(b, n0, idle, func() bool { return false }, 100)

		a := newArrivals(b, "normal", "")
		n := startNode(b, patientDest(a.srv.URL), routes)
		bodies := make([][]byte, backlog)
		for i := range bodies {
			bodies[i] = fmt.Appendf(nil, `{"kind":"normal","k":"normal-%d"}`, i)
		}
		sendAll(b, n.ingestURL("shop"), bodies, 8)
		start := time.Now()
		close(a.gate)
		lat := highStream(b, n, a, func() bool { return a.kind("normal") == backlog }, 5000)
		a.waitFor(b, backlog+int64(len(lat)), 5*time.Minute)
		drained := time.Since(start)
		b.ReportMetric(ms(p95(base)), "idle-high-p95-ms")
		b.ReportMetric(ms(p95(lat)), "backlog-high-p95-ms")
		b.ReportMetric(float64(len(lat)), "high-events")
		b.ReportMetric(drained.Seconds(), "backlog-drain-s")
		b.ReportMetric(backlog/drained.Seconds(), "backlog-events/s")
	}
}

// count is how many distinct events have arrived, leaving out kind except.
func (a *arrivals) count(except string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.at) - a.kinds[except]
}

// BenchmarkTransformThroughput measures end-to-end throughput (first
// ingest request → last arrival) of the 28 KB Shopify sample order through
// a route without a transform and through one running
// examples/transforms/oms-slim.jq (with its lookup table), alternating off, on, off, on in the same
// run. Sixteen senders post 2,000 events per round.
func BenchmarkTransformThroughput(b *testing.B) {
	const events, senders = 2000, 16
	body, err := os.ReadFile("../../examples/payloads/shopify_orders_create.json")
	if err != nil {
		b.Fatal(err)
	}
	slim, err := filepath.Abs("../../examples/transforms/oms-slim.jq")
	if err != nil {
		b.Fatal(err)
	}
	skus, err := filepath.Abs("../../examples/tables/skus.csv")
	if err != nil {
		b.Fatal(err)
	}
	tables := "transforms:\n  lookup_tables:\n    - {name: skus, path: " + skus + "}\n"
	bodies := make([][]byte, events)
	for i := range bodies {
		bodies[i] = body
	}
	round := func(route string) float64 {
		var got atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got.Add(1)
		}))
		defer srv.Close()
		n := startNode(b, patientDest(srv.URL), route, tables)
		start := time.Now()
		sendAll(b, n.ingestURL("shop"), bodies, senders)
		deadline := time.Now().Add(5 * time.Minute)
		for got.Load() < events {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d delivered; dead letters: %s", got.Load(), events, deadLetters(b, n))
			}
			time.Sleep(2 * time.Millisecond)
		}
		return events / time.Since(start).Seconds()
	}
	off := `  - {source: shop, destination: oms}`
	on := `  - {source: shop, destination: oms, transform: ` + slim + `}`
	for b.Loop() {
		var sumOff, sumOn float64
		for range 2 {
			sumOff += round(off)
			sumOn += round(on)
		}
		b.ReportMetric(sumOff/2, "off-events/s")
		b.ReportMetric(sumOn/2, "on-events/s")
		b.ReportMetric(sumOn/sumOff, "on/off")
	}
}

// patientDest is an http destination that outlasts a loaded machine: a
// slow answer is retried for long enough that nothing dead-letters.
func patientDest(url string) string {
	return fmt.Sprintf("  - name: oms\n    type: http\n    url: %s\n    timeout: 10s\n    concurrency: 16\n    retry: {max_attempts: 30, initial_interval: 50ms, max_interval: 1s}\n", url)
}

// deadLetters describes the dead-lettered deliveries of a node, for a
// benchmark that ends short.
func deadLetters(tb testing.TB, n *node) string {
	l, err := n.client.DLQ(context.Background(), api.DeliveryQuery{})
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, d := range l.Deliveries {
		out = append(out, d.LastErrorClass+": "+d.LastError)
	}
	return fmt.Sprint(len(out), " ", out)
}

// BenchmarkOrderingHeadOfLine measures what one failing ordering key costs
// the others. 20 keys × 100 events (interleaved) go to one destination with
// ordering_key set; in the failing runs every delivery of key-0 answers 503
// and dead-letters after 4 attempts (20–50 ms apart). Reported per scenario:
// the time until the other 19 keys' 1,900 events have all arrived, measured
// from the first ingest request; unordered is the same healthy load without
// an ordering key. With skip, it also reports when key-0's 100 deliveries
// were all dead-lettered: one after the other, as its order requires.
func BenchmarkOrderingHeadOfLine(b *testing.B) {
	const keys, perKey = 20, 100
	bodies := make([][]byte, 0, keys*perKey)
	for i := range perKey {
		for k := range keys {
			bodies = append(bodies, fmt.Appendf(nil, `{"key":"key-%d","k":"key-%d-%d"}`, k, k, i))
		}
	}
	others := (keys - 1) * perKey
	dest := func(url string) string {
		return fmt.Sprintf("  - name: oms\n    type: http\n    url: %s\n    timeout: 2s\n    concurrency: 16\n    retry: {max_attempts: 4, initial_interval: 20ms, max_interval: 50ms}\n", url)
	}
	// run returns when the healthy keys were done and, with deadKey, when
	// every delivery of key-0 was dead-lettered too.
	run := func(fail, route string, deadKey bool) (healthyDone, failingDone time.Duration) {
		a := newArrivals(b, "", fail)
		n := startNode(b, dest(a.srv.URL), route)
		start := time.Now()
		sendAll(b, n.ingestURL("shop"), bodies, 8)
		deadline := time.Now().Add(5 * time.Minute)
		for a.count("key-0") < others {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d events of the healthy keys arrived; dead letters: %s", a.count("key-0"), others, deadLetters(b, n))
			}
			time.Sleep(time.Millisecond)
		}
		healthyDone = time.Since(start)
		for deadKey {
			l, err := n.client.Destinations(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if len(l.Destinations) == 1 && l.Destinations[0].Dead == perKey {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("key-0 not dead-lettered: %+v", l.Destinations)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return healthyDone, time.Since(start)
	}
	const tr = `transform: '{k: .body.k, kind: .body.key}'`
	for b.Loop() {
		unordered, _ := run("", `  - {source: shop, destination: oms, `+tr+`}`, false)
		healthy, _ := run("", `  - {source: shop, destination: oms, ordering_key: '.body.key', `+tr+`}`, false)
		skip, failing := run("key-0", `  - {source: shop, destination: oms, ordering_key: '.body.key', on_dead: skip, `+tr+`}`, true)
		block, _ := run("key-0", `  - {source: shop, destination: oms, ordering_key: '.body.key', on_dead: block, `+tr+`}`, false)
		b.ReportMetric(ms(unordered), "unordered-ms")
		b.ReportMetric(ms(healthy), "ordered-healthy-ms")
		b.ReportMetric(ms(skip), "ordered-failing-skip-ms")
		b.ReportMetric(ms(block), "ordered-failing-block-ms")
		b.ReportMetric(ms(failing), "failing-key-all-dead-ms")
		b.ReportMetric(float64(skip)/float64(healthy), "skip/healthy")
		b.ReportMetric(float64(block)/float64(healthy), "block/healthy")
	}
}
