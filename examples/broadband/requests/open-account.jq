# open-account request (grouped per order).  Input {order, items, task}:
# the items are those the order adds.  Their products go on the billing
# account the CRM named, else on the customer's own; nothing is priced or
# charged yet (bill does that once the service is live), so only order
# data goes in, and a revision that changes a bandwidth keeps it.
.order as $o
| {
    action: "open-account",
    customerId: $o.customer.id,
    billingAccount: $o.billingAccount,
    products: [
      .items[]
      | {itemId: .id, spec, productId}
      | with_entries(select(.value != null))
    ]
  }
| with_entries(select(.value != null))
