package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signedRequest builds a Shopify-signed POST of body.
func status(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var n int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &n)
			return n
		}
	}
	return -1
}

// TestHostileTraffic sends hostile requests at a real listener while a
// legitimate sender keeps posting: every hostile request gets its 4xx (or
// is cut off by a timeout), memory stays bounded, and every legitimate
// request is accepted and delivered.
func TestHostileTraffic(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	url := n.ingestURL("shop")

	// Legitimate traffic runs throughout.
	stop := make(chan struct{})
	var legit, legitFailed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			code, body := status(t, signedRequest(t, url, orderBody(10000+i), fmt.Sprint("legit-", i)))
			if code != http.StatusAccepted {
				legitFailed.Add(1)
				t.Errorf("legitimate request %d: %d %s", i, code, body)
			}
			legit.Add(1)
		}
	}()
	runtime.GC()
	before := rssKiB()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	// Sample the heap through the attack: its peak is what bounded memory
	// is about (RSS lags, since the runtime keeps freed pages a while).
	var peak atomic.Uint64
	sampling := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-sampling:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	// Oversized bodies, many at once, with Content-Length and chunked.
	big := bytes.Repeat([]byte("x"), 4<<20)
	var hw sync.WaitGroup
	for i := 0; i < 32; i++ {
		hw.Add(1)
		go func() {
			defer hw.Done()
			req, _ := http.NewRequest("POST", url, bytes.NewReader(big))
			if i%2 == 1 {
				req, _ = http.NewRequest("POST", url, io.MultiReader(bytes.NewReader(big)))
				req.ContentLength = -1
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server may close the connection mid-upload: also a refusal
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("oversize: %d", resp.StatusCode)
			}
		}()
	}
	hw.Wait()

	// A gzip bomb: 64 KiB compressed, 64 MiB inflated.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write([]byte(`{"id":1,"pad":"`))
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(chunk)
	}
	zw.Write([]byte(`"}`))
	zw.Close()
	req := signedRequest(t, url, bomb.Bytes(), "bomb")
	req.Header.Set("Content-Encoding", "gzip")
	if code, body := status(t, req); code != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip bomb: %d %s", code, body)
	}

	// 10,000-deep JSON, correctly signed: refused before any parser
	// recurses, and kept in quarantine.
	deep := []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	if code, body := status(t, signedRequest(t, url, deep, "deep")); code != http.StatusBadRequest || !strings.Contains(body, "deep") {
		t.Errorf("deep JSON: %d %s", code, body)
	}

	// Multipart.
	req = signedRequest(t, url, []byte("--b\r\n\r\n--b--"), "mp")
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if code, _ := status(t, req); code != http.StatusUnsupportedMediaType {
		t.Errorf("multipart: %d", code)
	}
	// Unknown Content-Encoding.
	req = signedRequest(t, url, []byte(`{}`), "br")
	req.Header.Set("Content-Encoding", "br")
	if code, _ := status(t, req); code != http.StatusUnsupportedMediaType {
		t.Errorf("br encoding: %d", code)
	}

	// Header injection: a raw request with a NUL in a header value and one
	// with a bare LF line are refused by the HTTP layer.
	for name, raw := range map[string]string{
		"nul":     "POST /ingest/shop HTTP/1.1\r\nHost: x\r\nX-Shopify-Hmac-Sha256: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
		"split":   "POST /ingest/shop HTTP/1.1\r\nHost: x\r\nX-Evil: a\nInjected: b\r\nContent-Length: 2\r\n\r\n{}",
		"obsfold": "POST /ingest/shop HTTP/1.1\r\nHost: x\r\nX-Evil: a\r\n folded\r\nContent-Length: 2\r\n\r\n{}",
	} {
		code := rawStatus(t, n.publicAddr, raw)
		if code < 400 || code >= 500 {
			t.Errorf("header injection %s: status %d, want 4xx", name, code)
		}
	}

	// Slow headers (slowloris) and a slow body are cut off by the server's
	// timeouts instead of holding a slot for ever.
	for name, parts := range map[string][]string{
		"slow headers": {"POST /ingest/shop HTTP/1.1\r\nHost: x\r\n", "X-A: 1\r\n"},
		"slow body":    {"POST /ingest/shop HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", "\""},
	} {
		conn, err := net.Dial("tcp", n.publicAddr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		closed := false
		for i := 0; i < 100 && !closed; i++ {
			if _, err := conn.Write([]byte(parts[min(i, 1)])); err != nil {
				closed = true
				break
			}
			conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 512)
			if n, err := conn.Read(buf); n > 0 || (err != nil && !isTimeout(err)) {
				closed = true
			}
		}
		conn.Close()
		if !closed {
			t.Errorf("%s: connection still open after %v", name, time.Since(start))
		} else {
			t.Logf("%s: cut off after %v", name, time.Since(start).Round(10*time.Millisecond))
		}
	}

	close(stop)
	wg.Wait()
	close(sampling)
	after := rssKiB()
	growth := int64(peak.Load()) - int64(heapBefore)
	t.Logf("hostile traffic: legitimate requests %d (failed %d); heap in use before %d KiB, peak %d KiB; RSS before %d KiB, after %d KiB",
		legit.Load(), legitFailed.Load(), heapBefore>>10, peak.Load()>>10, before, after)
	fmt.Printf("hostile traffic: legitimate=%d failed=%d heap_before_kib=%d heap_peak_kib=%d rss_before_kib=%d rss_after_kib=%d\n",
		legit.Load(), legitFailed.Load(), heapBefore>>10, peak.Load()>>10, before, after)
	if legit.Load() == 0 {
		t.Fatal("no legitimate request completed during the attack")
	}
	// 32 concurrent 4 MiB uploads (128 MiB offered) against a 64 KiB limit,
	// plus a bomb inflating to 64 MiB: bounded memory means the heap grows
	// by a small fraction of that. (The test's own 4 MiB upload buffer and
	// client connections are included in the figure.)
	if growth > 48<<20 {
		t.Errorf("heap grew by %d KiB under hostile traffic", growth>>10)
	}
	// Every accepted legitimate request is delivered.
	for i := int64(0); i < legit.Load(); i++ {
		sk.next(t)
	}
	qs, err := n.client.Quarantine(context.Background(), "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs.Items) != 1 || !strings.Contains(qs.Items[0].Reason, "nested") {
		t.Errorf("quarantine = %+v, want the deep-JSON request", qs.Items)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func rawStatus(t *testing.T, addr, raw string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte(raw))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFrontDoorPolicies: IP allow-list → 403, rate limit → 429 with
// Retry-After, schema violation → 422 and quarantined.
func TestFrontDoorPolicies(t *testing.T) {
	sk := newSink(t, nil)
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "order.json")
	os.WriteFile(schemaPath, []byte(`{"type":"object","required":["id","currency"],"properties":{"id":{"type":"integer"},"currency":{"type":"string"}}}`), 0o600)
	extra := fmt.Sprintf(`  - name: walled
    provider: shopify
    secrets: ["%s"]
    allow_ips: [192.0.2.0/24]
  - name: proxied
    provider: shopify
    secrets: ["%s"]
    allow_ips: [198.51.100.7]
    trusted_proxies: [127.0.0.1]
  - name: limited
    provider: shopify
    secrets: ["%s"]
    rate_limit: 1/h
    rate_burst: 2
  - name: strict
    provider: shopify
    secrets: ["%s"]
    schemas: {"orders/create": %s}
`, testSecret, testSecret, testSecret, testSecret, schemaPath)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: strict, destination: oms}", extra)

	if code, body := status(t, signedRequest(t, n.ingestURL("walled"), orderBody(1), "w1")); code != http.StatusForbidden || !strings.Contains(body, "127.0.0.1") {
		t.Errorf("not allowed: %d %s", code, body)
	}
	req := signedRequest(t, n.ingestURL("proxied"), orderBody(1), "p1")
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if code, body := status(t, req); code != http.StatusAccepted {
		t.Errorf("allowed client behind a trusted proxy: %d %s", code, body)
	}
	req = signedRequest(t, n.ingestURL("proxied"), orderBody(2), "p2")
	req.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
	if code, _ := status(t, req); code != http.StatusForbidden {
		t.Errorf("spoofed X-Forwarded-For: %d, want 403", code)
	}

	for i := 0; i < 2; i++ {
		if code, _ := status(t, signedRequest(t, n.ingestURL("limited"), orderBody(i), fmt.Sprint("l", i))); code != http.StatusAccepted {
			t.Errorf("within burst: %d", code)
		}
	}
	resp, err := http.DefaultClient.Do(signedRequest(t, n.ingestURL("limited"), orderBody(3), "l3"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	bad := []byte(`{"id":"not-a-number","currency":"USD"}`)
	if code, body := status(t, signedRequest(t, n.ingestURL("strict"), bad, "s1")); code != http.StatusUnprocessableEntity || !strings.Contains(body, "$.id") {
		t.Errorf("schema violation: %d %s", code, body)
	}
	if code, _ := status(t, signedRequest(t, n.ingestURL("strict"), orderBody(5), "s2")); code != http.StatusAccepted {
		t.Errorf("valid order: %d", code)
	}
	qs, err := n.client.Quarantine(context.Background(), "strict", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(qs.Items) != 1 || !strings.Contains(qs.Items[0].Reason, "$.id") {
		t.Fatalf("quarantine = %+v", qs.Items)
	}
	if b, _ := qs.Items[0].RawBody(); !bytes.Equal(b, bad) {
		t.Errorf("quarantined body = %s", b)
	}
	sk.next(t)
}

// TestInFlightCap: beyond server.max_in_flight concurrent ingest requests
// the answer is 503 with Retry-After, and the slot frees when the slow
// request ends.
func TestInFlightCap(t *testing.T) {
	sk := newSink(t, nil)
	cap1 := startNodeCap(t, sk)
	// Hold the only slot with a request whose body never finishes.
	conn, err := net.Dial("tcp", cap1.publicAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST /ingest/shop HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"))
	time.Sleep(100 * time.Millisecond) // let the handler take the slot
	resp, err := http.DefaultClient.Do(signedRequest(t, cap1.ingestURL("shop"), orderBody(1), "cap-1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second request: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	conn.Close() // the held request ends (its body is cut short)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := status(t, signedRequest(t, cap1.ingestURL("shop"), orderBody(2), "cap-2"))
		if code == http.StatusAccepted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startNodeCap(t *testing.T, sk *sink) *node {
	t.Helper()
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	if n.cfg.Server.MaxInFlight != 1024 {
		t.Fatalf("default max_in_flight = %d", n.cfg.Server.MaxInFlight)
	}
	// Run a second node on the same config with max_in_flight 1.
	cfg := *n.cfg
	cfg.Storage.Path = filepath.Join(t.TempDir(), "cap.db")
	cfg.Server.MaxInFlight = 1
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, &cfg, slog.New(slog.DiscardHandler), false)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.wait() })
	return &node{server: srv, cancel: cancel}
}
