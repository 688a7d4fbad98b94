package tracing

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookyard/hookyard/internal/webhook"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		on   bool
		fail string
	}{
		{env: nil, on: false},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, on: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, on: false},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, on: true},
		{env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, on: false},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, fail: "OTEL_TRACES_EXPORTER"},
	} {
		on, err := Enabled(env(tc.env))
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.fail)
			}
			continue
		}
		if err != nil || on != tc.on {
			t.Errorf("%v: on=%v err=%v, want on=%v", tc.env, on, err, tc.on)
		}
	}
}

func TestSetupErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"},
	} {
		tp, err := Setup(context.Background(), env(tc.env), "test")
		if tp != nil {
			tp.Shutdown(context.Background())
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
	tp, err := Setup(context.Background(), env(nil), "test")
	if tp != nil || err != nil {
		t.Errorf("tracing on without any OTEL_* variable: %v %v", tp, err)
	}
}

// TestSetupExportsOTLP: with only OTEL_EXPORTER_OTLP_ENDPOINT set, spans
// reach an OTLP/HTTP collector at <endpoint>/v1/traces, with hookyard's
// service name and the event's trace id.
func TestSetupExportsOTLP(t *testing.T) {
	var mu sync.Mutex
	var got []*coltrace.ExportTraceServiceRequest
	var paths []string
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := &coltrace.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		paths = append(paths, r.URL.Path+" "+r.Header.Get("Content-Type")+" "+r.Header.Get("X-Team"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer col.Close()
	// The exporter reads its settings from the process environment.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=payments")
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
	tp, err := Setup(context.Background(), os.Getenv, "v1.2.3")
	if err != nil || tp == nil {
		t.Fatalf("Setup: %v %v", tp, err)
	}
	tr := New(tp)
	_, span := tr.Ingest(context.Background(), "evt_otlp", "shop", "shopify")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || paths[0] != "/v1/traces application/x-protobuf payments" {
		t.Fatalf("collector got %d requests: %q", len(got), paths)
	}
	rs := got[0].ResourceSpans[0]
	res := map[string]string{}
	for _, kv := range rs.Resource.Attributes {
		res[kv.Key] = kv.Value.GetStringValue()
	}
	if res["service.name"] != "hookyard" || res["service.version"] != "v1.2.3" || res["deployment.environment"] != "test" {
		t.Errorf("resource: %v", res)
	}
	s := rs.ScopeSpans[0].Spans[0]
	if s.Name != SpanIngest || hex.EncodeToString(s.TraceId) != TraceID("evt_otlp") {
		t.Errorf("span %s trace %x", s.Name, s.TraceId)
	}
}

// TestEventTraceSampling: with a trace-id ratio sampler, every event's
// ingest and attempt spans are kept or dropped together, and about the
// configured share of events is kept.
func TestEventTraceSampling(t *testing.T) {
	for _, name := range []string{"traceidratio", "parentbased_traceidratio"} {
		base, err := samplerFromEnv(env(map[string]string{"OTEL_TRACES_SAMPLER": name, "OTEL_TRACES_SAMPLER_ARG": "0.25"}))
		if err != nil {
			t.Fatal(err)
		}
		exp := tracetest.NewInMemoryExporter()
		tp := NewProvider(base, sdktrace.WithSyncer(exp))
		tr := New(tp)
		const n = 2000
		for i := range n {
			id := fmt.Sprintf("evt_%06d", i)
			_, s := tr.Ingest(context.Background(), id, "shop", "shopify")
			s.End()
			_, a := tr.Attempt(context.Background(), &webhook.Event{ID: id}, &webhook.Delivery{ID: "dlv", Destination: "oms"}, 1)
			a.End()
		}
		kinds := map[string]map[string]bool{}
		for _, s := range exp.GetSpans() {
			id := s.SpanContext.TraceID().String()
			if kinds[id] == nil {
				kinds[id] = map[string]bool{}
			}
			kinds[id][s.Name] = true
		}
		for id, k := range kinds {
			if !k[SpanIngest] || !k[SpanAttempt] {
				t.Errorf("%s: trace %s kept only %v", name, id, k)
			}
		}
		if len(kinds) < n/4*7/10 || len(kinds) > n/4*13/10 {
			t.Errorf("%s: kept %d of %d events at ratio 0.25", name, len(kinds), n)
		}
		tp.Shutdown(context.Background())
	}
}

func TestEventIDs(t *testing.T) {
	a1, s1 := EventIDs("evt_a")
	a2, s2 := EventIDs("evt_a")
	b, _ := EventIDs("evt_b")
	if a1 != a2 || s1 != s2 || a1 == b || !a1.IsValid() || !s1.IsValid() {
		t.Errorf("ids: %v %v %v %v %v", a1, a2, s1, s2, b)
	}
	var nilTracer *Tracer
	ctx, span := nilTracer.Attempt(context.Background(), &webhook.Event{ID: "evt_a"}, &webhook.Delivery{}, 1)
	if span.IsRecording() || span.SpanContext().IsValid() || ctx != context.Background() {
		t.Error("a nil Tracer started a span or changed the context")
	}
}
