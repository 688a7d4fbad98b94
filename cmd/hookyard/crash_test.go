package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/verify"
)

// TestCrashNoAckedEventLost runs the real hookyard binary under a burst of
// signed events, SIGKILLs it several times mid-burst and restarts it, then
// checks the ledger: every event that got a 2xx reached the destination,
// and no event's effect was applied twice by a destination that honours
// the idempotency key.
func TestCrashNoAckedEventLost(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process; skipped with -short")
	}
	const (
		events  = 4000
		senders = 16
		kills   = 4
	)
	dir := t.TempDir()
	bin := buildHookyard(t)

	// The destination applies effects idempotently by key, like a careful
	// OMS would: the first request with a key applies, repeats are absorbed.
	var mu sync.Mutex
	applied := map[string]int64{} // idempotency key → order id
	effects := map[int64]int{}    // order id → effects applied
	var requests, repeats atomic.Int64
	sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var body struct{ ID int64 }
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, "bad body", 400)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		if _, seen := applied[key]; seen {
			repeats.Add(1)
		} else {
			applied[key] = body.ID
			effects[body.ID]++
		}
		mu.Unlock()
		w.WriteHeader(200)
	}))
	defer sk.Close()

	pub, adm := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`server:
  listen: %s
  admin_listen: %s
  shutdown_timeout: 5s
  allow_private: [127.0.0.1]
storage:
  path: %s
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
  - name: oms
    type: http
    url: %s
    timeout: 2s
    concurrency: 32
    retry: {max_attempts: 50, initial_interval: 50ms, max_interval: 500ms}
routes:
  - {source: shop, destination: oms}
`, pub, adm, filepath.Join(dir, "data", "hookyard.db"), testSecret, sk.URL)
	cfgPath := filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var proc *exec.Cmd
	logf, err := os.Create(filepath.Join(dir, "hookyard.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func() {
		proc = exec.Command(bin, "serve", "--config", cfgPath)
		proc.Stdout, proc.Stderr = logf, logf
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "http://"+pub+"/readyz")
	}
	start()
	defer func() {
		if proc != nil && proc.Process != nil {
			proc.Process.Signal(syscall.SIGTERM)
			proc.Wait()
		}
	}()

	// Senders post every event until it is acknowledged, like a provider
	// retrying; the ledger records which ids got a 2xx.
	shopify, _ := verify.Lookup("shopify")
	var acked sync.Map
	var ackCount, failures atomic.Int64
	next := make(chan int64)
	go func() {
		for i := int64(1); i <= events; i++ {
			next <- i
		}
		close(next)
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				body := []byte(fmt.Sprintf(`{"id":%d,"total_price":"10.00"}`, id))
				h, _ := shopify.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: fmt.Sprint("wh-", id), Now: time.Now()})
				for try := 0; try < 200; try++ {
					req, _ := http.NewRequest("POST", "http://"+pub+"/ingest/shop", bytes.NewReader(body))
					req.Header = h.Clone()
					resp, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode/100 == 2 {
							acked.Store(id, true)
							ackCount.Add(1)
							break
						}
					}
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	// Kill the node mid-burst, several times, and restart it.
	for k := 0; k < kills; k++ {
		target := int64(events) * int64(k+1) / int64(kills+1)
		for ackCount.Load() < target {
			time.Sleep(5 * time.Millisecond)
		}
		if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		proc.Wait()
		start()
	}
	wg.Wait()

	// Wait for the queue to drain to the sink.
	ackedIDs := []int64{}
	acked.Range(func(k, _ any) bool { ackedIDs = append(ackedIDs, k.(int64)); return true })
	deadline := time.Now().Add(90 * time.Second)
	lost := 0
	for {
		mu.Lock()
		lost = 0
		for _, id := range ackedIDs {
			if effects[id] == 0 {
				lost++
			}
		}
		mu.Unlock()
		if lost == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	dupEffects := 0
	for _, n := range effects {
		if n > 1 {
			dupEffects += n - 1
		}
	}
	mu.Unlock()
	t.Logf("crash test: sent=%d acked=%d kills=%d sender_retries=%d sink_requests=%d redeliveries_absorbed=%d lost=%d duplicate_effects=%d",
		events, len(ackedIDs), kills, failures.Load(), requests.Load(), repeats.Load(), lost, dupEffects)
	fmt.Printf("crash test: acked=%d lost=%d duplicate_effects=%d redeliveries_absorbed=%d\n", len(ackedIDs), lost, dupEffects, repeats.Load())
	if len(ackedIDs) != events {
		t.Errorf("only %d of %d events were ever acknowledged", len(ackedIDs), events)
	}
	if lost != 0 {
		t.Errorf("%d acknowledged events never reached the destination", lost)
	}
	if dupEffects != 0 {
		t.Errorf("%d effects were applied twice (idempotency key changed between deliveries)", dupEffects)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}
