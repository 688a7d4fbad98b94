package transform

import (
	"errors"
	"strings"
	"testing"
)

func TestLineItemsFlat(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"shopify_orders_create.json", `[
			{"line_id":466157049,"order_id":450789469,"sku":"IPOD2008GREEN","name":"IPod Nano - 8gb - green","quantity":1,"unit_price":"199.00","subtotal":"199.00","discount":"3.34","tax":"3.98","line_total":"195.66"},
			{"line_id":518995019,"order_id":450789469,"sku":"IPOD2008RED","name":"IPod Nano - 8gb - red","quantity":1,"unit_price":"199.00","subtotal":"199.00","discount":"3.33","tax":"3.98","line_total":"195.67"},
			{"line_id":703073504,"order_id":450789469,"sku":"IPOD2008BLACK","name":"IPod Nano - 8gb - black","quantity":1,"unit_price":"199.00","subtotal":"199.00","discount":"3.33","tax":"3.98","line_total":"195.67"}]`},
		{"woocommerce_order_created.json", `[
			{"line_id":315,"order_id":727,"sku":null,"name":"Woo Single #1","quantity":2,"unit_price":"3.00","subtotal":"6.00","discount":"0.00","tax":"0.45","line_total":"6.00"},
			{"line_id":316,"order_id":727,"sku":"Bar3","name":"Ship Your Idea &ndash; Color: Black, Size: M Test","quantity":1,"unit_price":"12.00","subtotal":"12.00","discount":"0.00","tax":"0.90","line_total":"12.00"}]`},
		{"stripe_checkout_session_completed.json", `[
			{"line_id":"li_1QcsTest0001","order_id":"cs_test_a1B2c3D4e5F6g7H8","sku":"BEANS-1KG","name":"Espresso beans 1kg","quantity":2,"unit_price":"20.00","subtotal":"40.00","discount":"5.00","tax":"2.85","line_total":"35.00"},
			{"line_id":"li_1QcsTest0002","order_id":"cs_test_a1B2c3D4e5F6g7H8","sku":"prod_QcsWrap","name":"Gift wrap","quantity":1,"unit_price":"10.00","subtotal":"10.00","discount":"0.00","tax":"0.00","line_total":"10.00"}]`},
		{"stripe_payment_intent_succeeded.json", `[]`},
	}
	for _, tt := range tests {
		env := sampleEnvelope(t, tt.file)
		// The envelope, the body and (for Stripe) the event all work as input.
		for _, src := range []string{`line_items_flat`, `.body | line_items_flat`} {
			got := mustEval(t, src, env, Options{})
			if !equalJSON(t, got, jsonValue(t, tt.want)) {
				t.Errorf("%s: %s = %s\nwant %s", tt.file, src, asJSON(got), tt.want)
			}
		}
	}
}

func TestOrderTotals(t *testing.T) {
	tests := []struct {
		file string
		edit string // jq applied to the body first
		want string
	}{
		{"shopify_orders_create.json", `.`,
			`{"currency":"USD","subtotal":"597.00","discounts":"10.00","shipping":"0.00","fees":"0.00","tax":"11.94","total":"598.94","reported_total":"598.94","mismatch":false}`},
		{"shopify_orders_create.json", `.total_price = "600.00"`,
			`{"currency":"USD","subtotal":"597.00","discounts":"10.00","shipping":"0.00","fees":"0.00","tax":"11.94","total":"598.94","reported_total":"600.00","mismatch":true}`},
		{"shopify_orders_create.json", `.total_price = "598.940"`,
			`{"currency":"USD","subtotal":"597.00","discounts":"10.00","shipping":"0.00","fees":"0.00","tax":"11.94","total":"598.94","reported_total":"598.940","mismatch":false}`},
		{"shopify_orders_create.json", `.taxes_included = true | .total_price = "587.00"`,
			`{"currency":"USD","subtotal":"597.00","discounts":"10.00","shipping":"0.00","fees":"0.00","tax":"11.94","total":"587.00","reported_total":"587.00","mismatch":false}`},
		{"shopify_orders_create.json", `.shipping_lines[0] |= (.price = "7.50" | .discount_allocations = [{amount: "2.50"}] | .tax_lines = [{price: "0.45"}]) | .total_price = "604.39"`,
			`{"currency":"USD","subtotal":"597.00","discounts":"12.50","shipping":"7.50","fees":"0.00","tax":"12.39","total":"604.39","reported_total":"604.39","mismatch":false}`},
		{"shopify_orders_create.json", `.currency = "JPY" | .total_price = "599"`,
			`{"currency":"JPY","subtotal":"597.00","discounts":"10.00","shipping":"0.00","fees":"0","tax":"11.94","total":"598.94","reported_total":"599","mismatch":true}`},
		{"woocommerce_order_created.json", `.`,
			`{"currency":"USD","subtotal":"18.00","discounts":"0.00","shipping":"10.00","fees":"0.00","tax":"1.35","total":"29.35","reported_total":"29.35","mismatch":false}`},
		{"woocommerce_order_created.json", `.line_items[1].total = "10.80" | .fee_lines = [{total: "2.00", total_tax: "0.15"}] | .total = "29.70"`,
			`{"currency":"USD","subtotal":"18.00","discounts":"1.20","shipping":"10.00","fees":"2.00","tax":"1.50","total":"30.30","reported_total":"29.70","mismatch":true}`},
		{"woocommerce_order_created.json", `del(.total)`,
			`{"currency":"USD","subtotal":"18.00","discounts":"0.00","shipping":"10.00","fees":"0.00","tax":"1.35","total":"29.35","reported_total":"29.35","mismatch":false}`},
		{"stripe_payment_intent_succeeded.json", `.`,
			`{"currency":"USD","subtotal":"20.00","discounts":"0.00","shipping":"0.00","fees":"0.00","tax":"0.00","total":"20.00","reported_total":"20.00","mismatch":false}`},
		{"stripe_checkout_session_completed.json", `.`,
			`{"currency":"EUR","subtotal":"50.00","discounts":"5.00","shipping":"3.65","fees":"0.00","tax":"2.85","total":"51.50","reported_total":"51.50","mismatch":false}`},
		{"stripe_checkout_session_completed.json", `.data.object.amount_total = 5000`,
			`{"currency":"EUR","subtotal":"50.00","discounts":"5.00","shipping":"3.65","fees":"0.00","tax":"2.85","total":"51.50","reported_total":"50.00","mismatch":true}`},
	}
	for _, tt := range tests {
		env := sampleEnvelope(t, tt.file)
		got := mustEval(t, `.body |= (`+tt.edit+`) | order_totals`, env, Options{})
		if !equalJSON(t, got, jsonValue(t, tt.want)) {
			t.Errorf("%s with %s:\n got %s\nwant %s", tt.file, tt.edit, asJSON(got), tt.want)
		}
	}
}

func TestOrderFunctionsReject(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	tests := []struct {
		src  string
		msg  string
		path string
	}{
		{`"x" | order_totals`, "input must be an order object", ""},
		{`{a: 1} | line_items_flat`, "cannot tell which platform", ""},
		{`.body.line_items[0].quantity = "one" | .body | line_items_flat`, "quantity must be an integer", ".line_items[0].quantity"},
		{`.body.line_items[2].tax_lines[0].price = "3,98" | order_totals`, `"3,98" is not a decimal amount`, ".body.line_items[2].tax_lines[0].price"},
		{`.body.total_price = true | .body | order_totals`, "a boolean is not a decimal amount", ".total_price"},
		{`del(.body.currency, .body.presentment_currency) | order_totals`, "no currency", ".body.currency"},
		{`.provider = "stripe" | canonical_order`, "does not hold an order", ".body"},
		{`.body.shipping_lines[0].tax_lines = [{price: "0.10"}, {price: "x"}] | order_totals`, `"x" is not a decimal amount`, ".body.shipping_lines[0].tax_lines[1].price"},
		{`.body.line_items[1].discount_allocations[0].amount = [] | line_items_flat`, "an array is not a decimal amount", ".body.line_items[1].discount_allocations[0].amount"},
		{`.body.currency = "dollars" | canonical_order`, "ISO 4217", ".body.currency"},
	}
	for _, tt := range tests {
		_, err := eval(t, tt.src, shop, Options{})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Message, tt.msg) || e.Path != tt.path {
			t.Errorf("%s: got %v (path %q); want %q at %q", tt.src, err, pathOf(e), tt.msg, tt.path)
		}
	}
}

func TestStripeAmountErrors(t *testing.T) {
	pi := sampleEnvelope(t, "stripe_payment_intent_succeeded.json")
	cs := sampleEnvelope(t, "stripe_checkout_session_completed.json")
	tests := []struct {
		input map[string]any
		src   string
		path  string
	}{
		{pi, `.body.data.object.amount = "20 dollars" | order_totals`, ".body.data.object.amount"},
		{cs, `.body.data.object.total_details.amount_tax = true | canonical_order`, ".body.data.object.total_details.amount_tax"},
		{cs, `.body.data.object.line_items.data[1].price.unit_amount = "x" | line_items_flat`, ".body.data.object.line_items.data[1].price.unit_amount"},
		{cs, `.body.data.object.line_items.data[0].quantity = 1.5 | line_items_flat`, ".body.data.object.line_items.data[0].quantity"},
	}
	for _, tt := range tests {
		_, err := eval(t, tt.src, tt.input, Options{})
		var e *Error
		if !errors.As(err, &e) || e.Path != tt.path {
			t.Errorf("%s: %v (path %q), want path %q", tt.src, err, pathOf(e), tt.path)
		}
	}
}

func pathOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Path
}
