package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
)

func startPGNode(t *testing.T, dsn, destinations, routes string) *node {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "hookyard.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
  driver: postgres
  dsn: "%s"
admin:
  tokens: [{name: ops, token: %s, role: admin}]
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
%s
routes:
%s
`, dsn, adminToken, testSecret, destinations, routes)), 0o600)
	cfg, err := loadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	srv, cancel := serveTest(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { cancel(); srv.wait() })
	return &node{server: srv, cancel: cancel,
		client: &api.Client{BaseURL: "http://" + srv.adminAddr, Token: adminToken}}
}

// TestTwoNodesShareRateLimitAndPause: two nodes on one PostgreSQL database
// deliver to one sink. Together they keep to the destination's rate limit
// (one token bucket in the database), and a pause made through one node
// holds the other node's deliveries too.
func TestTwoNodesShareRateLimitAndPause(t *testing.T) {
	dsn, _ := pgSchema(t, "hy_ctl")
	oms, crm := newSink(t, nil), newSink(t, nil)
	dests := httpDest("oms", oms.srv.URL, "    rate_limit: 20/s\n    burst: 2\n") + httpDest("crm", crm.srv.URL, "")
	routes := "  - {source: shop, destination: oms}\n  - {source: shop, destination: crm}"
	a := startPGNode(t, dsn, dests, routes)
	b := startPGNode(t, dsn, dests, routes)

	const n, rate, burst = 30, 20.0, 2
	for i := range n {
		to := a
		if i%2 == 1 {
			to = b
		}
		if resp, body := post(t, to.ingestURL("shop"), orderBody(i), fmt.Sprint("rl-", i)); resp.StatusCode != 202 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	var at []time.Time
	for range n {
		at = append(at, oms.next(t).at)
	}
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	// The bucket bounds when sends start; arrivals jitter by scheduling on
	// a loaded machine. So every window of 10 consecutive arrivals, and the
	// whole run, must span at least 70% of what the bucket allows.
	span := func(from, to int) {
		t.Helper()
		min := time.Duration(float64(to-from+1-burst) / rate * 0.7 * float64(time.Second))
		if got := at[to-1].Sub(at[from-1]); got < min {
			t.Fatalf("requests %d to %d arrived within %v; two nodes together allow no less than %v", from, to, got, min)
		}
	}
	for k := 10; k <= n; k++ {
		span(k-9, k)
	}
	span(1, n)
	t.Logf("%d requests from two nodes over %v (limit %v/s, burst %d)", n, at[n-1].Sub(at[0]), rate, burst)
	for range n {
		crm.next(t)
	}

	// Pause through node a; node b's engine picks it up from the database.
	if out := nodeCLI(t, a, "destinations", "pause", "oms"); out != "oms is paused\n" {
		t.Fatalf("pause: %q", out)
	}
	eventuallyTrue(t, "node b holds oms", func() bool { return b.engine.Held("oms") })
	for i := range 4 {
		post(t, b.ingestURL("shop"), orderBody(100+i), fmt.Sprint("p-", i))
	}
	for range 4 {
		crm.next(t)
	}
	if c := oms.count(); c != n {
		t.Fatalf("paused destination received %d more requests", c-n)
	}
	if out := nodeCLI(t, b, "destinations", "resume", "oms"); out != "oms is active\n" {
		t.Fatalf("resume: %q", out)
	}
	for range 4 {
		oms.next(t)
	}
}

// TestTwoNodesShareMaxInFlight: two nodes with 16 slots each never hold
// more than the destination's max_in_flight requests open at once.
func TestTwoNodesShareMaxInFlight(t *testing.T) {
	dsn, _ := pgSchema(t, "hy_mif")
	var mu sync.Mutex
	cur, peak, total := 0, 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur++
		total++
		peak = max(peak, cur)
		mu.Unlock()
		<-release
		mu.Lock()
		cur--
		mu.Unlock()
	}))
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(srv.Close)
	t.Cleanup(open) // runs before srv.Close
	dests := httpDest("oms", srv.URL, "    max_in_flight: 3\n")
	a := startPGNode(t, dsn, dests, "  - {source: shop, destination: oms}")
	b := startPGNode(t, dsn, dests, "  - {source: shop, destination: oms}")
	for i := range 12 {
		to := a
		if i%2 == 1 {
			to = b
		}
		post(t, to.ingestURL("shop"), orderBody(i), fmt.Sprint("mif-", i))
	}
	eventuallyTrue(t, "3 open requests", func() bool { mu.Lock(); defer mu.Unlock(); return cur == 3 })
	// Give both nodes several claim rounds against the full cap.
	for range 5 {
		a.engine.WakeAll()
		b.engine.WakeAll()
		time.Sleep(50 * time.Millisecond)
	}
	open()
	eventuallyTrue(t, "all 12 delivered", func() bool { mu.Lock(); defer mu.Unlock(); return total == 12 })
	mu.Lock()
	defer mu.Unlock()
	if peak != 3 {
		t.Fatalf("peak open requests %d across two nodes, want max_in_flight 3", peak)
	}
}
