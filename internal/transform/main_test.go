package transform

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// samples maps a testdata file to the provider and topic that deliver it.
var samples = map[string][2]string{
	"shopify_orders_create.json":             {"shopify", "orders/create"},
	"woocommerce_order_created.json":         {"woocommerce", "order.created"},
	"stripe_payment_intent_succeeded.json":   {"stripe", "payment_intent.succeeded"},
	"stripe_checkout_session_completed.json": {"stripe", "checkout.session.completed"},
}

// sampleEvent returns the event hookyard would store for a testdata payload.
func sampleEvent(t testing.TB, file string) *webhook.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := samples[file]
	if !ok {
		t.Fatalf("no provider known for %s", file)
	}
	return &webhook.Event{
		ID:         "evt_01HZX3V6Q5J8K2M4N6P8R0T2W4",
		Source:     "shop",
		Provider:   s[0],
		Topic:      s[1],
		ReceivedAt: time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC),
		Headers:    http.Header{"Content-Type": {"application/json"}},
		Body:       body,
	}
}

// sampleEnvelope is NewEnvelope of sampleEvent.
func sampleEnvelope(t testing.TB, file string) map[string]any {
	t.Helper()
	return NewEnvelope(sampleEvent(t, file))
}

// eval compiles src and returns its first output.
func eval(t testing.TB, src string, input any, opts Options) (any, error) {
	t.Helper()
	p, err := Compile(src, opts)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return p.First(context.Background(), input)
}

// mustEval is eval failing the test on an error.
func mustEval(t testing.TB, src string, input any, opts Options) any {
	t.Helper()
	v, err := eval(t, src, input, opts)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// jsonValue decodes a JSON literal the way DecodeJSON does, for expectations.
func jsonValue(t testing.TB, s string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad JSON in test %q: %v", s, err)
	}
	return v
}

// equalJSON compares two values by their JSON encoding.
func equalJSON(t testing.TB, got, want any) bool {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	return reflect.DeepEqual(gv, wv)
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
