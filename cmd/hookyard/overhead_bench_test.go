package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/ingest"
	"github.com/hookyard/hookyard/internal/load"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/verify"
)

// BenchmarkIngestOverhead measures what metrics and tracing cost ingest:
// the real ingest handler (Shopify HMAC check, validation, routing, group
// commit to a real SQLite file with synchronous=FULL) driven by 32
// concurrent in-process requests, in three variants built the same way —
// bare (no observer, no tracer), metrics (the Prometheus observer), and
// metrics+tracing (every request a span, batched and exported over
// OTLP/HTTP to a local collector that discards). The variants alternate
// in rounds, each on its own fresh store, so machine load hits them
// alike; the report is each variant's median events/s and the median of
// its per-round ratio to bare.
//
//	go test -run '^$' -bench BenchmarkIngestOverhead -benchtime 1x ./cmd/hookyard/
func BenchmarkIngestOverhead(b *testing.B) {
	const (
		rounds  = 9
		perRun  = 5000
		workers = 32
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	variants := []string{"bare", "metrics", "metrics+tracing"}
	rates := map[string][]float64{}
	p, _ := verify.Lookup("shopify")
	for range b.N {
		for round := range rounds {
			for _, variant := range variants {
				// Signed ahead, so signing does not share the measured CPU.
				reqs := make([]*http.Request, perRun)
				for i := range reqs {
					body := orderBody(i)
					h, err := p.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create",
						ID: fmt.Sprintf("ovh-%s-%d-%d", variant, round, i), Now: time.Now()})
					if err != nil {
						b.Fatal(err)
					}
					req := httptest.NewRequest(http.MethodPost, "/ingest/shop", bytes.NewReader(body))
					req.Header = h
					req.Header.Set("Content-Type", "application/json")
					req.SetPathValue("source", "shop")
					reqs[i] = req
				}
				st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ovh.db"), sqlite.Config{})
				if err != nil {
					b.Fatal(err)
				}
				src, err := p.New(config.Source{Name: "shop", Provider: "shopify", Secrets: []string{testSecret}})
				if err != nil {
					b.Fatal(err)
				}
				cfg := ingest.Config{Store: st, Sources: []ingest.Source{{Name: "shop", Provider: "shopify", Verifier: src, JSON: true}},
					Router: route.New([]*route.Route{{Name: "shop->oms", Source: "shop", Destination: "oms", MaxAttempts: 10}}, nil, nil)}
				var tp *sdktrace.TracerProvider
				switch variant {
				case "metrics":
					cfg.Observer = metrics.New()
				case "metrics+tracing":
					cfg.Observer = metrics.New()
					exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(collector.URL+"/v1/traces"))
					if err != nil {
						b.Fatal(err)
					}
					tp = tracing.NewProvider(nil, sdktrace.WithBatcher(exp))
					cfg.Tracer = tracing.New(tp)
				}
				h := ingest.New(cfg)
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for range workers {
					wg.Go(func() {
						for {
							i := next.Add(1) - 1
							if i >= perRun {
								return
							}
							w := httptest.NewRecorder()
							h.ServeHTTP(w, reqs[i])
							if w.Code != http.StatusAccepted {
								b.Errorf("%s: answer %d %s", variant, w.Code, w.Body)
								return
							}
						}
					})
				}
				wg.Wait()
				took := time.Since(start)
				if tp != nil {
					tp.Shutdown(context.Background()) // exports what is buffered; not timed
				}
				st.Close()
				rates[variant] = append(rates[variant], perRun/took.Seconds())
			}
		}
	}
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	// Ratios are taken round by round (the variants of one round ran back
	// to back), then the median: slow drifts in machine load cancel.
	for _, v := range variants {
		m := median(rates[v])
		b.ReportMetric(m, v+"_events/s")
		var ratios []float64
		for i, r := range rates[v] {
			ratios = append(ratios, r/rates["bare"][i])
		}
		if v != "bare" {
			b.ReportMetric(median(ratios), v+"/bare")
		}
		b.Logf("%-16s median %7.0f events/s, median ratio to bare %.3f; rounds %.0f", v, m, median(ratios), rates[v])
	}
}

// BenchmarkServeTracingOverhead measures tracing's cost on the whole
// ingest path: a real node (HTTP server, SQLite, metrics on as always, no
// routes, so ingest alone) under closed-loop signed load of 64 workers from
// this process (internal/load, as `hookyard bench`), with tracing off and
// on (every request sampled and exported over OTLP/HTTP to a local
// collector that discards). The two alternate for ten rounds of 2 s after
// a 0.5 s warm-up; the report is the median accepted events/s of each and
// the median per-round ratio.
//
//	go test -run '^$' -bench BenchmarkServeTracingOverhead -benchtime 1x ./cmd/hookyard/
func BenchmarkServeTracingOverhead(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	p, _ := verify.Lookup("shopify")
	rates := map[string][]float64{}
	for range b.N {
		for round := range 10 {
			for _, variant := range []string{"off", "on"} {
				cfg := testNodeConfig(b, b.TempDir(), "sources:\n  - {name: shop, provider: shopify, secrets: [\"%s\"]}\n", testSecret)
				var opts []serverOption
				var tp *sdktrace.TracerProvider
				if variant == "on" {
					exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(collector.URL+"/v1/traces"))
					if err != nil {
						b.Fatal(err)
					}
					tp = tracing.NewProvider(nil, sdktrace.WithBatcher(exp))
					opts = append(opts, withTracing(tp))
				}
				srv, cancel := serveTest(b, cfg, slog.New(slog.DiscardHandler), opts...)
				url := "http://" + srv.publicAddr + "/ingest/shop"
				res, err := load.Run(context.Background(), load.Config{URL: url, Concurrency: 64, Duration: 2 * time.Second,
					Warmup: 500 * time.Millisecond, BodySize: 2048, RunID: fmt.Sprintf("%s-%d", variant, round),
					Sign: func(body []byte, id string, now time.Time) (http.Header, error) {
						return p.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: now})
					}})
				cancel()
				srv.wait()
				if tp != nil {
					tp.Shutdown(context.Background())
				}
				if err != nil {
					b.Fatal(err)
				}
				if res.Errors > 0 {
					b.Errorf("%s: %d errors %v %v", variant, res.Errors, res.ByStatus, res.Transport)
				}
				rates[variant] = append(rates[variant], res.AcceptedPerSecond())
			}
		}
	}
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	var ratios []float64
	for i := range rates["on"] {
		ratios = append(ratios, rates["on"][i]/rates["off"][i])
	}
	b.ReportMetric(median(rates["off"]), "off_events/s")
	b.ReportMetric(median(rates["on"]), "on_events/s")
	b.ReportMetric(median(ratios), "on/off")
	b.Logf("off %.0f, on %.0f events/s; per-round ratios %.3f", rates["off"], rates["on"], ratios)
}
