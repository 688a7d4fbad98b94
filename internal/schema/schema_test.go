package schema

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const orderSchema = `{
  "type": "object",
  "required": ["id", "line_items", "currency"],
  "properties": {
    "id": {"type": "integer"},
    "currency": {"type": "string", "minLength": 3},
    "financial_status": {"enum": ["pending", "paid", "refunded"]},
    "total_price": {"type": "string"},
    "line_items": {"type": "array", "items": {
      "type": "object", "required": ["quantity"],
      "properties": {"quantity": {"type": "integer", "minimum": 1}, "price": {"type": "string"}}
    }}
  }
}`

func TestValidate(t *testing.T) {
	s, err := Parse([]byte(orderSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body, wantPath string
	}{
		{"valid", `{"id":1,"currency":"USD","line_items":[{"quantity":2,"price":"1.00"}]}`, ""},
		{"missing required", `{"id":1,"line_items":[]}`, "$.currency"},
		{"wrong type", `{"id":"1","currency":"USD","line_items":[]}`, "$.id"},
		{"float is not integer", `{"id":1.5,"currency":"USD","line_items":[]}`, "$.id"},
		{"nested item", `{"id":1,"currency":"USD","line_items":[{"quantity":1},{"quantity":1,"price":19.99}]}`, "$.line_items[1].price"},
		{"minimum", `{"id":1,"currency":"USD","line_items":[{"quantity":0}]}`, "$.line_items[0].quantity"},
		{"minLength", `{"id":1,"currency":"US","line_items":[]}`, "$.currency"},
		{"enum", `{"id":1,"currency":"USD","line_items":[],"financial_status":"stolen"}`, "$.financial_status"},
		{"root type", `[1,2]`, "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate([]byte(tt.body))
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("unexpected violation: %v", err)
				}
				return
			}
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("err = %v, want a violation at %s", err, tt.wantPath)
			}
			if v.Path != tt.wantPath {
				t.Fatalf("violation at %s (%s), want %s", v.Path, v.Msg, tt.wantPath)
			}
		})
	}
}

func TestParseRejectsUnsupported(t *testing.T) {
	for _, doc := range []string{`{"oneOf":[]}`, `{"type":"decimal"}`, `[]`, `{"required":"id"}`, `nope`} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s) accepted an unsupported schema", doc)
		}
	}
}

func TestSamplePayloadPasses(t *testing.T) {
	s, _ := Parse([]byte(`{"type":"object","required":["id","line_items"],"properties":{"id":{"type":"integer"},"line_items":{"type":"array","items":{"type":"object","required":["quantity","price"]}}}}`))
	body, err := os.ReadFile("../../examples/payloads/shopify_orders_create.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(body); err != nil {
		t.Fatalf("the Shopify sample order violates a minimal order schema: %v", err)
	}
	if err := s.Validate([]byte(strings.Replace(string(body), "\n  \"line_items\"", "\n  \"items\"", 1))); err == nil {
		t.Fatal("renamed line_items not caught")
	}
}
