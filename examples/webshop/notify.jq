# Notification payload.  Input {event, order}: the osm event and the order
# as osm reports it.  Output: the shop's order-status message, from which
# the shop updates the customer's order page and sends the e-mails
# ("your order has shipped", with the tracking number).

# osm order states -> the states the shop shows its customers.
def shop_state:
    {
      "not_started": "received",
      "in_progress": "processing",
      "amending": "processing",
      "suspended": "on_hold",
      "failed": "on_hold",
      "waiting_for_revision": "on_hold",
      "cancelling": "cancelling",
      "cancelled": "cancelled",
      "completed": "completed",
      "aborted": "cancelled"
    }[. // ""] // "processing";

# Cartridge fulfillment states -> item states for the customer.
def shop_item_state:
    {
      "OPEN": "received",
      "PAID": "paid",
      "IN_WAREHOUSE": "preparing",
      "SHIPPED": "shipped",
      "COMPLETE": "delivered",
      "FAILED": "on_hold"
    }[. // ""] // "processing";

.event as $e
| .order as $o
| ($e.type // $e.event // "order.state") as $type
| ($o.order // $o.internal // {}) as $internal
| {
    type: $type,
    eventId: ($e.id // null | if . == null then null else tostring end),
    time: ($e.time // $e.at // $now),
    orderRef: ($o.externalId // $internal.externalId),
    customerId: $internal.customer.id,
    state: ($o.state | shop_state),
    items: [($o.items // [])[]
            | {id: (.id | tostring), state: ((.fulfillmentState // .state) | shop_item_state)}],
    carrier: $internal.shipment.carrier,
    trackingId: $internal.shipment.trackingId,
    invoiceNumber: $internal.invoiceNumber,
    message: ($e.message // $e.reason // null),
    osm: {order: $o.id, revision: ($o.revision // $o.revisionNumber)}
      | with_entries(select(.value != null))
  }
| with_entries(select(.value != null))
