package transform

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// exampleDir holds the example transforms shipped with hookyard.
const exampleDir = "../../examples/transforms"

func compileExample(t testing.TB, name string) *Program {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(exampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	tables := NewTables(nil)
	if err := tables.Load("skus", "testdata/skus.csv", ""); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(string(src), Options{Name: name, PIIKey: []byte("example-pii-key"), Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleOMSSlim(t *testing.T) {
	p := compileExample(t, "oms-slim.jq")
	out, err := p.Run(context.Background(), sampleEnvelope(t, "shopify_orders_create.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{
		"external_id": "450789469", "order_number": "#1001", "channel": "shopify",
		"placed_at": "2008-01-10T16:00:00Z", "currency": "USD",
		"total_minor": 59894, "tax_minor": 1194, "shipping_minor": 0, "totals_verified": true,
		"customer": {"email": "bob.norman@mail.example.com", "name": "Bob Norman"},
		"ship_to": {"name": "Bob Norman", "line1": "Chestnut Street 92", "line2": null, "city": "Louisville",
			"region": "KY", "postcode": "40202", "country": "US", "phone": "+1(502)-459-2181"},
		"lines": [
			{"sku": "IPOD2008GREEN", "qty": 1, "unit_price_minor": 19900, "discount_minor": 334, "warehouse": "LOU1"},
			{"sku": "IPOD2008RED", "qty": 1, "unit_price_minor": 19900, "discount_minor": 333, "warehouse": "LOU1"},
			{"sku": "IPOD2008BLACK", "qty": 1, "unit_price_minor": 19900, "discount_minor": 333, "warehouse": "SEA2"}],
		"hookyard": {"event_id": "evt_01HZX3V6Q5J8K2M4N6P8R0T2W4", "received_at": "2024-05-01T12:00:00.123456789Z"}
	}]`
	if !equalJSON(t, out, jsonValue(t, want)) {
		t.Errorf("oms-slim:\n got %s\nwant %s", asJSON(out), want)
	}
}

func TestExampleWarehouseRows(t *testing.T) {
	p := compileExample(t, "warehouse-rows.jq")
	custKey := HashPII([]byte("example-pii-key"), "bob.norman@mail.example.com")
	tests := []struct {
		file string
		want string // jq over the output that must be true
	}{
		{"shopify_orders_create.json", `.fact_orders == [{
			"order_key": "shopify:450789469", "platform": "shopify", "order_id": "450789469", "order_number": "1001",
			"created_at": "2008-01-10T16:00:00Z", "currency": "USD", "customer_key": "` + custKey + `",
			"subtotal": "597.00", "discount": "10.00", "shipping": "0.00", "tax": "11.94", "total": "598.94",
			"line_count": 3, "units": 3, "status": "processing", "financial_status": "partially_refunded",
			"event_id": "evt_01HZX3V6Q5J8K2M4N6P8R0T2W4", "loaded_at": "2024-05-01T12:00:00.123456789Z"}]
			and (.dim_line_items | length == 3)
			and .dim_line_items[0] == {"order_key": "shopify:450789469", "line_id": "466157049", "sku": "IPOD2008GREEN",
				"name": "IPod Nano - 8gb - green", "quantity": 1, "unit_price": "199.00", "discount": "3.34",
				"tax": "3.98", "line_total": "195.66", "currency": "USD"}`},
		{"woocommerce_order_created.json", `.fact_orders[0].order_key == "woocommerce:727" and .fact_orders[0].total == "29.35"
			and .fact_orders[0].units == 3 and ([.dim_line_items[].sku] == [null, "Bar3"])`},
		{"stripe_payment_intent_succeeded.json", `.fact_orders[0].total == "20.00" and .fact_orders[0].customer_key == null
			and .fact_orders[0].units == 0 and .dim_line_items == []`},
		{"stripe_checkout_session_completed.json", `.fact_orders[0].order_number == "R-1042" and .fact_orders[0].total == "51.50"
			and (.dim_line_items | map(.line_total) == ["35.00", "10.00"])`},
	}
	for _, tt := range tests {
		out, err := p.First(context.Background(), sampleEnvelope(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if ok := mustEval(t, tt.want, out, Options{}); ok != true {
			t.Errorf("%s: %s does not hold for\n%s", tt.file, tt.want, asJSON(out))
		}
	}
}

func TestExampleCRMPatch(t *testing.T) {
	p := compileExample(t, "crm-patch.jq")
	out, err := p.Run(context.Background(), sampleEnvelope(t, "shopify_orders_create.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op": "upsert", "match": {"email": "bob.norman@mail.example.com"},
		"set": {"name": "Bob Norman", "lifecycle_stage": "customer",
			"last_order": {"id": "450789469", "number": "1001", "platform": "shopify", "at": "2008-01-10T16:00:00Z",
				"total": "598.94", "currency": "USD", "status": "processing"},
			"phone_hash": "` + HashPII([]byte("example-pii-key"), "+557734881234") + `",
			"risk": {"score": 30, "reasons": ["high_value"]}},
		"add_tags": ["bought:shopify"]}]`
	if !equalJSON(t, out, jsonValue(t, want)) {
		t.Errorf("crm-patch:\n got %s\nwant %s", asJSON(out), want)
	}
	// The checkout session's customer is in DE and ships to AT.
	out, err = p.Run(context.Background(), sampleEnvelope(t, "stripe_checkout_session_completed.json"))
	if err != nil || len(out) != 1 {
		t.Fatalf("checkout session: %v, %v", out, err)
	}
	if got := mustEval(t, `[.match.email, .set.risk.reasons, .set.phone_hash != null]`, out[0], Options{}); asJSON(got) != `["jenny.rosen@example.com",["country_mismatch"],true]` {
		t.Errorf("checkout session patch: %s", asJSON(got))
	}
	// A PaymentIntent without a receipt email: nobody to patch, no output.
	out, err = p.Run(context.Background(), sampleEnvelope(t, "stripe_payment_intent_succeeded.json"))
	if err != nil || len(out) != 0 {
		t.Errorf("payment intent: %v, %v; want no output", asJSON(out), err)
	}
}

// BenchmarkTransform measures the example transforms over the sample events:
// "run" is the transform on a ready envelope (what the worker pays per
// delivery once the event is decoded); "envelope+run" adds decoding the
// body into the envelope.
func BenchmarkTransform(b *testing.B) {
	cases := []struct{ transform, sample string }{
		{"oms-slim.jq", "shopify_orders_create.json"},
		{"warehouse-rows.jq", "shopify_orders_create.json"},
		{"crm-patch.jq", "shopify_orders_create.json"},
		{"warehouse-rows.jq", "woocommerce_order_created.json"},
	}
	for _, c := range cases {
		p := compileExample(b, c.transform)
		ev := sampleEvent(b, c.sample)
		env := NewEnvelope(ev)
		name := c.transform + "/" + c.sample[:len(c.sample)-len(filepath.Ext(c.sample))]
		b.Run(name+"/run", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.RunJSON(context.Background(), env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/envelope+run", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.RunJSON(context.Background(), NewEnvelope(ev)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRouteFields measures the ingest-time expressions of the issue's
// example route.
func BenchmarkRouteFields(b *testing.B) {
	env := sampleEnvelope(b, "shopify_orders_create.json")
	filter, _ := Compile(`.topic == "orders/create" and (.body.total_price | tonumber) > 0`, Options{})
	prio, _ := Compile(`if (.body.total_price | tonumber) >= 500 then "high" else "normal" end`, Options{})
	key, _ := Compile(`.body.id`, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := filter.Filter(context.Background(), env); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if _, err := prio.Priority(context.Background(), env); err != nil {
			b.Fatal(err)
		}
		if _, err := key.OrderingKey(context.Background(), env); err != nil {
			b.Fatal(err)
		}
	}
}
