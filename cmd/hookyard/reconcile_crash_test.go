package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
)

// TestReconcileCrashResumes kills the real binary (SIGKILL) while a
// scheduled run waits for its third page, restarts it, and checks that the
// run resumes at its checkpoint: the same run finishes, the API is asked
// for page 3 with the checkpointed cursor, and every missing event reaches
// the destination as exactly one event.
func TestReconcileCrashResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildHookyard(t)
	const total = 300
	now := time.Now()
	var events [][]byte
	for i := range total {
		events = append(events, reconciletest.StripeEvent(fmt.Sprintf("evt_crash%06d", i), "invoice.paid",
			now.Add(-time.Hour).Add(time.Duration(i)*10*time.Second), i))
	}
	fake := reconciletest.NewStripe(t, "rk_crash", events)
	// Newest first: page 2 ends with evt_crash000100.
	gate := fake.Hold("evt_crash000100")

	var mu sync.Mutex
	keys := map[string]map[string]bool{} // event id → idempotency keys seen
	sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct{ ID string }
		json.Unmarshal(b, &ev)
		mu.Lock()
		if keys[ev.ID] == nil {
			keys[ev.ID] = map[string]bool{}
		}
		keys[ev.ID][r.Header.Get("Idempotency-Key")] = true
		mu.Unlock()
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
admin:
  tokens: [{name: ops, token: %s, role: admin}]
sources:
  - name: stripe
    provider: stripe
    secrets: ["whsec_crash"]
    reconcile:
      every: 1h
      lookback: 2h
      settle: 0s
      backfill: true
      api: {base_url: '%s', token: rk_crash}
destinations:
  - {name: ledger, type: http, url: '%s', retry: {max_attempts: 50, initial_interval: 50ms, max_interval: 500ms}}
routes:
  - {source: stripe, destination: ledger}
`, pub, adm, filepath.Join(dir, "data", "hookyard.db"), adminToken, fake.URL, sk.URL)
	cfgPath := filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "hookyard.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func() *exec.Cmd {
		proc := exec.Command(bin, "serve", "--config", cfgPath)
		proc.Stdout, proc.Stderr = logf, logf
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "http://"+pub+"/readyz")
		return proc
	}
	proc := start()
	// The third page is requested (and held): pages 1 and 2 are done and
	// checkpointed.
	waitFor(t, "the third page request", func() bool { return fake.RequestCount() >= 3 })
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	close(gate)

	c := &api.Client{BaseURL: "http://" + adm, Token: adminToken}
	ctx := context.Background()
	before := fake.RequestCount()
	proc = start()
	defer func() {
		proc.Process.Signal(syscall.SIGTERM)
		proc.Wait()
	}()
	var runs api.ReconcileRunList
	waitFor(t, "the resumed run to finish", func() bool {
		runs, err = c.ReconcileRuns(ctx, "stripe", 10)
		return err == nil && len(runs.Runs) > 0 && runs.Runs[0].State != store.RunRunning
	})
	if len(runs.Runs) != 1 {
		t.Fatalf("runs %+v: want the one run, resumed", runs.Runs)
	}
	if r := runs.Runs[0]; r.State != store.RunDone || r.Listed != total || r.Missing != total || r.Backfilled != total {
		t.Fatalf("resumed run %+v", r)
	}
	if q := fake.Request(before); q == "" || !contains(q, "starting_after=evt_crash000100") {
		t.Fatalf("after the restart the API was asked %q, want the page after evt_crash000100", q)
	}
	waitFor(t, "every event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(keys) == total
	})
	mu.Lock()
	defer mu.Unlock()
	for id, ks := range keys {
		if len(ks) != 1 {
			t.Errorf("%s reached the destination as %d different deliveries", id, len(ks))
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
