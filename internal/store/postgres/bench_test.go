package postgres_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/webhook"
)

// The benchmarks have the shapes of the sqlite ones (bench_test.go there),
// so the two stores can be compared line for line.

// BenchmarkIngest measures durable ingest (synchronous_commit on, group
// commit) of 2 KiB events with one delivery each, from 64 concurrent
// callers; sync=off shows what durability costs.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []string{"on", "off"} {
		b.Run("sync="+sync, func(b *testing.B) {
			st, err := postgres.Open(context.Background(), schemaDSN(b, "synchronous_commit", sync), postgres.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			body := []byte(`{"id":1,"pad":"` + strings.Repeat("x", 2000) + `"}`)
			hdr := http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {"orders/create"}}
			var n atomic.Int64
			defer func() { tx, ops := st.WriteStats(); b.ReportMetric(float64(ops)/float64(max(tx, 1)), "ops/commit") }()
			b.SetParallelism(64) // × GOMAXPROCS callers
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := time.Now()
					i := n.Add(1)
					ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
						Topic: "orders/create", DedupKey: fmt.Sprint("k", i), ReceivedAt: now, Headers: hdr, Body: body}
					if _, err := st.Ingest(context.Background(), ev, []webhook.NewDelivery{
						{Destination: "oms", Route: "r", Priority: 1, MaxAttempts: 5}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkClaimComplete measures the queue as the delivery engine drives
// it: 32 concurrent workers (2 × GOMAXPROCS × 16, like two destinations at
// the default concurrency) each claim up to 4 deliveries and mark each
// succeeded, over a pre-filled queue.
func BenchmarkClaimComplete(b *testing.B) {
	st, err := postgres.Open(context.Background(), schemaDSN(b), postgres.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ { // fill concurrently so group commit keeps setup short
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += 64 {
				ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
					DedupKey: fmt.Sprint("k", i), ReceivedAt: now, Headers: http.Header{}, Body: []byte(`{}`)}
				if _, err := st.Ingest(context.Background(), ev, []webhook.NewDelivery{{Destination: "oms", Route: "r", MaxAttempts: 5}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for {
			cs, err := st.DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms", Owner: "b",
				Limit: 4, Lease: time.Minute, Now: time.Now()})
			if err != nil {
				b.Error(err)
				return
			}
			if len(cs) == 0 {
				for pb.Next() {
				}
				return
			}
			for _, c := range cs {
				if err := st.DeliverySucceed(context.Background(), c.Delivery.ID, c.Delivery.LeaseToken,
					webhook.Attempt{Number: 1, StartedAt: now, StatusCode: 200}); err != nil {
					b.Error(err)
				}
				if !pb.Next() {
					return
				}
			}
		}
	})
}
