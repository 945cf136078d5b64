# Notification payload.  Input {event, order}: the osm event and the order
# as osm reports it.  Output: a TMF622 ProductOrder event for the CRM, a
# ProductOrderStateChangeEvent for state changes and revisions, a
# ProductOrderInformationRequiredEvent when the order falls out, and a
# ProductOrderJeopardyEvent when it is late.

# osm order states -> TMF622 ProductOrder states.
def tmf_state:
    {
      "not_started": "acknowledged",
      "in_progress": "inProgress",
      "amending": "inProgress",
      "suspended": "held",
      "failed": "held",
      "waiting_for_revision": "pending",
      "cancelling": "pendingCancellation",
      "cancelled": "cancelled",
      "completed": "completed",
      "aborted": "failed"
    }[. // ""] // "inProgress";

# Cartridge fulfillment states -> TMF622 ProductOrderItem states.
def tmf_item_state:
    {
      "NOT_STARTED": "acknowledged",
      "IN_PROGRESS": "inProgress",
      "SHIPPED": "inProgress",
      "ACTIVE": "inProgress",
      "COMPLETE": "completed",
      "FAILED": "held"
    }[. // ""] // "inProgress";

.event as $e
| .order as $o
| ($e.type // $e.event // "order.state") as $type
| ($o.order // $o.internal // {}) as $internal
| {
    eventId: ($e.id // null | if . == null then null else tostring end),
    eventTime: ($e.time // $e.at // $now),
    eventType: (if $type == "fallout" then "ProductOrderInformationRequiredEvent"
                elif $type == "jeopardy" then "ProductOrderJeopardyEvent"
                else "ProductOrderStateChangeEvent" end),
    correlationId: ($o.externalId // $internal.externalId),
    event: {
      productOrder: {
        id: ($o.externalId // $internal.externalId),
        externalId: ($o.externalId // $internal.externalId),
        "@type": "ProductOrder",
        state: ($o.state | tmf_state),
        expectedCompletionDate: ($o.expectedCompletion // $o.expectedCompletionDate),
        productOrderItem: [
          ($o.items // [])[]
          | {id: (.id | tostring), state: ((.fulfillmentState // .state) | tmf_item_state), "@type": "ProductOrderItem"}
        ]
      }
      | with_entries(select(.value != null))
    },
    description: ($e.message // $e.reason // null),
    osm: {order: $o.id, event: $type, revision: ($o.revision // $o.revisionNumber)}
      | with_entries(select(.value != null))
  }
| with_entries(select(.value != null))
