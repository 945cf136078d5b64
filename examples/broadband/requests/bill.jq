# bill request (grouped per order).  Input {order, items, task}.  Prices
# come from the order (the price rule put them there), looked up by item id
# because .items may be a snapshot taken when the plan was made.  A
# cease-only order closes the charges instead of starting them.
.order as $o
| ($o.items | map({key: .id, value: .}) | from_entries) as $current
| [.items[] | $current[.id] // .] as $items
| {
    action: (if all($items[]; .action == "delete") then "close" else "charge" end),
    customerId: $o.customer.id,
    billingAccount: ($o.billingAccount // $o.customer.id),
    startDate: ($o.requestedDate // null),
    lines: [
      $items[]
      | select(.action != "noChange")
      | {itemId: .id, spec, action, productId, monthlyPrice}
      | with_entries(select(.value != null))
    ],
    monthlyTotal: $o.monthlyTotal
  }
| with_entries(select(.value != null))
