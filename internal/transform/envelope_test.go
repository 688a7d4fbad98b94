package transform

import (
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

func TestNewEnvelope(t *testing.T) {
	ev := &webhook.Event{
		ID:         "evt_1",
		Source:     "shop",
		Provider:   "shopify",
		Topic:      "orders/create",
		ReceivedAt: time.Date(2024, 5, 1, 14, 0, 0, 5, time.FixedZone("CEST", 2*3600)),
		Headers: http.Header{
			"Content-Type":           {"application/json"},
			"X-Shopify-Topic":        {"orders/create"},
			"X-Shopify-Hmac-Sha256":  {"c2VjcmV0"},
			"Stripe-Signature":       {"t=1,v1=abc"},
			"Authorization":          {"Bearer x"},
			"X-Api-Key":              {"k"},
			"X-Shopify-Access-Token": {"shpat_x"},
			"Cookie":                 {"a=b"},
			"X-Webhook-Secret":       {"s"},
			"X-Forwarded-For":        {"10.0.0.1", "10.0.0.2"},
		},
		Body: []byte(`{"id": 450789469, "total_price": "19.99", "rate": 0.06, "big": 123456789012345678901234567890, "exp": 1e3, "neg": -5}`),
	}
	env := NewEnvelope(ev)
	want := map[string]any{
		"source": "shop", "provider": "shopify", "topic": "orders/create", "id": "evt_1",
		"received_at": "2024-05-01T12:00:00.000000005Z",
		"headers": map[string]any{
			"content-type":    "application/json",
			"x-shopify-topic": "orders/create",
			"x-forwarded-for": []any{"10.0.0.1", "10.0.0.2"},
		},
	}
	for k, w := range want {
		if !equalJSON(t, env[k], w) {
			t.Errorf("envelope %s = %s, want %s", k, asJSON(env[k]), asJSON(w))
		}
	}
	body := env["body"].(map[string]any)
	if v, ok := body["id"].(int); !ok || v != 450789469 {
		t.Errorf("id = %#v, want int", body["id"])
	}
	if v, ok := body["total_price"].(string); !ok || v != "19.99" {
		t.Errorf("money string = %#v, want the string kept", body["total_price"])
	}
	if v, ok := body["rate"].(float64); !ok || v != 0.06 {
		t.Errorf("rate = %#v, want float64", body["rate"])
	}
	if v, ok := body["big"].(*big.Int); !ok || v.String() != "123456789012345678901234567890" {
		t.Errorf("big = %#v, want an exact *big.Int", body["big"])
	}
	if v, ok := body["exp"].(int); !ok || v != 1000 {
		t.Errorf("exp = %#v, want int 1000", body["exp"])
	}
	if v, ok := body["neg"].(int); !ok || v != -5 {
		t.Errorf("neg = %#v", body["neg"])
	}
	// The envelope is usable as jq input as is.
	if got := mustEval(t, `[.headers | keys[]] | join(",")`, env, Options{}); got != "content-type,x-forwarded-for,x-shopify-topic" {
		t.Errorf("header names seen by jq: %v", got)
	}
	if got := mustEval(t, `.body.big + 1 | tostring`, env, Options{}); got != "123456789012345678901234567891" {
		t.Errorf("big integer arithmetic: %v", got)
	}
}

func TestNewEnvelopeNonJSONBody(t *testing.T) {
	for _, body := range []string{"a=1&b=2", `{"a":1} trailing`, ""} {
		env := NewEnvelope(&webhook.Event{Body: []byte(body)})
		if env["body"] != body {
			t.Errorf("body %q → %#v, want the raw string", body, env["body"])
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		in   string
		want string // Go %#v of the decoded scalar
	}{
		{`42`, "42"},
		{`-9223372036854775808`, "-9223372036854775808"},
		{`9223372036854775808`, "9223372036854775808"}, // *big.Int
		{`1.5`, "1.5"},
		{`2.0`, "2"},
		{`1e400`, "+Inf"},
		{`"007"`, `"007"`},
	}
	for _, tt := range tests {
		v, err := DecodeJSON([]byte(tt.in))
		if err != nil {
			t.Errorf("DecodeJSON(%s): %v", tt.in, err)
			continue
		}
		if got := formatScalar(v); got != tt.want {
			t.Errorf("DecodeJSON(%s) = %s (%T), want %s", tt.in, got, v, tt.want)
		}
	}
	if _, err := DecodeJSON([]byte(`{} {}`)); err == nil {
		t.Error("DecodeJSON accepted two values")
	}
}

func formatScalar(v any) string {
	switch v := v.(type) {
	case *big.Int:
		return v.String()
	case string:
		return `"` + v + `"`
	case float64:
		return big.NewFloat(v).Text('g', -1)
	case int:
		return big.NewInt(int64(v)).String()
	}
	return "?"
}
