package storetest

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
	"github.com/hookyard/hookyard/internal/webhook"
)

// writeStats is implemented by stores that batch writes (group commit).
type writeStats interface {
	WriteStats() (transactions, ops int64)
}

// BenchIngest measures durable ingest of 2 KiB events with one delivery
// each from 64 × GOMAXPROCS concurrent callers, and reports how many
// events each commit carried. Every store runs the same body, so the
// figures compare line for line.
func BenchIngest(b *testing.B, s store.Store) {
	body := []byte(`{"id":1,"pad":"` + strings.Repeat("x", 2000) + `"}`)
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {"orders/create"}}
	var n atomic.Int64
	if ws, ok := s.(writeStats); ok {
		defer func() { tx, ops := ws.WriteStats(); b.ReportMetric(float64(ops)/float64(max(tx, 1)), "ops/commit") }()
	}
	b.SetParallelism(64) // × GOMAXPROCS callers
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now()
			i := n.Add(1)
			ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
				Topic: "orders/create", DedupKey: fmt.Sprint("k", i), ReceivedAt: now, Headers: hdr, Body: body}
			if _, err := s.Ingest(context.Background(), ev, []webhook.NewDelivery{
				{Destination: "oms", Route: "r", Priority: 1, MaxAttempts: 5}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchClaimComplete measures the queue as the delivery engine drives it:
// 16 × GOMAXPROCS concurrent workers each claim up to 4 deliveries and mark
// each succeeded, over a queue filled with b.N deliveries beforehand.
func BenchClaimComplete(b *testing.B, s store.Store) {
	now := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ { // fill concurrently so group commit keeps setup short
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += 64 {
				ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify",
					DedupKey: fmt.Sprint("k", i), ReceivedAt: now, Headers: http.Header{}, Body: []byte(`{}`)}
				if _, err := s.Ingest(context.Background(), ev, []webhook.NewDelivery{{Destination: "oms", Route: "r", MaxAttempts: 5}}); err != nil {
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
			cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms", Owner: "b",
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
				if err := s.DeliverySucceed(context.Background(), c.Delivery.ID, c.Delivery.LeaseToken,
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
