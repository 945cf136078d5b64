# allocate-port request (grouped per item: .items holds one item).
# Input {order, items, task}.  The port's technology follows the product;
# the exchange follows the postcode, which is why a revision that moves the
# line to another postcode undoes the allocation and makes a new one (see
# the function's onRevision).
.order as $o
| .items[0] as $i
| ($i.address // $o.address // {}) as $a
| {
    action: "allocate-port",
    itemId: $i.id,
    technology: (if $i.spec == "BB-FIBRE" then "GPON" else "VDSL2" end),
    bandwidth: $i.bandwidth,
    region: $o.region,
    postcode: $a.postcode,
    customerId: $o.customer.id
  }
| with_entries(select(.value != null))
