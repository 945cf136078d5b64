# capture-payment request (grouped per order).  Input {order, items, task}.
# Captures the total the total rule computed from the shop's authorisation
# (card, PayPal); for payment on invoice it asks the provider to approve
# the customer for the amount.  A revision that changes the total sends
# mode redo with the old and the new request: the provider captures or
# refunds the difference.
.order as $o
| {
    action: "capture",
    orderRef: $o.externalId,
    customerId: $o.customer.id,
    method: $o.payment.method,
    authorizationId: $o.payment.authorizationId,
    amount: $o.total,
    currency: $o.currency
  }
| with_entries(select(.value != null))
