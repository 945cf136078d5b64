# invoice request (grouped per order).  Input {order, items, task}.  The
# amounts come from the order (the total rule put them there), looked up by
# item id because .items may be a snapshot taken when the plan was made.
.order as $o
| ($o.items | map({key: .id, value: .}) | from_entries) as $current
| {
    action: "invoice",
    orderRef: $o.externalId,
    customerId: $o.customer.id,
    customerName: $o.customer.name,
    paymentMethod: $o.payment.method,
    captureId: $o.payment.captureId,
    currency: $o.currency,
    lines: [.items[] | $current[.id] // .
            | {itemId: .id, sku: .spec, name, quantity: (.quantity // 1), unitPrice, lineTotal}
            | with_entries(select(.value != null))],
    amounts: $o.amounts,
    trackingId: $o.shipment.trackingId
  }
| with_entries(select(.value != null))
