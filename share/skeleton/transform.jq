# The incoming order -> the internal order the rest of the cartridge reads.
{
  externalId,
  revisionNumber: (.revisionNumber // 0),
  requestedDate: .requestedCompletionDate,
  items: [.productOrderItem[] | {id, action: (.action // "add"), spec: (.product.productSpecification.id // "widget")}]
}
