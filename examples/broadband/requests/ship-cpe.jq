# ship-cpe request (grouped per order: one parcel).  Input {order, items,
# task}.  A broadband line gets the router that fits its technology; an
# extra CPE-ROUTER item adds the model it names.
.order as $o
| {
    action: "ship",
    customerId: $o.customer.id,
    recipient: $o.customer.name,
    address: ($o.shippingAddress // $o.address),
    lines: [
      .items[]
      | {
          itemId: .id,
          article: (if .spec == "BB-FIBRE" then "ONT-ROUTER-5590"
                    elif .spec == "BB-DSL" then "VDSL-ROUTER-7590"
                    else .model // "MESH-AP-1200" end),
          quantity: (.quantity // 1)
        }
    ]
  }
