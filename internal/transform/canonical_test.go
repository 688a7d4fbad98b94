package transform

import "testing"

func TestCanonicalOrder(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"shopify_orders_create.json", `{
			"id": "450789469", "source_platform": "shopify", "number": "1001", "currency": "USD",
			"created_at": "2008-01-10T16:00:00Z",
			"customer": {"email": "bob.norman@mail.example.com", "name": "Bob Norman"},
			"lines": [
				{"sku": "IPOD2008GREEN", "name": "IPod Nano - 8gb - green", "quantity": 1, "unit_price": "199.00", "total": "195.66"},
				{"sku": "IPOD2008RED", "name": "IPod Nano - 8gb - red", "quantity": 1, "unit_price": "199.00", "total": "195.67"},
				{"sku": "IPOD2008BLACK", "name": "IPod Nano - 8gb - black", "quantity": 1, "unit_price": "199.00", "total": "195.67"}],
			"totals": {"subtotal": "597.00", "discount": "10.00", "shipping": "0.00", "tax": "11.94", "total": "598.94"},
			"status": "processing", "financial_status": "partially_refunded"}`},
		{"woocommerce_order_created.json", `{
			"id": "727", "source_platform": "woocommerce", "number": "727", "currency": "USD",
			"created_at": "2017-03-22T19:28:02Z",
			"customer": {"email": "john.doe@example.com", "name": "John Doe"},
			"lines": [
				{"sku": null, "name": "Woo Single #1", "quantity": 2, "unit_price": "3.00", "total": "6.00"},
				{"sku": "Bar3", "name": "Ship Your Idea &ndash; Color: Black, Size: M Test", "quantity": 1, "unit_price": "12.00", "total": "12.00"}],
			"totals": {"subtotal": "18.00", "discount": "0.00", "shipping": "10.00", "tax": "1.35", "total": "29.35"},
			"status": "processing", "financial_status": "paid"}`},
		{"stripe_payment_intent_succeeded.json", `{
			"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "source_platform": "stripe", "number": null, "currency": "USD",
			"created_at": "2023-04-06T17:01:44Z",
			"customer": {"email": null, "name": null},
			"lines": [],
			"totals": {"subtotal": "20.00", "discount": "0.00", "shipping": "0.00", "tax": "0.00", "total": "20.00"},
			"status": "completed", "financial_status": "paid"}`},
		{"stripe_checkout_session_completed.json", `{
			"id": "cs_test_a1B2c3D4e5F6g7H8", "source_platform": "stripe", "number": "R-1042", "currency": "EUR",
			"created_at": "2024-07-01T13:19:50Z",
			"customer": {"email": "Jenny.Rosen@Example.com", "name": "Jenny Rosen"},
			"lines": [
				{"sku": "BEANS-1KG", "name": "Espresso beans 1kg", "quantity": 2, "unit_price": "20.00", "total": "35.00"},
				{"sku": "prod_QcsWrap", "name": "Gift wrap", "quantity": 1, "unit_price": "10.00", "total": "10.00"}],
			"totals": {"subtotal": "50.00", "discount": "5.00", "shipping": "3.65", "tax": "2.85", "total": "51.50"},
			"status": "completed", "financial_status": "paid"}`},
	}
	for _, tt := range tests {
		env := sampleEnvelope(t, tt.file)
		want := jsonValue(t, tt.want)
		for _, src := range []string{
			`canonical_order`,                         // envelope: platform from the provider
			`.provider = "generic" | canonical_order`, // envelope: platform from the body's shape
			`.body | canonical_order`,                 // body alone
		} {
			got := mustEval(t, src, env, Options{})
			if !equalJSON(t, got, want) {
				t.Errorf("%s: %s\n got %s\nwant %s", tt.file, src, asJSON(got), asJSON(want))
			}
		}
	}
}

func TestCanonicalOrderStatus(t *testing.T) {
	shop := sampleEnvelope(t, "shopify_orders_create.json")
	woo := sampleEnvelope(t, "woocommerce_order_created.json")
	pi := sampleEnvelope(t, "stripe_payment_intent_succeeded.json")
	cs := sampleEnvelope(t, "stripe_checkout_session_completed.json")
	tests := []struct {
		input map[string]any
		edit  string
		want  string
	}{
		{shop, `.cancelled_at = "2024-01-01T00:00:00Z"`, `["cancelled","partially_refunded"]`},
		{shop, `.financial_status = "paid" | .fulfillment_status = "fulfilled"`, `["completed","paid"]`},
		{shop, `.financial_status = "pending"`, `["pending","pending"]`},
		{shop, `.financial_status = "refunded"`, `["refunded","refunded"]`},
		{woo, `.status = "on-hold"`, `["on_hold","pending"]`},
		{woo, `.status = "completed"`, `["completed","paid"]`},
		{woo, `.status = "completed" | .refunds = [{id: 1, total: "-1.00"}]`, `["completed","partially_refunded"]`},
		{woo, `.status = "cancelled"`, `["cancelled","voided"]`},
		{woo, `.status = "failed"`, `["failed","failed"]`},
		{woo, `.status = "refunded"`, `["refunded","refunded"]`},
		{woo, `.status = "custom-status"`, `["custom-status","custom-status"]`},
		{pi, `.data.object.status = "requires_capture"`, `["processing","authorized"]`},
		{pi, `.data.object.status = "canceled"`, `["cancelled","voided"]`},
		{pi, `.data.object.status = "requires_payment_method"`, `["pending","pending"]`},
		{pi, `.data.object.amount_received = 1000`, `["completed","partially_paid"]`},
		{cs, `.data.object.status = "expired" | .data.object.payment_status = "unpaid"`, `["cancelled","pending"]`},
		{cs, `.data.object.status = "open"`, `["pending","paid"]`},
	}
	for _, tt := range tests {
		got := mustEval(t, `.body |= (`+tt.edit+`) | canonical_order | [.status, .financial_status]`, tt.input, Options{})
		if asJSON(got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.edit, asJSON(got), tt.want)
		}
	}
}

func TestCanonicalOrderJPY(t *testing.T) {
	// A zero-decimal currency: Stripe's minor units are whole yen.
	pi := sampleEnvelope(t, "stripe_payment_intent_succeeded.json")
	got := mustEval(t, `.body.data.object.currency = "jpy" | canonical_order | [.currency, .totals.total]`, pi, Options{})
	if asJSON(got) != `["JPY","2000"]` {
		t.Errorf("JPY payment intent: %s", asJSON(got))
	}
}
