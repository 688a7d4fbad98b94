# oms-slim.jq — a Shopify orders/create event as the slim payload the OMS
# takes: ids, money in minor units, ship-to, one row per line with the
# warehouse to pick from.
#
# Input: the event envelope ({source, provider, topic, id, received_at,
# headers, body}). Output: one object.
# Needs: a lookup table named "skus" (CSV: sku,category,cost,warehouse);
# lines whose SKU is not in it pick from "MAIN".
#
#   routes:
#     - name: big-orders-to-oms
#       source: shop
#       destination: oms
#       filter: '.topic == "orders/create"'
#       transform: transforms/oms-slim.jq

.body as $o
| ($o.currency) as $cur
| ($o | order_totals) as $t
| {
    external_id: ($o.id | tostring),
    order_number: $o.name,
    channel: "shopify",
    placed_at: ($o.created_at | to_utc),
    currency: $cur,
    total_minor: ($o.total_price | to_minor_units($cur)),
    tax_minor: ($o.total_tax | to_minor_units($cur)),
    shipping_minor: ($t.shipping | to_minor_units($cur)),
    totals_verified: ($t.mismatch | not),
    customer: {
      email: ($o.email // $o.customer.email),
      name: ([$o.customer.first_name, $o.customer.last_name] | map(select(. != null)) | join(" "))
    },
    ship_to: ($o.shipping_address // $o.billing_address
      | {name, line1: .address1, line2: (.address2 | select(. != "") // null),
         city, region: .province_code, postcode: .zip, country: .country_code, phone}),
    lines: [
      $o | line_items_flat[]
      | {
          sku,
          qty: .quantity,
          unit_price_minor: (.unit_price | to_minor_units($cur)),
          discount_minor: (.discount | to_minor_units($cur)),
          warehouse: (lookup("skus"; .sku).warehouse // "MAIN")
        }
    ],
    hookyard: {event_id: .id, received_at: .received_at}
  }
