# activate request (grouped per system: one work order to the activation
# system of the region for all the items of the order it serves).
# Input {order, items, task}.
.order as $o
| {
    action: "activate",
    region: $o.region,
    customerId: $o.customer.id,
    services: [
      .items[]
      | {
          itemId: .id,
          spec,
          action,
          productId,
          bandwidth,
          port,
          number,
          profile: (if .spec == "VOICE" then "SIP-VOICE"
                    elif .bandwidth == null then null
                    else "\(if .spec == "BB-FIBRE" then "GPON" else "VDSL2" end)-\(.bandwidth)M" end)
        }
      | with_entries(select(.value != null))
    ]
  }
