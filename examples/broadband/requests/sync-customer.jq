# sync-customer request (grouped per order).  Input {order, items, task}.
# Only order data goes in, never $now: a revision compares requests to see
# what changed, so the same order must give the same request.
.order as $o
| {
    action: "sync-customer",
    customerId: $o.customer.id,
    name: $o.customer.name,
    category: $o.category,
    billingAccount: $o.billingAccount,
    address: $o.address
  }
| with_entries(select(.value != null))
