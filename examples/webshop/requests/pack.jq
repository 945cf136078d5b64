# pack request (grouped per order: one parcel).  Input {order, items,
# task}.  Gift-wrapped articles come to the packing table already wrapped
# (the gift-wrap task is done before this one); the packer adds the gift
# messages to the parcel.
.order as $o
| {
    action: "pack",
    orderRef: $o.externalId,
    pickList: $o.pickList,
    lines: [.items[]
            | {itemId: .id, sku: .spec, quantity: (.quantity // 1),
               giftWrapped: .giftWrap, giftMessage}
            | with_entries(select(.value != null))]
  }
| with_entries(select(.value != null))
