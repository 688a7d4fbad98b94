# warehouse-rows.jq — an order from any of the three stores as rows to
# upsert into the warehouse: one fact_orders row, one dim_line_items row per
# line. Customers are keyed by a keyed hash of their email (hash_pii), so the
# warehouse can count repeat buyers without holding addresses.
#
# Input: the event envelope of a Shopify or WooCommerce order or a Stripe
# PaymentIntent / Checkout Session event. Output: {fact_orders, dim_line_items}.
# Needs: a PII key (hash_pii).

canonical_order as $c
| line_items_flat as $lines
| {
    fact_orders: [{
      order_key: "\($c.source_platform):\($c.id)",
      platform: $c.source_platform,
      order_id: $c.id,
      order_number: $c.number,
      created_at: $c.created_at,
      currency: $c.currency,
      customer_key: ($c.customer.email | hash_pii),
      subtotal: $c.totals.subtotal,
      discount: $c.totals.discount,
      shipping: $c.totals.shipping,
      tax: $c.totals.tax,
      total: $c.totals.total,
      line_count: ($lines | length),
      units: ($lines | map(.quantity) | add // 0),
      status: $c.status,
      financial_status: $c.financial_status,
      event_id: .id,
      loaded_at: .received_at
    }],
    dim_line_items: [
      $lines[]
      | {
          order_key: "\($c.source_platform):\($c.id)",
          line_id: (.line_id | tostring),
          sku,
          name,
          quantity,
          unit_price,
          discount,
          tax,
          line_total,
          currency: $c.currency
        }
    ]
  }
