# The TMF622 ProductOrder -> the internal order.
{
  externalId,
  revisionNumber: (.revisionNumber // 0),
  customer: (first(.relatedParty[] | select(.role == "customer")) | {id, name}),
  priority: (.priority // "5" | tonumber),
  items: [.productOrderItem[] | {id, action, spec: .product.productSpecification.id,
          bandwidth: (first(.product.productCharacteristic[]? | select(.name == "bandwidth")) | .value)}]
}
