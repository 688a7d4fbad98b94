package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/verify"
	"github.com/hookyard/hookyard/internal/webhook"
)

const (
	testSecret = "shpss_test_secret_0123456789"
	adminToken = "admin-token-0123456789abcdef"
)

// sink is an httptest destination that records every request and answers
// with the status its script gives for the n-th request.
type sink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []sinkReq
	script func(n int) int
	got    chan sinkReq
	block  chan struct{} // if non-nil, requests wait on it (blackhole)
}

type sinkReq struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newSink(t testing.TB, script func(n int) int) *sink {
	s := &sink{script: script, got: make(chan sinkReq, 10000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if s.block != nil {
			select {
			case <-s.block:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		n := len(s.reqs)
		req := sinkReq{header: r.Header.Clone(), body: body, at: time.Now()}
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		code := 200
		if s.script != nil {
			code = s.script(n)
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "sink answered %d", code)
		s.got <- req
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// next waits for the sink's next request.
func (s *sink) next(t *testing.T) sinkReq {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a delivery")
		return sinkReq{}
	}
}

type node struct {
	*server
	cancel context.CancelFunc
	client *api.Client
}

func (n *node) ingestURL(source string) string { return "http://" + n.publicAddr + "/ingest/" + source }

// startNode runs a real hookyard node in-process on loopback ports with a
// SQLite file in a temp dir. extra is appended to the generated config.
func startNode(t testing.TB, destinations string, routes string, extra ...string) *node {
	t.Helper()
	return startNodeTLS(t, destinations, routes, "", "", extra...)
}

// startNodeTLS is startNode with the public listener on TLS when certFile
// is set.
func startNodeTLS(t testing.TB, destinations, routes, certFile, keyFile string, extra ...string) *node {
	t.Helper()
	dir := t.TempDir()
	more := strings.Join(extra, "")
	tlsConf := ""
	if certFile != "" {
		tlsConf = fmt.Sprintf("  tls: {cert_file: %s, key_file: %s}\n", certFile, keyFile)
	}
	cfgText := fmt.Sprintf(`
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  max_body_bytes: 65536
  shutdown_timeout: 2s
  read_header_timeout: 1s
  read_timeout: 2s
  allow_private: [127.0.0.1]
%sstorage:
  driver: sqlite
  path: %s
admin:
  tokens:
    - {name: ops, token: %s, role: admin}
sources:
  - name: shop
    provider: shopify
    secrets: ["old-secret-not-used-anymore", "%s"]
  - name: stripe
    provider: stripe
    secrets: ["whsec_test_0123456789"]
%s
destinations:
%s
routes:
%s
`, tlsConf, filepath.Join(dir, "hookyard.db"), adminToken, testSecret, more, destinations, routes)
	path := filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" }, config.Options{Providers: verify.Names()})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, cancel := serveTest(t, cfg, logger)
	n := &node{server: srv, cancel: cancel,
		client: &api.Client{BaseURL: "http://" + srv.adminAddr, Token: adminToken, HTTP: http.DefaultClient}}
	t.Cleanup(func() {
		cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	})
	return n
}

// serveTest starts hookyard in this process on cfg, or fails tb. The
// caller stops it with cancel, then srv.wait().
func serveTest(tb testing.TB, cfg *config.Config, logger *slog.Logger, opts ...serverOption) (*server, context.CancelFunc) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, logger, false, opts...)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	return srv, cancel
}

func httpDest(name, url string, extra string) string {
	return fmt.Sprintf("  - name: %s\n    type: http\n    url: %s\n    timeout: 2s\n    retry: {max_attempts: 5, initial_interval: 10ms, max_interval: 40ms}\n%s", name, url, extra)
}

// post signs body as Shopify would and posts it.
func signedRequest(t testing.TB, url string, body []byte, id string) *http.Request {
	t.Helper()
	p, _ := verify.Lookup("shopify")
	h, err := p.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	return req
}

func post(t testing.TB, url string, body []byte, id string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, url, body, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func orderBody(n int) []byte {
	return []byte(fmt.Sprintf(`{"id":%d,"email":"buyer@example.com","total_price":"19.99","currency":"USD"}`, 820982911946154500+n))
}

func decodeAck(t *testing.T, b []byte) (id string, dup bool) {
	t.Helper()
	var r struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
		t.Fatalf("ack body %q: %v", b, err)
	}
	return r.ID, r.Duplicate
}

// waitState polls the admin API until the event's single delivery reaches state.
func waitState(t *testing.T, n *node, eventID string, state webhook.State) api.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, err := n.client.Event(context.Background(), eventID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Deliveries) == 1 && ev.Deliveries[0].State == string(state) {
			return ev.Deliveries[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s deliveries %+v never reached %s", eventID, ev.Deliveries, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliveredWithIdempotencyKey(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL+"/orders", ""), "  - {source: shop, destination: oms}")
	body := orderBody(1)
	resp, ack := post(t, n.ingestURL("shop"), body, "wh-1")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, ack)
	}
	id, dup := decodeAck(t, ack)
	if dup {
		t.Fatal("first delivery reported as duplicate")
	}
	got := sk.next(t)
	if !bytes.Equal(got.body, body) {
		t.Errorf("destination got body %q, want %q", got.body, body)
	}
	key := got.header.Get("Idempotency-Key")
	if !strings.HasPrefix(key, "hy_dlv_") {
		t.Errorf("Idempotency-Key = %q", key)
	}
	if got.header.Get("Hookyard-Event-Id") != id || got.header.Get("Hookyard-Source") != "shop" ||
		got.header.Get("Hookyard-Topic") != "orders/create" || got.header.Get("Hookyard-Attempt") != "1" {
		t.Errorf("headers = %v", got.header)
	}
	d := waitState(t, n, id, webhook.StateSucceeded)
	if d.Attempts != 1 {
		t.Errorf("attempts = %d", d.Attempts)
	}
	ev, err := n.client.Event(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Topic != "orders/create" || ev.DedupKey != "wh-1" {
		t.Errorf("stored event = %+v", ev)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	sk := newSink(t, func(n int) int {
		if n < 3 {
			return 500
		}
		return 200
	})
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	_, ack := post(t, n.ingestURL("shop"), orderBody(2), "wh-2")
	id, _ := decodeAck(t, ack)
	d := waitState(t, n, id, webhook.StateSucceeded)
	if sk.count() != 4 {
		t.Fatalf("destination saw %d requests, want 4", sk.count())
	}
	keys := map[string]bool{}
	for i, r := range sk.reqs {
		keys[r.header.Get("Idempotency-Key")] = true
		if got := r.header.Get("Hookyard-Attempt"); got != fmt.Sprint(i+1) {
			t.Errorf("request %d: Hookyard-Attempt = %s", i, got)
		}
	}
	if len(keys) != 1 {
		t.Errorf("idempotency keys differ across attempts: %v", keys)
	}
	full, err := n.client.Delivery(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Attempts) != 4 {
		t.Fatalf("attempts recorded = %d, want 4", len(full.Attempts))
	}
	for i, a := range full.Attempts[:3] {
		if a.StatusCode != 500 || a.ErrorClass != webhook.ClassHTTP5xx || !strings.Contains(a.ResponseBody, "sink answered 500") {
			t.Errorf("attempt %d = %+v", i+1, a)
		}
	}
	if last := full.Attempts[3]; last.StatusCode != 200 || last.ErrorClass != "" {
		t.Errorf("last attempt = %+v", last)
	}
}

func TestPermanentFailureThenReplay(t *testing.T) {
	var mu sync.Mutex
	fail := true
	sk := newSink(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return 400
		}
		return 200
	})
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	_, ack := post(t, n.ingestURL("shop"), orderBody(3), "wh-3")
	id, _ := decodeAck(t, ack)
	d := waitState(t, n, id, webhook.StateDead)
	if d.Attempts != 1 || sk.count() != 1 {
		t.Fatalf("400 should dead-letter at once: attempts=%d requests=%d", d.Attempts, sk.count())
	}
	first := sk.next(t)
	dlq, err := n.client.DLQ(context.Background(), api.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dlq.Deliveries) != 1 || dlq.Deliveries[0].ID != d.ID {
		t.Fatalf("dlq = %+v", dlq)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	// Replay through the CLI, exactly as an operator would.
	var out bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"HOOKYARD_TOKEN": adminToken}[k]
	}
	if err := run(context.Background(), []string{"dlq", "replay", "--url", "http://" + n.adminAddr, d.ID}, getenv,
		strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("dlq replay: %v (%s)", err, out.String())
	}
	second := sk.next(t)
	if k1, k2 := first.header.Get("Idempotency-Key"), second.header.Get("Idempotency-Key"); k1 != k2 || k1 == "" {
		t.Errorf("replay changed the idempotency key: %q → %q", k1, k2)
	}
	waitState(t, n, id, webhook.StateSucceeded)
}

func TestDuplicates(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	body := orderBody(4)
	resp, ack := post(t, n.ingestURL("shop"), body, "wh-dup")
	first, _ := decodeAck(t, ack)
	resp, ack = post(t, n.ingestURL("shop"), body, "wh-dup")
	id, dup := decodeAck(t, ack)
	if resp.StatusCode/100 != 2 || !dup || id != first {
		t.Fatalf("sequential duplicate: status %d, %s", resp.StatusCode, ack)
	}
	// Concurrent duplicates of another event.
	const copies = 20
	var wg sync.WaitGroup
	dups := make([]bool, copies)
	for i := 0; i < copies; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, ack := post(t, n.ingestURL("shop"), orderBody(5), "wh-concurrent")
			if resp.StatusCode/100 != 2 {
				t.Errorf("status %d", resp.StatusCode)
				return
			}
			_, dups[i] = decodeAck(t, ack)
		}()
	}
	wg.Wait()
	fresh := 0
	for _, d := range dups {
		if !d {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d concurrent copies were accepted as new, want 1", fresh)
	}
	sk.next(t)
	sk.next(t)
	// Nothing else may arrive; check through the store rather than waiting.
	ds, err := n.store.DeliveryCount(context.Background(), store.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if ds != 2 {
		t.Fatalf("deliveries = %d, want 2", ds)
	}
}

func TestRejections(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	url := n.ingestURL("shop")
	check := func(name string, resp *http.Response, body []byte, want int, contains string) {
		t.Helper()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d (%s)", name, resp.StatusCode, want, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", name, ct)
		}
		if !strings.Contains(string(body), contains) {
			t.Errorf("%s: body %s does not mention %q", name, body, contains)
		}
		if strings.Contains(string(body), testSecret) {
			t.Errorf("%s: answer leaks the secret", name)
		}
	}
	do := func(req *http.Request) (*http.Response, []byte) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	// Bad signature.
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"id":1}`))
	req.Header.Set("X-Shopify-Hmac-Sha256", "bm90LXRoZS1yaWdodC1zaWduYXR1cmU=")
	resp, b := do(req)
	check("bad signature", resp, b, 401, "ignature")
	// Missing signature.
	req, _ = http.NewRequest("POST", url, strings.NewReader(`{"id":1}`))
	resp, b = do(req)
	check("missing signature", resp, b, 401, "ignature")
	// Unknown source.
	req, _ = http.NewRequest("POST", n.ingestURL("nope"), strings.NewReader(`{}`))
	resp, b = do(req)
	check("unknown source", resp, b, 404, "nope")
	// Oversize with Content-Length.
	big := bytes.Repeat([]byte("a"), 70000)
	req, _ = http.NewRequest("POST", url, bytes.NewReader(big))
	resp, b = do(req)
	check("oversize", resp, b, 413, "65536")
	// Oversize, chunked (no Content-Length).
	req, _ = http.NewRequest("POST", url, io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	resp, b = do(req)
	check("oversize chunked", resp, b, 413, "65536")
	// Signed, but not JSON.
	resp, b = post(t, url, []byte("not json"), "wh-notjson")
	check("not json", resp, b, 400, "JSON")

	if c, _ := n.store.DeliveryCount(context.Background(), store.DeliveryFilter{}); c != 0 {
		t.Fatalf("rejected requests created %d deliveries", c)
	}
}

// TestSlowDestinationDoesNotDelayOthers: a destination that never answers
// holds only its own slots; the healthy one keeps delivering.
func TestSlowDestinationDoesNotDelayOthers(t *testing.T) {
	black := newSink(t, nil)
	black.block = make(chan struct{})
	t.Cleanup(func() { close(black.block) })
	healthy := newSink(t, nil)
	dests := httpDest("blackhole", black.srv.URL, "    concurrency: 2\n") + httpDest("healthy", healthy.srv.URL, "")
	n := startNode(t, dests, "  - {source: shop, destination: blackhole}\n  - {source: shop, destination: healthy}")
	for i := 0; i < 50; i++ {
		if resp, b := post(t, n.ingestURL("shop"), orderBody(100+i), fmt.Sprint("wh-slow-", i)); resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	}
	for i := 0; i < 50; i++ {
		healthy.next(t)
	}
}

func TestGracefulShutdownReleasesInFlight(t *testing.T) {
	black := newSink(t, nil)
	black.block = make(chan struct{})
	defer close(black.block)
	// The attempt's own timeout (30s) outlasts the shutdown grace (2s), so
	// the send is cut off by shutdown, not by the destination.
	d := fmt.Sprintf("  - {name: blackhole, type: http, url: %s, timeout: 30s}\n", black.srv.URL)
	n := startNode(t, d, "  - {source: shop, destination: blackhole}")
	_, ack := post(t, n.ingestURL("shop"), orderBody(7), "wh-shutdown")
	id, _ := decodeAck(t, ack)
	// Wait until the send is in flight, then stop the node.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ev, err := n.client.Event(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Deliveries) == 1 && ev.Deliveries[0].State == string(webhook.StateInFlight) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery never went in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.cancel()
	if err := n.wait(); err != nil {
		t.Fatal(err)
	}
	// Reopen the database: the delivery is pending again, attempt budget untouched.
	st, err := openStore(context.Background(), n.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, _, err := st.DeliveryList(context.Background(), store.DeliveryFilter{EventID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != webhook.StatePending || ds[0].Attempts != 0 {
		t.Fatalf("after shutdown: %+v", ds)
	}
}

func TestHealthAndAuth(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	for _, addr := range []string{n.publicAddr, n.adminAddr} {
		for _, p := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get("http://" + addr + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s%s = %d", addr, p, resp.StatusCode)
			}
		}
	}
	resp, err := http.Get("http://" + n.adminAddr + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("admin API without token = %d, want 401", resp.StatusCode)
	}
}

// testNodeConfig writes and loads the config of a test node whose SQLite
// file lives in dir: both listeners on loopback ports of the kernel's
// choosing, loopback destinations allowed, a short shutdown, and body (the
// YAML after storage, in the manner of fmt.Sprintf with args) appended.
func testNodeConfig(tb testing.TB, dir, body string, args ...any) *config.Config {
	tb.Helper()
	cfgText := fmt.Sprintf(`
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
  path: %s
`, filepath.Join(dir, "hookyard.db")) + fmt.Sprintf(body, args...)
	path := filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}
