# One {path, message} object per problem; no output means the order is valid.
(if (.externalId | type) != "string" then {path: ".externalId", message: "required string"} else empty end),
(if (.productOrderItem | type) != "array" or (.productOrderItem | length) == 0
 then {path: ".productOrderItem", message: "at least one item is required"} else empty end),
(.productOrderItem // [] | to_entries[]
 | select((.value.id | type) != "string")
 | {path: ".productOrderItem[\(.key)].id", message: "required string"})
