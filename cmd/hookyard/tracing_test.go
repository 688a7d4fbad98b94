package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/tracing"
)

// startTracedNode runs a real node (SQLite in a temp dir) whose spans go
// to an in-memory exporter. cfgText is the whole config after storage.
func startTracedNode(t *testing.T, body string, logger *slog.Logger) (*server, *tracetest.InMemoryExporter, func()) {
	t.Helper()
	cfg := testNodeConfig(t, t.TempDir(), "%s", body)
	exp := tracetest.NewInMemoryExporter()
	tp := tracing.NewProvider(nil, sdktrace.WithSyncer(exp))
	srv, cancel := serveTest(t, cfg, logger, withTracing(tp))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	}
	// The in-memory exporter forgets its spans on Shutdown: last.
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	t.Cleanup(stop)
	return srv, exp, stop
}

// TestTracing: an event retried once produces one trace — the ingest span
// as root, one attempt span per attempt as its children, a transform span
// under each attempt — and each request at the destination carries a W3C
// traceparent naming its attempt span.
func TestTracing(t *testing.T) {
	sk := newSink(t, func(n int) int {
		if n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	srv, exp, stop := startTracedNode(t, fmt.Sprintf(`admin:
  tokens:
    - {name: ops, token: %s, role: admin}
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
%s
routes:
  - {name: to-oms, source: shop, destination: oms, transform: '{order: .body.id}'}
`, adminToken, testSecret, httpDest("oms", sk.srv.URL, "")), slog.New(slog.DiscardHandler))

	resp, out := post(t, "http://"+srv.publicAddr+"/ingest/shop", orderBody(7), "trace-1")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", resp.StatusCode, out)
	}
	var ack struct{ ID string }
	if err := json.Unmarshal(out, &ack); err != nil {
		t.Fatal(err)
	}
	first, second := sk.next(t), sk.next(t)
	// Wait until the success is recorded (the attempt span ends after).
	client := &api.Client{BaseURL: "http://" + srv.adminAddr, Token: adminToken, HTTP: http.DefaultClient}
	deadline := time.Now().Add(10 * time.Second)
	var ev api.Event
	for {
		var err error
		ev, err = client.Event(context.Background(), ack.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Deliveries) == 1 && ev.Deliveries[0].State == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not done: %+v", ev.Deliveries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	spans := exp.GetSpans()
	byName := map[string][]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	if len(byName[tracing.SpanIngest]) != 1 || len(byName[tracing.SpanAttempt]) != 2 || len(byName[tracing.SpanTransform]) != 2 {
		t.Fatalf("spans: %d ingest, %d attempt, %d transform", len(byName[tracing.SpanIngest]),
			len(byName[tracing.SpanAttempt]), len(byName[tracing.SpanTransform]))
	}
	ing := byName[tracing.SpanIngest][0]
	if got := ing.SpanContext.TraceID().String(); got != tracing.TraceID(ack.ID) {
		t.Errorf("trace id %s, want the one derived from %s: %s", got, ack.ID, tracing.TraceID(ack.ID))
	}
	if got := ing.SpanContext.TraceID().String(); ev.TraceID != got {
		t.Errorf("the admin API shows trace id %q, the spans have %s", ev.TraceID, got)
	}
	if ing.Parent.IsValid() {
		t.Errorf("the ingest span has a parent: %v", ing.Parent)
	}
	attrs := func(s tracetest.SpanStub) map[string]string {
		m := map[string]string{}
		for _, kv := range s.Attributes {
			m[string(kv.Key)] = kv.Value.Emit()
		}
		return m
	}
	if a := attrs(ing); a["hookyard.event_id"] != ack.ID || a["hookyard.outcome"] != "accepted" ||
		a["hookyard.source"] != "shop" || a["hookyard.topic"] != "orders/create" {
		t.Errorf("ingest attributes: %v", a)
	}
	attempts := byName[tracing.SpanAttempt]
	headers := []http.Header{first.header, second.header}
	for i, at := range attempts {
		a := attrs(at)
		if at.SpanContext.TraceID() != ing.SpanContext.TraceID() || at.Parent.SpanID() != ing.SpanContext.SpanID() {
			t.Errorf("attempt %d is not a child of the ingest span: parent %v", i+1, at.Parent)
		}
		if a["hookyard.event_id"] != ack.ID || a["hookyard.destination"] != "oms" || a["hookyard.route"] != "to-oms" ||
			a["hookyard.attempt"] != fmt.Sprint(i+1) {
			t.Errorf("attempt %d attributes: %v", i+1, a)
		}
		want := fmt.Sprintf("00-%s-%s-01", at.SpanContext.TraceID(), at.SpanContext.SpanID())
		if got := headers[i].Get("Traceparent"); got != want {
			t.Errorf("attempt %d: destination saw traceparent %q, want %q", i+1, got, want)
		}
	}
	if a := attrs(attempts[0]); a["hookyard.state"] != "pending" || a["hookyard.error_class"] != "5xx" ||
		a["http.response.status_code"] != "503" {
		t.Errorf("failed attempt attributes: %v", a)
	}
	if a := attrs(attempts[1]); a["hookyard.state"] != "succeeded" || a["http.response.status_code"] != "200" {
		t.Errorf("successful attempt attributes: %v", a)
	}
	for _, tr := range byName[tracing.SpanTransform] {
		parent := -1
		for i, at := range attempts {
			if tr.Parent.SpanID() == at.SpanContext.SpanID() {
				parent = i
			}
		}
		if parent < 0 {
			t.Errorf("transform span %v is not a child of an attempt", tr.SpanContext.SpanID())
		}
	}
}

// TestTracingOffByDefault: a node started without a tracer provider sends
// no traceparent.
func TestTracingOffByDefault(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}\n")
	if resp, out := post(t, n.ingestURL("shop"), orderBody(1), "off-1"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", resp.StatusCode, out)
	}
	got := sk.next(t)
	for k := range got.header {
		if strings.EqualFold(k, "traceparent") || strings.EqualFold(k, "tracestate") {
			t.Errorf("tracing is off, yet the destination saw %s", k)
		}
	}
}

// TestServeExportsOTLP runs `hookyard serve` as a user would, with only
// OTEL_EXPORTER_OTLP_ENDPOINT set: the ingest and attempt spans of a
// delivered webhook reach the OTLP/HTTP collector, at the latest when the
// node shuts down.
func TestServeExportsOTLP(t *testing.T) {
	var mu sync.Mutex
	var names []string
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := &coltrace.ExportTraceServiceRequest{}
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer col.Close()
	// The exporter reads the process environment (t.Setenv: not parallel).
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	sk := newSink(t, nil)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hookyard.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
  path: %s
sources:
  - {name: shop, provider: shopify, secrets: ["%s"]}
destinations:
%s
routes:
  - {source: shop, destination: oms}
`, filepath.Join(dir, "hookyard.db"), testSecret, httpDest("oms", sk.srv.URL, ""))), 0o600)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath}, os.Getenv, strings.NewReader(""), io.Discard, logs)
	}()
	var public string
	deadline := time.Now().Add(10 * time.Second)
	for public == "" {
		for line := range strings.Lines(logs.String()) {
			var l struct{ Msg, Public string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				public = l.Public
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp, out := post(t, "http://"+public+"/ingest/shop", orderBody(1), "otlp-1"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", resp.StatusCode, out)
	}
	if got := sk.next(t); got.header.Get("Traceparent") == "" {
		t.Error("no traceparent at the destination")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(names, tracing.SpanIngest) || !slices.Contains(names, tracing.SpanAttempt) {
		t.Errorf("collector got spans %q", names)
	}
	if !strings.Contains(logs.String(), "tracing on") {
		t.Error("serve did not say tracing is on")
	}
}

// TestServeTracingEnvErrors: a tracing setting hookyard cannot honour stops
// serve at start, naming the variable.
func TestServeTracingEnvErrors(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}[k]
	}
	cfgPath := filepath.Join(t.TempDir(), "hookyard.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("storage:\n  path: %s\n", filepath.Join(t.TempDir(), "h.db"))), 0o600)
	err := run(context.Background(), []string{"serve", "--config", cfgPath}, getenv, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Fatalf("serve: %v", err)
	}
}
