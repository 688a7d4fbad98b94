package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/verify"
)

// BenchmarkDrainEstimate measures how well hookyard_queue_time_to_drain_
// seconds predicts a real drain: a 20,000-delivery backlog builds up while
// the destination is blocked, the destination opens (answering after a
// fixed 40 ms, 16 in flight: at most 400/s, well under what the machine
// delivers, so the destination — not the machine's load — sets the pace,
// as when a backlog builds up behind a slow destination), and
// the estimate scraped from /metrics when a quarter and when half of the
// backlog has drained is compared with the time the rest then took. It
// reports both ratios (estimate ÷ measured) and fails when one is off by
// more than 20%.
//
//	go test -run '^$' -bench BenchmarkDrainEstimate -benchtime 1x ./cmd/hookyard/
func BenchmarkDrainEstimate(b *testing.B) {
	const backlog = 20000
	for range b.N {
		quarter, half := drainRun(b, backlog)
		b.ReportMetric(quarter, "estimate/actual@25%")
		b.ReportMetric(half, "estimate/actual@50%")
		for _, r := range []float64{quarter, half} {
			if math.Abs(r-1) > 0.2 {
				b.Errorf("time-to-drain estimate off by more than 20%%: ratios %.3f and %.3f", quarter, half)
				break
			}
		}
	}
}

func drainRun(b *testing.B, backlog int) (quarter, half float64) {
	b.Helper()
	var open atomic.Bool
	var gate = make(chan struct{})
	var served atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if !open.Load() {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		time.Sleep(40 * time.Millisecond)
		served.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer sink.Close()
	sinkAddr := sink.Listener.Addr().String()

	cfg := testNodeConfig(b, b.TempDir(), `sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
  - {name: oms, type: http, url: "http://%s/in", concurrency: 16}
routes:
  - {source: shop, destination: oms}
`, testSecret, sinkAddr)
	srv, cancel := serveTest(b, cfg, slog.New(slog.DiscardHandler))
	defer func() { cancel(); srv.wait() }()

	// The backlog: signed webhooks, 16 senders.
	p, _ := verify.Lookup("shopify")
	url := "http://" + srv.publicAddr + "/ingest/shop"
	var next atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(backlog) {
					return
				}
				body := orderBody(int(i))
				h, _ := p.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: fmt.Sprint("drain-", i), Now: time.Now()})
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header = h
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("ingest %d: %d", i, resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return 0, 0
	}
	b.ResetTimer()
	open.Store(true)
	close(gate)
	start := time.Now()

	live := func() int {
		qs, err := srv.store.QueueStats(context.Background(), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, q := range qs {
			n += q.Due + q.Scheduled + q.InFlight
		}
		return n
	}
	type sample struct {
		at       time.Time
		estimate float64
	}
	var samples []sample
	for _, frac := range []float64{0.25, 0.5} {
		for served.Load() < int64(frac*float64(backlog)) {
			time.Sleep(5 * time.Millisecond)
		}
		samples = append(samples, sample{time.Now(), scrapeDrain(b, srv.adminAddr)})
	}
	for live() > 0 {
		time.Sleep(40 * time.Millisecond)
	}
	end := time.Now()
	b.StopTimer()
	b.Logf("backlog %d drained in %.2fs; estimates %.2fs at 25%% (actual %.2fs), %.2fs at 50%% (actual %.2fs)",
		backlog, end.Sub(start).Seconds(), samples[0].estimate, end.Sub(samples[0].at).Seconds(),
		samples[1].estimate, end.Sub(samples[1].at).Seconds())
	return samples[0].estimate / end.Sub(samples[0].at).Seconds(), samples[1].estimate / end.Sub(samples[1].at).Seconds()
}

// scrapeDrain reads hookyard_queue_time_to_drain_seconds for oms.
func scrapeDrain(b *testing.B, admin string) float64 {
	b.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `hookyard_queue_time_to_drain_seconds{destination="oms"} `); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatal("no time-to-drain for oms in /metrics")
	return 0
}
