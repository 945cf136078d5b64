# One {path, message} object per problem; nothing for a valid order.
def problem($path; $message): {path: $path, message: $message};

(if (.externalId | type) == "string" and .externalId != "" then empty
 else problem(".externalId"; "order has no externalId") end),
(if any(.relatedParty[]?; .role == "customer" and (.id | type) == "string") then empty
 else problem(".relatedParty"; "no related party with role \"customer\"") end),
(if (.productOrderItem | type) != "array" or .productOrderItem == [] then
     problem(".productOrderItem"; "order has no items")
 else
     .productOrderItem | to_entries[] | .key as $n | .value
     | (if (.id | type) == "string" and .id != "" then empty
        else problem(".productOrderItem[\($n)].id"; "item has no id") end),
       (if .action == "add" then empty
        else problem(".productOrderItem[\($n)].action"; "only add is supported") end),
       (if .product.productSpecification.id? == "BENCH-LINE" then empty
        else problem(".productOrderItem[\($n)].product.productSpecification.id";
                     "unknown product specification") end)
 end)
