package transform

import (
	"strings"
	"time"
)

// Reasons risk_score gives.
const (
	RiskHighValue       = "high_value"
	RiskCountryMismatch = "country_mismatch"
	RiskFirstTime       = "first_time_customer"
	RiskVelocity        = "velocity"
)

// RiskRules configures risk_score. Each rule that fires adds its score; the
// sum is capped at 100. A rule with score 0 never appears in the reasons.
// Start from DefaultRiskRules and change what differs.
type RiskRules struct {
	// HighValue is the order total (in the order's currency, decimal) at or
	// above which the order is high value; HighValueByCurrency overrides it
	// per ISO code, since 500 JPY is not 500 USD. "" disables the rule.
	HighValue           string
	HighValueByCurrency map[string]string
	HighValueScore      int

	// CountryMismatchScore is added when the billing and shipping countries
	// are both known and differ.
	CountryMismatchScore int

	// FirstTimeScore is added when the order says the customer has at most
	// one order (orders_count on the order or on its customer). Orders that
	// do not say are not scored.
	FirstTimeScore int

	// VelocityThreshold is the number of recent orders by the same customer
	// at or above which VelocityScore is added. The count comes from, in
	// order: risk_score's argument {recent_orders: n}; a recent_orders field
	// on the input (the envelope or the order); Velocity, if set, called with
	// the customer's lower-cased email (or "id:<customer id>"); Counter, if
	// set, which counts the distinct orders of the key VelocityBy names
	// within its window, this one included. The window "recent" covers is
	// otherwise whatever the caller's count covers.
	VelocityThreshold int
	VelocityScore     int
	Velocity          func(customer string) (int, error)
	Counter           *VelocityCounter
	// VelocityBy is the key Counter counts by: VelocityByCustomer (default)
	// or VelocityByIP.
	VelocityBy string
}

// DefaultRiskRules returns the rules risk_score uses unless configured.
func DefaultRiskRules() RiskRules {
	return RiskRules{
		HighValue:            "500",
		HighValueScore:       30,
		CountryMismatchScore: 25,
		FirstTimeScore:       15,
		VelocityThreshold:    3,
		VelocityScore:        30,
	}
}

// riskScore implements risk_score and risk_score(history): a 0–100 score and
// the reasons for it, from the configured RiskRules (defaults: high value
// ≥ 500 → 30, billing/shipping country mismatch → 25, first-time customer
// → 15, ≥ 3 recent orders → 30). Input is an order or an envelope, as for
// canonical_order.
//
//	.body | risk_score                          (the Shopify sample: total 598.94, US/US, no orders_count)
//	→ {"score": 30, "reasons": ["high_value"]}
//	risk_score({recent_orders: 4})              → adds "velocity"
//	if (risk_score.score >= 50) then "high" else "normal" end
func (l *library) riskScore(v any, args []any) any {
	const fn = "risk_score"
	c, err := newCanonical(fn, v)
	if err != nil {
		return err
	}
	rules := l.risk
	d := c.o.doc
	reasons := []any{}
	score := 0
	hit := func(reason string, points int) {
		if points != 0 {
			reasons = append(reasons, reason)
			score += points
		}
	}

	threshold := rules.HighValue
	if t, ok := rules.HighValueByCurrency[c.currency]; ok {
		threshold = t
	}
	if threshold != "" {
		limit, err := parseDecimal(threshold)
		if err != nil {
			return fail(fn, "", "high value threshold: %v", err)
		}
		if c.totals.total.cmp(limit) >= 0 {
			hit(RiskHighValue, rules.HighValueScore)
		}
	}

	billing, shipping := countries(c.o.platform, d)
	if billing != "" && shipping != "" && billing != shipping {
		hit(RiskCountryMismatch, rules.CountryMismatchScore)
	}

	if n, ok := intOf(firstNonNil(d["orders_count"], get(d, "customer", "orders_count"))); ok && n <= 1 {
		hit(RiskFirstTime, rules.FirstTimeScore)
	}

	recent, known := -1, false
	if len(args) > 0 {
		recent, known = intOf(get(args[0], "recent_orders"))
	}
	if !known {
		recent, known = intOf(firstNonNil(get(v, "recent_orders"), d["recent_orders"]))
	}
	if !known && rules.Velocity != nil {
		if who := customerKey(c); who != "" {
			n, err := rules.Velocity(who)
			if err != nil {
				return fail(fn, "", "velocity counter: %v", err)
			}
			recent, known = n, true
		}
	}
	if !known && rules.Counter != nil {
		who := customerKey(c)
		if rules.VelocityBy == VelocityByIP {
			who = buyerIP(c)
		}
		if who != "" {
			recent, known = rules.Counter.Observe(who, str(c.doc["id"]), time.Now()), true
		}
	}
	if known && rules.VelocityThreshold > 0 && recent >= rules.VelocityThreshold {
		hit(RiskVelocity, rules.VelocityScore)
	}
	return map[string]any{"score": min(max(score, 0), 100), "reasons": reasons}
}

// countries returns the billing and shipping country codes, upper-case.
func countries(platform string, d map[string]any) (billing, shipping string) {
	switch platform {
	case platformShopify:
		billing = firstString(get(d, "billing_address", "country_code"), get(d, "billing_address", "country"))
		shipping = firstString(get(d, "shipping_address", "country_code"), get(d, "shipping_address", "country"))
	case platformWooCommerce:
		billing = firstString(get(d, "billing", "country"))
		shipping = firstString(get(d, "shipping", "country"))
	case platformStripe:
		billing = firstString(
			get(d, "customer_details", "address", "country"),
			get(d, "billing_details", "address", "country"))
		if charges, ok := get(d, "charges", "data").([]any); ok && len(charges) > 0 && billing == "" {
			billing = firstString(get(charges[0], "billing_details", "address", "country"))
		}
		shipping = firstString(
			get(d, "shipping", "address", "country"),
			get(d, "shipping_details", "address", "country"),
			get(d, "collected_information", "shipping_details", "address", "country"))
	}
	return strings.ToUpper(billing), strings.ToUpper(shipping)
}

// customerKey identifies the customer for a velocity counter.
func customerKey(c *canonical) string {
	if email, ok := get(c.doc, "customer", "email").(string); ok && email != "" {
		return strings.ToLower(strings.TrimSpace(email))
	}
	if id := str(get(c.o.doc, "customer", "id")); id != "" {
		return "id:" + id
	}
	if id := str(c.o.doc["customer_id"]); id != "" && id != "0" {
		return "id:" + id
	}
	if id, ok := c.o.doc["customer"].(string); ok && id != "" { // Stripe: a customer id
		return "id:" + id
	}
	return ""
}

// buyerIP is the IP address the order was placed from, where the platform
// records it (Shopify browser_ip, WooCommerce customer_ip_address).
func buyerIP(c *canonical) string {
	d := c.o.doc
	return firstString(d["browser_ip"], get(d, "client_details", "browser_ip"), d["customer_ip_address"])
}
