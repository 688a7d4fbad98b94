package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestCanaryShareEndToEnd: 10,000 events through a node's ingest on a route
// with a 5% canary; every event is delivered exactly once, and the share the
// canary transform shaped is within ±2 points of 5%.
func TestCanaryShareEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 events through a node: not in -short")
	}
	const events, percent = 10_000, 5
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""),
		"  - source: shop\n    destination: oms\n    transform: '{id: .body.id, arm: \"live\"}'\n"+
			fmt.Sprintf("    canary: {transform: '{id: .body.id, arm: \"canary\"}', percent: %d}\n", percent))

	url := n.ingestURL("shop")
	work := make(chan int)
	errs := make(chan error, events)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body := fmt.Appendf(nil, `{"id":%d,"email":"buyer@example.com","total_price":"19.99","currency":"USD"}`, i)
				resp, err := http.DefaultClient.Do(signedRequest(t, url, body, fmt.Sprint("canary-share-", i)))
				if err != nil {
					errs <- err
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errs <- fmt.Errorf("event %d: %d %s", i, resp.StatusCode, b)
				}
			}
		}()
	}
	for i := range events {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	deadline := time.Now().Add(3 * time.Minute)
	for sk.count() < events && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate sent late would show
	sk.mu.Lock()
	reqs := append([]sinkReq(nil), sk.reqs...)
	sk.mu.Unlock()
	seen := make(map[int]string, events)
	canary := 0
	for _, r := range reqs {
		var out struct {
			ID  *int   `json:"id"`
			Arm string `json:"arm"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil || out.ID == nil || (out.Arm != "live" && out.Arm != "canary") {
			t.Fatalf("payload %s: %v", r.body, err)
		}
		if prev, dup := seen[*out.ID]; dup {
			t.Fatalf("event %d delivered twice (%s, then %s)", *out.ID, prev, out.Arm)
		}
		seen[*out.ID] = out.Arm
		if out.Arm == "canary" {
			canary++
		}
	}
	if len(seen) != events {
		t.Fatalf("%d distinct events delivered, want %d", len(seen), events)
	}
	share := 100 * float64(canary) / events
	t.Logf("canary share %.2f%% (%d of %d)", share, canary, events)
	if share < percent-2 || share > percent+2 {
		t.Fatalf("canary share %.2f%%, want %d%% ± 2", share, percent)
	}
}
