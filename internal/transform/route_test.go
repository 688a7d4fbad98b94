package transform

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/webhook"
)

func TestFilter(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	woo := sampleEnvelope(t, "woocommerce_order_created.json")
	tests := []struct {
		src     string
		input   map[string]any
		want    bool
		wantErr bool
	}{
		{`.topic == "orders/create" and (.body.total_price | tonumber) > 0`, shop, true, false},
		{`.topic == "orders/create" and (.body.total_price | tonumber) > 0`, woo, false, false},
		{`.topic == "orders/create" and (.body.total_price | tonumber) > 1000`, shop, false, false},
		{`(.body | order_totals | .mismatch) | not`, shop, true, false},
		{`.body.no_such_field`, shop, false, false}, // null: not routed
		{`empty`, shop, false, false},
		{`.body.total_price`, shop, false, true}, // a string is not a boolean
		{`.body.line_items`, shop, false, true},
		{`.body.total_price | tonumber > 0`, woo, false, true}, // jq error: null | tonumber
	}
	for _, tt := range tests {
		p, err := Compile(tt.src, Options{Name: "filter"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Filter(context.Background(), tt.input)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Filter(%s) on %s = %v, %v; want %v, error %v", tt.src, tt.input["provider"], got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrFailed) {
			t.Errorf("Filter(%s) error %v is not ErrFailed", tt.src, err)
		}
	}
}

func TestPriority(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	tests := []struct {
		src     string
		want    int
		wantErr bool
	}{
		{`if (.body.total_price | tonumber) >= 500 then "high" else "normal" end`, webhook.PriorityHigh, false},
		{`if (.body.total_price | tonumber) >= 1000 then "high" else "normal" end`, webhook.PriorityNormal, false},
		{`if (.body | risk_score | .score) >= 30 then "high" else "low" end`, webhook.PriorityHigh, false},
		{`"low"`, webhook.PriorityLow, false},
		{`null`, webhook.PriorityNormal, false},
		{`empty`, webhook.PriorityNormal, false},
		{`"urgent"`, webhook.PriorityNormal, true},
		{`"HIGH"`, webhook.PriorityNormal, true},
		{`0`, webhook.PriorityNormal, true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Priority(context.Background(), shop)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Priority(%s) = %v, %v; want %v, error %v", tt.src, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOrderingKey(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	big, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	tests := []struct {
		src     string
		input   any
		want    string
		wantErr bool
	}{
		{`.body.id`, shop, "450789469", false},
		{`.body.customer.id | "customer:" + tostring`, shop, "customer:207119551", false},
		{`.body.name`, shop, "#1001", false},
		{`.body.no_such_field`, shop, "", false},
		{`empty`, shop, "", false},
		{`1.5`, nil, "1.5", false},
		{`1e15`, nil, "1000000000000000", false},
		{`.`, big, "123456789012345678901234567890", false},
		{`.body.customer`, shop, "", true},
		{`true`, nil, "", true},
		{`"x" * 600`, nil, "", true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.OrderingKey(context.Background(), tt.input)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("OrderingKey(%s) = %q, %v; want %q, error %v", tt.src, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "ordering key") {
			t.Errorf("OrderingKey(%s) error %q does not say what is wrong", tt.src, err)
		}
	}
}
