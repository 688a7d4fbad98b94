package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/verify"
)

// startTracedNode runs a real node (SQLite in a temp dir) whose spans go
// to an in-memory exporter. cfgText is the whole config after storage.
func startTracedNode(t *testing.T, body string, logger *slog.Logger) (*server, *tracetest.InMemoryExporter, func()) {
	t.Helper()
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_timeout: 2s
  allow_private: [127.0.0.1]
storage:
  path: %s
%s`, filepath.Join(dir, "hookyard.db"), body)
	path := filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" }, config.Options{Providers: verify.Names()})
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := tracing.NewProvider(nil, sdktrace.WithSyncer(exp))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, logger, false, withTracing(tp))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
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
	for {
		ev, err := client.Event(context.Background(), ack.ID)
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
