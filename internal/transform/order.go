package transform

import (
	"math/big"
	"strings"
)

// Platforms canonical_order and its relatives understand.
const (
	platformShopify     = "shopify"
	platformWooCommerce = "woocommerce"
	platformStripe      = "stripe"
)

// order is an order (or payment) document with the platform it came from.
type order struct {
	platform string
	doc      map[string]any
	path     string // where doc sits in the function's input: "", ".body", ".body.data.object"
}

// detectOrder finds the order in v — an envelope, a provider body or a
// Stripe event — and which platform sent it: the envelope's provider when it
// names one of the three, else the body's shape.
func detectOrder(fn string, v any) (order, error) {
	doc, ok := v.(map[string]any)
	if !ok {
		return order{}, fail(fn, "", "input must be an order object or an event envelope, got %s", typeName(v))
	}
	o := order{doc: doc}
	if body, ok := doc["body"].(map[string]any); ok && (doc["topic"] != nil || doc["provider"] != nil) {
		p, _ := doc["provider"].(string)
		o.platform = platformFromProvider(p)
		o.doc, o.path = body, ".body"
	}
	if o.doc["object"] == "event" {
		if obj, ok := get(o.doc, "data", "object").(map[string]any); ok {
			o.doc, o.path, o.platform = obj, o.path+".data.object", platformStripe
		}
	}
	shape := shapeOf(o.doc)
	switch {
	case o.platform == "":
		o.platform = shape
	case shape != o.platform:
		return order{}, fail(fn, o.path, "the %s event does not hold an order this function understands", o.platform)
	}
	if o.platform == "" {
		return order{}, fail(fn, o.path, "cannot tell which platform this order is from (want a Shopify or WooCommerce order, or a Stripe payment_intent or checkout.session)")
	}
	return o, nil
}

func platformFromProvider(p string) string {
	switch strings.ToLower(p) {
	case "shopify":
		return platformShopify
	case "woocommerce", "woo":
		return platformWooCommerce
	case "stripe":
		return platformStripe
	}
	return ""
}

// shapeOf recognises the three platforms' order documents by their fields.
func shapeOf(doc map[string]any) string {
	switch doc["object"] {
	case "payment_intent", "checkout.session":
		return platformStripe
	}
	if _, ok := doc["line_items"].([]any); !ok {
		return ""
	}
	switch {
	case doc["order_key"] != nil, doc["date_created"] != nil && doc["total"] != nil:
		return platformWooCommerce
	case doc["total_price"] != nil, doc["order_number"] != nil, doc["admin_graphql_api_id"] != nil:
		return platformShopify
	}
	return ""
}

// currency returns the order's ISO code (upper-case) and its exponent.
func (o order) currency(fn string) (string, int, error) {
	code := strings.ToUpper(firstString(o.doc["currency"], o.doc["presentment_currency"]))
	if code == "" {
		return "", 0, fail(fn, at(o.path, "currency"), "the order has no currency")
	}
	exp, err := currencyExponent(code)
	if err != nil {
		return "", 0, fail(fn, at(o.path, "currency"), "%v", err)
	}
	return code, exp, nil
}

// line is one flattened order line, its amounts exact.
type line struct {
	id, sku, name  any
	quantity       int
	unitPrice      decimal
	subtotal       decimal // unit price × quantity, before discounts
	discount       decimal
	tax            decimal
	total          decimal // subtotal − discount, before tax
	unitPriceKnown bool
}

// reader reads amounts and counts out of an order, keeping the first error
// so a run of reads is checked once. Paths for error messages are given as a
// base and keys and only joined when a read fails: building them for every
// field was a fifth of line_items_flat's cost.
type reader struct {
	fn  string
	err error
}

func (r *reader) failAt(base string, keys []any, format string, args ...any) {
	if r.err == nil {
		for _, k := range keys {
			base = at(base, k)
		}
		r.err = fail(r.fn, base, format, args...)
	}
}

// amount reads a decimal field; null or absent is zero.
func (r *reader) amount(v any, base string, keys ...any) decimal {
	if v == nil || r.err != nil {
		return zero
	}
	d, err := decimalOf(v)
	if err != nil {
		r.failAt(base, keys, "%v", err)
		return zero
	}
	return d
}

// minor reads an integer count of minor units (Stripe's amounts) as a
// decimal in the currency's units.
func (r *reader) minor(v any, exp int, base string, keys ...any) decimal {
	d := r.amount(v, base, keys...)
	return decimal{unscaled: d.rescale(0, halfEven).unscaled, scale: exp}
}

// sum adds field over the objects in arr (at base+keys): Σ tax_lines[].price.
func (r *reader) sum(arr any, field string, base string, keys ...any) decimal {
	total := zero
	for i, x := range asArray(arr) {
		v := get(x, field)
		if v == nil || r.err != nil {
			continue
		}
		d, err := decimalOf(v)
		if err != nil {
			r.failAt(base, append(keys, i, field), "%v", err)
			return zero
		}
		total = total.add(d)
	}
	return total
}

// count reads a quantity.
func (r *reader) count(v any, base string, keys ...any) int {
	n, ok := intOf(v)
	if !ok {
		r.failAt(base, keys, "quantity must be an integer, got %v", v)
	}
	return n
}

// lines flattens the order's lines.
func (o order) lines(fn string, exp int) ([]line, error) {
	r := &reader{fn: fn}
	var out []line
	switch o.platform {
	case platformShopify:
		out = o.shopifyLines(r)
	case platformWooCommerce:
		out = o.wooLines(r, exp)
	default:
		out = o.stripeLines(r, exp)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

func (o order) shopifyLines(r *reader) []line {
	items := asArray(o.doc["line_items"])
	out := make([]line, 0, len(items))
	for i, it := range items {
		li, _ := it.(map[string]any)
		p := o.path
		q := r.count(li["quantity"], p, "line_items", i, "quantity")
		price := r.amount(li["price"], p, "line_items", i, "price")
		// Shopify allocates each discount to lines; total_discount is the
		// older field, still filled by some apps when allocations are empty.
		discount := r.sum(li["discount_allocations"], "amount", p, "line_items", i, "discount_allocations")
		if len(asArray(li["discount_allocations"])) == 0 {
			discount = r.amount(li["total_discount"], p, "line_items", i, "total_discount")
		}
		tax := r.sum(li["tax_lines"], "price", p, "line_items", i, "tax_lines")
		if r.err != nil {
			return nil
		}
		sub := price.mulInt(q)
		out = append(out, line{
			id: li["id"], sku: nullable(str(li["sku"])), name: nullable(firstString(li["name"], li["title"])),
			quantity: q, unitPrice: price, unitPriceKnown: true,
			subtotal: sub, discount: discount, tax: tax, total: sub.sub(discount),
		})
	}
	return out
}

func (o order) wooLines(r *reader, exp int) []line {
	items := asArray(o.doc["line_items"])
	out := make([]line, 0, len(items))
	for i, it := range items {
		li, _ := it.(map[string]any)
		p := o.path
		q := r.count(li["quantity"], p, "line_items", i, "quantity")
		// WooCommerce gives line amounts for the whole quantity: subtotal
		// before coupons, total after, both without tax.
		sub := r.amount(li["subtotal"], p, "line_items", i, "subtotal")
		total := r.amount(li["total"], p, "line_items", i, "total")
		tax := r.amount(li["total_tax"], p, "line_items", i, "total_tax")
		if r.err != nil {
			return nil
		}
		l := line{
			id: li["id"], sku: nullable(str(li["sku"])), name: nullable(str(li["name"])),
			quantity: q, subtotal: sub, discount: sub.sub(total), tax: tax, total: total,
		}
		// price is a float that WooCommerce computes as subtotal/quantity;
		// divide exactly when it divides at the currency's scale, else take it.
		if q > 0 {
			s := sub.rescale(max(sub.scale, exp), halfEven)
			unit, rem := new(big.Int).QuoRem(s.unscaled, big.NewInt(int64(q)), new(big.Int))
			if rem.Sign() == 0 {
				l.unitPrice, l.unitPriceKnown = decimal{unscaled: unit, scale: s.scale}, true
			}
		}
		if !l.unitPriceKnown && li["price"] != nil {
			l.unitPrice, l.unitPriceKnown = r.amount(li["price"], p, "line_items", i, "price"), true
		}
		out = append(out, l)
	}
	return out
}

// stripeLines reads an expanded checkout.session's line_items.data; a
// payment_intent has no lines.
func (o order) stripeLines(r *reader, exp int) []line {
	items := asArray(get(o.doc, "line_items", "data"))
	out := make([]line, 0, len(items))
	for i, it := range items {
		li, _ := it.(map[string]any)
		p := o.path
		q := r.count(li["quantity"], p, "line_items", "data", i, "quantity")
		unit := r.minor(get(li, "price", "unit_amount"), exp, p, "line_items", "data", i, "price", "unit_amount")
		sub := r.minor(li["amount_subtotal"], exp, p, "line_items", "data", i, "amount_subtotal")
		discount := r.minor(li["amount_discount"], exp, p, "line_items", "data", i, "amount_discount")
		tax := r.minor(li["amount_tax"], exp, p, "line_items", "data", i, "amount_tax")
		if r.err != nil {
			return nil
		}
		product := get(li, "price", "product")
		if m, ok := product.(map[string]any); ok {
			product = m["id"]
		}
		out = append(out, line{
			id: li["id"], sku: nullable(firstString(get(li, "price", "lookup_key"), product)), name: nullable(str(li["description"])),
			quantity: q, unitPrice: unit, unitPriceKnown: li["price"] != nil,
			subtotal: sub, discount: discount, tax: tax, total: sub.sub(discount),
		})
	}
	return out
}

// lineItemsFlat implements line_items_flat: one row per order line of a
// Shopify or WooCommerce order (or an expanded Stripe Checkout Session), for
// warehouse tables. Input is the order, or an envelope holding it. Amounts
// are decimal strings with at least the currency's exponent of digits:
//
//	{line_id, order_id, sku, name, quantity,
//	 unit_price,  // price of one unit
//	 subtotal,    // unit_price × quantity (WooCommerce: its line subtotal)
//	 discount,    // discounts allocated to the line
//	 tax,         // tax on the line
//	 line_total}  // subtotal − discount, before tax
//
// For the Shopify sample's first line (.body | line_items_flat | .[0]):
//
//	{"line_id": 466157049, "order_id": 450789469, "sku": "IPOD2008GREEN",
//	 "name": "IPod Nano - 8gb - green", "quantity": 1, "unit_price": "199.00",
//	 "subtotal": "199.00", "discount": "3.34", "tax": "3.98", "line_total": "195.66"}
//
// An empty SKU is null. A Stripe PaymentIntent has no lines: [].
func (l *library) lineItemsFlat(v any, _ []any) any {
	const fn = "line_items_flat"
	o, err := detectOrder(fn, v)
	if err != nil {
		return err
	}
	_, exp, err := o.currency(fn)
	if err != nil {
		return err
	}
	lines, err := o.lines(fn, exp)
	if err != nil {
		return err
	}
	rows := make([]any, len(lines))
	for i, ln := range lines {
		var unit any
		if ln.unitPriceKnown {
			unit = money(ln.unitPrice, exp)
		}
		rows[i] = map[string]any{
			"line_id":    ln.id,
			"order_id":   o.doc["id"],
			"sku":        ln.sku,
			"name":       ln.name,
			"quantity":   ln.quantity,
			"unit_price": unit,
			"subtotal":   money(ln.subtotal, exp),
			"discount":   money(ln.discount, exp),
			"tax":        money(ln.tax, exp),
			"line_total": money(ln.total, exp),
		}
	}
	return rows
}

// totals are an order's amounts, recomputed or as reported.
type totals struct {
	subtotal, discount, shipping, fees, tax, total, reported decimal
}

// recompute adds the order's totals up from its lines, shipping and fees.
func (o order) recompute(fn string, exp int, lines []line) (totals, error) {
	t := totals{subtotal: zero, discount: zero, shipping: zero, fees: zero, tax: zero}
	for _, ln := range lines {
		t.subtotal = t.subtotal.add(ln.subtotal)
		t.discount = t.discount.add(ln.discount)
		t.tax = t.tax.add(ln.tax)
	}
	r := &reader{fn: fn}
	p := o.path
	taxIncluded := false
	var reported any
	switch o.platform {
	case platformShopify:
		for i, s := range asArray(o.doc["shipping_lines"]) {
			t.shipping = t.shipping.add(r.amount(get(s, "price"), p, "shipping_lines", i, "price"))
			t.discount = t.discount.add(r.sum(get(s, "discount_allocations"), "amount", p, "shipping_lines", i, "discount_allocations"))
			t.tax = t.tax.add(r.sum(get(s, "tax_lines"), "price", p, "shipping_lines", i, "tax_lines"))
		}
		taxIncluded = o.doc["taxes_included"] == true
		reported = o.doc["total_price"]
		t.reported = r.amount(reported, p, "total_price")
	case platformWooCommerce:
		for i, s := range asArray(o.doc["shipping_lines"]) {
			t.shipping = t.shipping.add(r.amount(get(s, "total"), p, "shipping_lines", i, "total"))
			t.tax = t.tax.add(r.amount(get(s, "total_tax"), p, "shipping_lines", i, "total_tax"))
		}
		for i, s := range asArray(o.doc["fee_lines"]) {
			t.fees = t.fees.add(r.amount(get(s, "total"), p, "fee_lines", i, "total"))
			t.tax = t.tax.add(r.amount(get(s, "total_tax"), p, "fee_lines", i, "total_tax"))
		}
		reported = o.doc["total"]
		t.reported = r.amount(reported, p, "total")
	case platformStripe:
		if o.doc["object"] == "checkout.session" {
			td := o.doc["total_details"]
			t.subtotal = r.minor(o.doc["amount_subtotal"], exp, p, "amount_subtotal")
			t.discount = r.minor(get(td, "amount_discount"), exp, p, "total_details", "amount_discount")
			t.shipping = r.minor(get(td, "amount_shipping"), exp, p, "total_details", "amount_shipping")
			t.tax = r.minor(get(td, "amount_tax"), exp, p, "total_details", "amount_tax")
			reported = o.doc["amount_total"]
			t.reported = r.minor(reported, exp, p, "amount_total")
		} else { // a PaymentIntent is one amount with no breakdown
			t.subtotal = r.minor(o.doc["amount"], exp, p, "amount")
			reported = o.doc["amount"]
			t.reported = t.subtotal
		}
		// Stripe's amount_tax counts inclusive and exclusive tax alike;
		// hookyard cannot tell them apart here and treats it as exclusive.
	}
	if r.err != nil {
		return totals{}, r.err
	}
	t.total = t.subtotal.sub(t.discount).add(t.shipping).add(t.fees)
	if !taxIncluded {
		t.total = t.total.add(t.tax)
	}
	if reported == nil {
		t.reported = t.total
	}
	return t, nil
}

func asArray(v any) []any {
	xs, _ := v.([]any)
	return xs
}

// orderTotals implements order_totals: an order's subtotal, discounts,
// shipping, fees, tax and total recomputed from its lines (with the shipping
// and fee lines), and whether that total disagrees with the total the
// platform reported. Amounts are decimal strings; total is
// subtotal − discounts + shipping + fees + tax (tax is not added when
// Shopify's taxes_included is true). A Stripe Checkout Session is recomputed
// from its total_details; a PaymentIntent has only its amount.
//
//	.body | order_totals   (the Shopify sample)
//	→ {"currency": "USD", "subtotal": "597.00", "discounts": "10.00",
//	   "shipping": "0.00", "fees": "0.00", "tax": "11.94", "total": "598.94",
//	   "reported_total": "598.94", "mismatch": false}
//
// mismatch compares numerically ("598.9" equals "598.90"). An order with no
// reported total is compared with itself: mismatch false.
func (l *library) orderTotals(v any, _ []any) any {
	const fn = "order_totals"
	o, err := detectOrder(fn, v)
	if err != nil {
		return err
	}
	code, exp, err := o.currency(fn)
	if err != nil {
		return err
	}
	lines, err := o.lines(fn, exp)
	if err != nil {
		return err
	}
	t, err := o.recompute(fn, exp, lines)
	if err != nil {
		return err
	}
	return map[string]any{
		"currency":       code,
		"subtotal":       money(t.subtotal, exp),
		"discounts":      money(t.discount, exp),
		"shipping":       money(t.shipping, exp),
		"fees":           money(t.fees, exp),
		"tax":            money(t.tax, exp),
		"total":          money(t.total, exp),
		"reported_total": money(t.reported, exp),
		"mismatch":       t.total.cmp(t.reported) != 0,
	}
}
