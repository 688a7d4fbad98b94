package transform

import (
	"errors"
	"strings"
	"testing"
)

func TestRiskScore(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	woo := sampleEnvelope(t, "woocommerce_order_created.json")
	cs := sampleEnvelope(t, "stripe_checkout_session_completed.json")
	defaults := DefaultRiskRules()
	tests := []struct {
		name  string
		input map[string]any
		src   string
		rules *RiskRules
		want  string
	}{
		{"shopify sample: high value only", shop, `risk_score`, nil, `{"reasons":["high_value"],"score":30}`},
		{"body as input", shop, `.body | risk_score`, nil, `{"reasons":["high_value"],"score":30}`},
		{"woo sample: nothing", woo, `risk_score`, nil, `{"reasons":[],"score":0}`},
		{"checkout: DE billing, AT shipping", cs, `risk_score`, nil, `{"reasons":["country_mismatch"],"score":25}`},
		{"country mismatch", shop, `.body.shipping_address.country_code = "CA" | risk_score`, nil,
			`{"reasons":["high_value","country_mismatch"],"score":55}`},
		{"country names compare case-blind", woo, `.body.shipping.country = "us" | risk_score`, nil, `{"reasons":[],"score":0}`},
		{"first-time customer (customer.orders_count)", woo, `.body.customer = {orders_count: 1} | risk_score`, nil,
			`{"reasons":["first_time_customer"],"score":15}`},
		{"first-time customer (orders_count)", woo, `.body.orders_count = 0 | risk_score`, nil,
			`{"reasons":["first_time_customer"],"score":15}`},
		{"returning customer", woo, `.body.orders_count = 7 | risk_score`, nil, `{"reasons":[],"score":0}`},
		{"velocity from the argument", woo, `risk_score({recent_orders: 3})`, nil, `{"reasons":["velocity"],"score":30}`},
		{"velocity below threshold", woo, `risk_score({recent_orders: 2})`, nil, `{"reasons":[],"score":0}`},
		{"velocity from the envelope", woo, `.recent_orders = 5 | risk_score`, nil, `{"reasons":["velocity"],"score":30}`},
		{"velocity from the order", woo, `.body.recent_orders = 5 | .body | risk_score`, nil, `{"reasons":["velocity"],"score":30}`},
		{"everything, capped at 100", shop,
			`.body.shipping_address.country_code = "CA" | .body.customer.orders_count = 1 | risk_score({recent_orders: 9})`,
			&RiskRules{HighValue: "100", HighValueScore: 40, CountryMismatchScore: 40, FirstTimeScore: 15, VelocityThreshold: 3, VelocityScore: 30},
			`{"reasons":["high_value","country_mismatch","first_time_customer","velocity"],"score":100}`},
		{"threshold per currency", shop, `.body.currency = "JPY" | risk_score`,
			&RiskRules{HighValue: "500", HighValueByCurrency: map[string]string{"JPY": "75000"}, HighValueScore: 30}, `{"reasons":[],"score":0}`},
		{"high value disabled", shop, `risk_score`, &RiskRules{}, `{"reasons":[],"score":0}`},
		{"zero score never a reason", shop, `risk_score`, &RiskRules{HighValue: "1", HighValueScore: 0}, `{"reasons":[],"score":0}`},
		{"at the threshold", shop, `risk_score`, &RiskRules{HighValue: "598.94", HighValueScore: 30}, `{"reasons":["high_value"],"score":30}`},
		{"just above it", shop, `risk_score`, &RiskRules{HighValue: "598.95", HighValueScore: 30}, `{"reasons":[],"score":0}`},
	}
	for _, tt := range tests {
		rules := tt.rules
		if rules == nil {
			rules = &defaults
		}
		got := mustEval(t, tt.src, tt.input, Options{Risk: rules})
		if !equalJSON(t, got, jsonValue(t, tt.want)) {
			t.Errorf("%s: %s, want %s", tt.name, asJSON(got), tt.want)
		}
	}
}

func TestRiskVelocityCounter(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	var asked []string
	rules := DefaultRiskRules()
	rules.HighValue = ""
	rules.Velocity = func(customer string) (int, error) {
		asked = append(asked, customer)
		if customer == "fail@example.com" {
			return 0, errors.New("counter down")
		}
		return 4, nil
	}
	got := mustEval(t, `risk_score`, shop, Options{Risk: &rules})
	if asJSON(got) != `{"reasons":["velocity"],"score":30}` || len(asked) != 1 || asked[0] != "bob.norman@mail.example.com" {
		t.Errorf("counter: %s, asked %q", asJSON(got), asked)
	}
	// An explicit count wins over the counter.
	asked = nil
	got = mustEval(t, `risk_score({recent_orders: 0})`, shop, Options{Risk: &rules})
	if asJSON(got) != `{"reasons":[],"score":0}` || len(asked) != 0 {
		t.Errorf("explicit count: %s, asked %q", asJSON(got), asked)
	}
	// Without an email the customer id keys the count.
	asked = nil
	mustEval(t, `del(.body.email, .body.contact_email, .body.customer.email) | risk_score`, shop, Options{Risk: &rules})
	if len(asked) != 1 || asked[0] != "id:207119551" {
		t.Errorf("asked %q, want the customer id", asked)
	}
	if _, err := eval(t, `.body.email = "fail@example.com" | risk_score`, shop, Options{Risk: &rules}); err == nil || !strings.Contains(err.Error(), "counter down") {
		t.Errorf("a failing counter: %v", err)
	}
	bad := DefaultRiskRules()
	bad.HighValue = "lots"
	if _, err := eval(t, `risk_score`, shop, Options{Risk: &bad}); err == nil || !strings.Contains(err.Error(), "high value threshold") {
		t.Errorf("a bad threshold: %v", err)
	}
}
