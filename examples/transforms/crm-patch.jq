# crm-patch.jq — the lifecycle patch for the CRM after an order: upsert the
# contact by email, move them to "customer", record the last order and its
# risk. Events without a customer email (a bare Stripe PaymentIntent) give no
# output: there is nobody to patch.
#
# Input: the event envelope (Shopify, WooCommerce or Stripe). Output: zero or
# one object. Needs: a PII key (the phone is sent hashed, for matching only).

canonical_order as $c
| select($c.customer.email != null)
| risk_score as $risk
| (.body.phone // .body.billing_address.phone // .body.billing.phone
   // .body.data.object.customer_details.phone) as $phone
| {
    op: "upsert",
    match: {email: ($c.customer.email | ascii_downcase)},
    set: {
      name: $c.customer.name,
      lifecycle_stage: "customer",
      last_order: {
        id: $c.id,
        number: $c.number,
        platform: $c.source_platform,
        at: $c.created_at,
        total: $c.totals.total,
        currency: $c.currency,
        status: $c.status
      },
      phone_hash: (try ($phone | hash_pii("phone")) catch null),
      risk: $risk
    },
    add_tags: (["bought:\($c.source_platform)"] + (if $risk.score >= 50 then ["review:fraud"] else [] end))
  }
