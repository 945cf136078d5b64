# pick request (grouped per order: one pick list).  Input {order, items,
# task}: .items are the order's physical items.
.order as $o
| {
    action: "pick",
    orderRef: $o.externalId,
    lines: [.items[] | {itemId: .id, sku: .spec, quantity: (.quantity // 1)}]
  }
