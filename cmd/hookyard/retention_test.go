package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// TestRetentionDeletesDeliveredEvents runs a node with a short retention
// age on each store: a delivered event disappears with its delivery, while
// an event whose delivery failed (retrying, then dead-lettered) stays.
func TestRetentionDeletesDeliveredEvents(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			storage := fmt.Sprintf("  path: %s\n", filepath.Join(t.TempDir(), "hookyard.db"))
			if driver == "postgres" {
				dsn, _ := pgSchema(t, "hy_retention_node")
				storage = fmt.Sprintf("  driver: postgres\n  dsn: %q\n", dsn)
			}
			ok := newSink(t, nil)
			failing := newSink(t, func(int) int { return 503 })
			cfgPath := filepath.Join(t.TempDir(), "hookyard.yaml")
			os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
%s  retention: {max_age: 1s, interval: 100ms, batch_size: 2}
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
  - {name: other, provider: shopify, secrets: ["%s"]}
destinations:
%s
%s
routes:
  - {source: shop, destination: oms}
  - {source: other, destination: down}
`, storage, testSecret, testSecret, httpDest("oms", ok.srv.URL, ""), httpDest("down", failing.srv.URL, ""))), 0o600)
			cfg, err := loadConfig(cfgPath, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			srv, cancel := serveTest(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx := context.Background()
			t.Cleanup(func() { cancel(); srv.wait() })
			n := &node{server: srv, cancel: cancel}
			var done, live [3]string
			for i := range done {
				_, ack := post(t, n.ingestURL("shop"), orderBody(i+1), fmt.Sprint("ret-", i))
				done[i], _ = decodeAck(t, ack)
				_, ack = post(t, n.ingestURL("other"), orderBody(i+10), fmt.Sprint("live-", i))
				live[i], _ = decodeAck(t, ack)
			}
			deadline := time.Now().Add(30 * time.Second)
			for _, id := range done {
				for {
					_, err := srv.store.EventGet(ctx, id)
					if errors.Is(err, webhook.ErrNotFound) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("delivered event %s still stored after 30 s (%v)", id, err)
					}
					time.Sleep(50 * time.Millisecond)
				}
				if _, err := srv.store.DeliveryGet(ctx, "dlv_"+id[len("evt_"):]+".0"); !errors.Is(err, webhook.ErrNotFound) {
					t.Errorf("delivery of %s: %v, want deleted with its event", id, err)
				}
			}
			// The failing destination has been tried to the end by now.
			for failing.count() < 5*len(live) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // three more retention runs
			if ok.count() != len(done) {
				t.Errorf("destination got %d requests, want %d", ok.count(), len(done))
			}
			for _, id := range live {
				if _, err := srv.store.EventGet(ctx, id); err != nil {
					t.Errorf("event %s with a dead letter: %v, want kept", id, err)
				}
			}
		})
	}
}
