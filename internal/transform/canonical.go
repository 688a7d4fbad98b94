package transform

import (
	"strings"
)

// canonical is the order every platform is normalised to.
type canonical struct {
	o        order
	currency string
	exp      int
	lines    []line
	totals   totals // as the platform reports them where it does
	doc      map[string]any
}

// canonicalOrder implements canonical_order: a Shopify order, a WooCommerce
// order, or a Stripe PaymentIntent or Checkout Session — given as an
// envelope, a body or a Stripe event — as one document, so a route written
// once serves every store. The platform is the envelope's provider when it
// is shopify, woocommerce or stripe, else recognised from the body's fields.
//
//	{
//	  "id": "450789469",                  // platform's id, as a string
//	  "source_platform": "shopify",       // shopify | woocommerce | stripe
//	  "number": "1001",                   // the customer-facing number (Stripe: metadata.order_number/order_id, else null)
//	  "currency": "USD",
//	  "created_at": "2008-01-10T16:00:00Z",
//	  "customer": {"email": "bob.norman@mail.example.com", "name": "Bob Norman"},
//	  "lines": [{"sku": "IPOD2008GREEN", "name": "IPod Nano - 8gb - green",
//	             "quantity": 1, "unit_price": "199.00", "total": "195.66"}, …],
//	  "totals": {"subtotal": "597.00", "discount": "10.00", "shipping": "0.00",
//	             "tax": "11.94", "total": "598.94"},
//	  "status": "processing",
//	  "financial_status": "partially_refunded"
//	}
//
// Amounts are decimal strings with at least the currency's exponent of
// digits. A line's total is after discounts and before tax. totals are the
// platform's own figures where it reports them (Shopify total_line_items_price,
// total_discounts, total_tax, total_price; WooCommerce discount_total,
// shipping_total, total_tax, total), else recomputed as in order_totals.
// A PaymentIntent has no lines and no breakdown: subtotal and total are its
// amount, the rest "0.00".
//
// status is one of pending, processing, on_hold, completed, cancelled,
// refunded, failed. financial_status is one of pending, authorized,
// partially_paid, paid, partially_refunded, refunded, voided, failed, or the
// platform's own word when it has no equivalent.
func (l *library) canonicalOrder(v any, _ []any) any {
	c, err := newCanonical("canonical_order", v)
	if err != nil {
		return err
	}
	return c.doc
}

func newCanonical(fn string, v any) (*canonical, error) {
	o, err := detectOrder(fn, v)
	if err != nil {
		return nil, err
	}
	code, exp, err := o.currency(fn)
	if err != nil {
		return nil, err
	}
	lines, err := o.lines(fn, exp)
	if err != nil {
		return nil, err
	}
	t, err := o.recompute(fn, exp, lines)
	if err != nil {
		return nil, err
	}
	c := &canonical{o: o, currency: code, exp: exp, lines: lines, totals: t}
	if err := c.build(fn); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *canonical) build(fn string) error {
	d := c.o.doc
	r := &reader{fn: fn}
	p := c.o.path
	var number, created, email, name, status, financial any
	switch c.o.platform {
	case platformShopify:
		number = nullable(firstString(d["order_number"], strings.TrimPrefix(str(d["name"]), "#")))
		created = firstNonNil(d["created_at"], d["processed_at"])
		email = nullable(firstString(d["email"], d["contact_email"], get(d, "customer", "email")))
		name = nullable(firstString(
			joinName(get(d, "customer", "first_name"), get(d, "customer", "last_name")),
			get(d, "billing_address", "name"),
			joinName(get(d, "billing_address", "first_name"), get(d, "billing_address", "last_name"))))
		status, financial = shopifyStatus(d)
		if v := d["total_line_items_price"]; v != nil {
			c.totals.subtotal = r.amount(v, p, "total_line_items_price")
		}
		if v := d["total_discounts"]; v != nil {
			c.totals.discount = r.amount(v, p, "total_discounts")
		}
		if v := get(d, "total_shipping_price_set", "shop_money", "amount"); v != nil {
			c.totals.shipping = r.amount(v, p, "total_shipping_price_set", "shop_money", "amount")
		}
		if v := d["total_tax"]; v != nil {
			c.totals.tax = r.amount(v, p, "total_tax")
		}
		c.totals.total = c.totals.reported
	case platformWooCommerce:
		number = nullable(firstString(d["number"], d["id"]))
		created = firstNonNil(d["date_created_gmt"], d["date_created"])
		email = nullable(firstString(get(d, "billing", "email")))
		name = nullable(joinName(get(d, "billing", "first_name"), get(d, "billing", "last_name")))
		status, financial = wooStatus(d)
		if v := d["discount_total"]; v != nil {
			c.totals.discount = r.amount(v, p, "discount_total")
		}
		if v := d["shipping_total"]; v != nil {
			c.totals.shipping = r.amount(v, p, "shipping_total")
		}
		if v := d["total_tax"]; v != nil {
			c.totals.tax = r.amount(v, p, "total_tax")
		}
		c.totals.total = c.totals.reported
	case platformStripe:
		number = nullable(firstString(get(d, "metadata", "order_number"), get(d, "metadata", "order_id")))
		created = d["created"]
		email = nullable(firstString(get(d, "customer_details", "email"), d["receipt_email"], get(d, "customer_email")))
		name = nullable(firstString(get(d, "customer_details", "name"), get(d, "shipping", "name")))
		status, financial = stripeStatus(d)
		c.totals.total = c.totals.reported
	}
	if r.err != nil {
		return r.err
	}
	var createdAt any
	if created != nil {
		t, err := parseTime(created)
		if err != nil {
			return fail(fn, p, "created: %v", err)
		}
		createdAt = t.UTC().Format(timeFormat)
	}
	lines := make([]any, len(c.lines))
	for i, ln := range c.lines {
		var unit any
		if ln.unitPriceKnown {
			unit = money(ln.unitPrice, c.exp)
		}
		lines[i] = map[string]any{
			"sku":        ln.sku,
			"name":       ln.name,
			"quantity":   ln.quantity,
			"unit_price": unit,
			"total":      money(ln.total, c.exp),
		}
	}
	c.doc = map[string]any{
		"id":              nullable(str(d["id"])),
		"source_platform": c.o.platform,
		"number":          number,
		"currency":        c.currency,
		"created_at":      createdAt,
		"customer":        map[string]any{"email": email, "name": name},
		"lines":           lines,
		"totals": map[string]any{
			"subtotal": money(c.totals.subtotal, c.exp),
			"discount": money(c.totals.discount, c.exp),
			"shipping": money(c.totals.shipping, c.exp),
			"tax":      money(c.totals.tax, c.exp),
			"total":    money(c.totals.total, c.exp),
		},
		"status":           status,
		"financial_status": financial,
	}
	return nil
}

func firstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func joinName(first, last any) string {
	return strings.TrimSpace(str(first) + " " + str(last))
}

// shopifyStatus: Shopify's financial_status is already the canonical
// vocabulary; the order status follows cancelled_at, closed_at and
// fulfillment_status.
func shopifyStatus(d map[string]any) (status, financial any) {
	financial = nullable(str(d["financial_status"]))
	switch {
	case d["cancelled_at"] != nil:
		status = "cancelled"
	case financial == "refunded":
		status = "refunded"
	case d["closed_at"] != nil, d["fulfillment_status"] == "fulfilled":
		status = "completed"
	case financial == "pending":
		status = "pending"
	default:
		status = "processing"
	}
	return status, financial
}

// wooStatus maps WooCommerce's order statuses.
func wooStatus(d map[string]any) (status, financial any) {
	s := str(d["status"])
	switch s {
	case "pending", "checkout-draft":
		status, financial = "pending", "pending"
	case "on-hold":
		status, financial = "on_hold", "pending"
	case "processing", "completed":
		status, financial = s, "paid"
	case "cancelled", "trash":
		status, financial = "cancelled", "voided"
	case "refunded":
		status, financial = "refunded", "refunded"
	case "failed":
		status, financial = "failed", "failed"
	default:
		status, financial = nullable(s), nullable(s)
	}
	if financial == "paid" && len(asArray(d["refunds"])) > 0 {
		financial = "partially_refunded"
	}
	return status, financial
}

// stripeStatus maps a PaymentIntent's or Checkout Session's status.
func stripeStatus(d map[string]any) (status, financial any) {
	s := str(d["status"])
	if d["object"] == "checkout.session" {
		switch s {
		case "complete":
			status = "completed"
		case "expired":
			status = "cancelled"
		default:
			status = "pending"
		}
		switch ps := str(d["payment_status"]); ps {
		case "paid", "no_payment_required":
			financial = "paid"
		case "unpaid":
			financial = "pending"
		default:
			financial = nullable(ps)
		}
		return status, financial
	}
	switch s {
	case "succeeded":
		status, financial = "completed", "paid"
		amt, _ := decimalOf(d["amount"])
		if got, err := decimalOf(d["amount_received"]); err == nil && amt.unscaled != nil && got.cmp(amt) < 0 {
			financial = "partially_paid"
		}
	case "processing":
		status, financial = "processing", "pending"
	case "requires_capture":
		status, financial = "processing", "authorized"
	case "canceled":
		status, financial = "cancelled", "voided"
	case "requires_payment_method", "requires_confirmation", "requires_action":
		status, financial = "pending", "pending"
	default:
		status, financial = nullable(s), nullable(s)
	}
	return status, financial
}
