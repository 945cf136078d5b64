# ship request (grouped per order: the parcel goes to one carrier, chosen by
# carrier.jq from the destination country).  Input {order, items, task}.
.order as $o
| {
    action: "ship",
    orderRef: $o.externalId,
    recipient: ($o.shippingAddress.name // $o.customer.name),
    address: $o.shippingAddress,
    parcelId: $o.parcel.id,
    weightKg: $o.parcel.weightKg,
    lines: [.items[] | {itemId: .id, sku: .spec, quantity: (.quantity // 1)}]
  }
| with_entries(select(.value != null))
