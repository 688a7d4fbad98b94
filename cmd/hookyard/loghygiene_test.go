package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/verify"
)

// Canaries: values that must never appear in a log line, a metric or a
// span.
const (
	canarySourceSecret = "canary-source-secret-7f3a9c"
	canaryAdminToken   = "canary-admin-token-5b2e8d41"
	canaryWrongToken   = "canary-wrong-token-0c9d7e6f"
	canaryDestToken    = "canary-dest-bearer-9e8d7c6b"
	canarySlackPath    = "canary-slack-path-3a4b5c6d"
	canaryPDKey        = "canary-pd-routing-key-6f7e"
	canaryEmail        = "canary.pii+4d1f@example.com"
	canaryBody         = "canary-body-marker-2c3d"
	canaryForgedSig    = "canary-forged-signature-AAAA"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogHygiene runs a real node logging JSON at debug level, plants
// secrets, signatures and PII, drives accepted, duplicate, rejected,
// quarantined, retried and dead-lettered traffic and admin API calls, and
// asserts that none of the planted values appears in the log, in /metrics
// or in any span (name, attribute, status, event or resource) the node
// exported.
func TestLogHygiene(t *testing.T) {
	ok := newSink(t, nil)
	// The failing destination echoes the request body (with the email) in
	// its error answer, as some do.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "cannot process %s (auth %s)", b, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	reject := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		w.Write(b)
	}))
	defer reject.Close()
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer slack.Close()
	signingKey := base64.StdEncoding.EncodeToString([]byte("canary-signing-key-0123456789abcd"))

	dir := t.TempDir()
	cfg := testNodeConfig(t, dir, `admin:
  tokens:
    - {name: ops, token: %s, role: admin}
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
  - name: oms
    type: http
    url: %s/orders?token=%s
    auth: {type: bearer, token: %s}
    signing: {secrets: [whsec_%s]}
  - name: crm
    type: http
    url: %s/crm
    auth: {type: bearer, token: %s}
    retry: {max_attempts: 2, initial_interval: 10ms, max_interval: 20ms}
  - name: legacy
    type: http
    url: %s/legacy
routes:
  - {source: shop, destination: oms}
  - {source: shop, destination: crm}
  - {source: shop, destination: legacy}
slos:
  - {name: delivery-success, objective: 99.0%%}
  - {name: e2e-latency, objective: "p95 < 60s"}
  - {name: time-to-drain, objective: "< 5m"}
alerts:
  - {name: oncall, type: slack, url: "%s/services/%s"}
  - {name: pager, type: pagerduty, url: "%s/v2/enqueue", routing_key: %s}
`, canaryAdminToken, canarySourceSecret,
		ok.srv.URL, canaryDestToken, canaryDestToken, signingKey,
		echo.URL, canaryDestToken, reject.URL, slack.URL, canarySlackPath, slack.URL, canaryPDKey)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	spans := tracetest.NewInMemoryExporter()
	tp := tracing.NewProvider(nil, sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	srv, cancel := serveTest(t, cfg, logger, withTracing(tp))
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := srv.wait(); err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		}
	}
	defer stop()
	ingest := "http://" + srv.publicAddr + "/ingest/shop"
	admin := &api.Client{BaseURL: "http://" + srv.adminAddr, Token: canaryAdminToken, HTTP: http.DefaultClient}

	var sigs []string
	send := func(body []byte, id string, mutate func(*http.Request)) int {
		t.Helper()
		p, _ := verify.Lookup("shopify")
		h, err := p.Sign(canarySourceSecret, body, verify.SignOptions{Topic: "orders/create", ID: id, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, ingest, bytes.NewReader(body))
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		sigs = append(sigs, h.Get("X-Shopify-Hmac-Sha256"))
		if mutate != nil {
			mutate(req)
		}
		code, _ := status(t, req)
		return code
	}
	order := func(i int) []byte {
		return fmt.Appendf(nil, `{"id":%d,"email":"%s","note":"%s","total_price":"19.99"}`, i, canaryEmail, canaryBody)
	}

	// Accepted (to three destinations), and a duplicate.
	var events []string
	for i := range 3 {
		if code := send(order(i), fmt.Sprint("hyg-", i), nil); code != http.StatusAccepted {
			t.Fatalf("accepted: %d", code)
		}
	}
	if code := send(order(0), "hyg-0", nil); code != http.StatusOK {
		t.Fatalf("duplicate: %d", code)
	}
	// Rejected: a forged signature, and one made with another secret.
	if code := send(order(9), "hyg-forged", func(r *http.Request) {
		r.Header.Set("X-Shopify-Hmac-Sha256", canaryForgedSig)
	}); code != http.StatusUnauthorized {
		t.Fatalf("forged: %d", code)
	}
	p, _ := verify.Lookup("shopify")
	other, _ := p.Sign("another-secret-entirely", order(8), verify.SignOptions{Topic: "orders/create", ID: "x", Now: time.Now()})
	if code := send(order(8), "hyg-other", func(r *http.Request) {
		r.Header.Set("X-Shopify-Hmac-Sha256", other.Get("X-Shopify-Hmac-Sha256"))
	}); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	sigs = append(sigs, other.Get("X-Shopify-Hmac-Sha256"))
	// Quarantined: authentic, but not JSON.
	if code := send([]byte("email="+canaryEmail+"&note="+canaryBody), "hyg-q", nil); code != http.StatusBadRequest {
		t.Fatalf("quarantine: %d", code)
	}
	// Admin API: a denied token, then reads with the right one.
	bad := &api.Client{BaseURL: admin.BaseURL, Token: canaryWrongToken, HTTP: http.DefaultClient}
	if _, err := bad.Whoami(context.Background()); err == nil {
		t.Fatal("wrong token accepted")
	}
	list, err := admin.Events(context.Background(), api.EventQuery{Source: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range list.Events {
		events = append(events, ev.ID)
	}
	if len(events) != 3 {
		t.Fatalf("%d events stored", len(events))
	}
	// Wait until every delivery is final: oms succeeds, crm dead-letters
	// after a retry, legacy at once.
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range events {
		for {
			ev, err := admin.Event(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			final := 0
			for _, d := range ev.Deliveries {
				if d.State == "succeeded" || d.State == "dead" {
					final++
				}
			}
			if final == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s deliveries %+v", id, ev.Deliveries)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := admin.Alerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	slos, err := admin.SLOs(context.Background())
	if err != nil || len(slos.SLOs) != 9 { // three SLOs × three destinations
		t.Fatalf("slos %+v %v", slos, err)
	}
	resp, err := http.Get("http://" + srv.adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stop() // flush the shutdown log lines too

	out := logs.String()
	for _, want := range []string{`"msg":"signature rejected"`, `"msg":"request quarantined"`,
		`"msg":"delivery dead-lettered"`, `"msg":"admin API request denied"`, `"level":"DEBUG"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s: the scenario did not run as planned", want)
		}
	}
	if !bytes.Contains(metricsText, []byte(`hookyard_delivery_attempts_total{destination="crm",error_class="5xx",outcome="dead"} 3`)) {
		t.Errorf("metrics do not show the scenario:\n%s", metricsText)
	}
	canaries := []string{canarySourceSecret, canaryAdminToken, canaryWrongToken, canaryDestToken, canarySlackPath,
		canaryPDKey, canaryEmail, canaryBody, canaryForgedSig, signingKey}
	for _, s := range sigs {
		if s != "" {
			canaries = append(canaries, s)
		}
	}
	spanText := spanDump(t, spans.GetSpans())
	for _, name := range []string{tracing.SpanIngest, tracing.SpanAttempt, `"hookyard.outcome","Value":{"Type":"STRING","Value":"signature"}`} {
		if !strings.Contains(spanText, name) {
			t.Errorf("the spans lack %s: the scenario was not traced", name)
		}
	}
	for _, c := range canaries {
		if strings.Contains(spanText, c) {
			t.Errorf("a span contains %q", c)
		}
		if n := strings.Count(out, c); n > 0 {
			t.Errorf("log contains %q %d times", c, n)
		}
		if bytes.Contains(metricsText, []byte(c)) {
			t.Errorf("/metrics contains %q", c)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
}

// spanDump renders every exported span — names, attributes, status,
// events, links and resource — as JSON text to search.
func spanDump(t *testing.T, spans tracetest.SpanStubs) string {
	t.Helper()
	b, err := json.Marshal(spans)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
