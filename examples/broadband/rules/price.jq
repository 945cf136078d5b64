# price rule.  Input {order, items, task}; output the order with a monthly
# price (EUR) on each of the task's items and the order's monthly total.
# An item without the bandwidth it needs is an error: the task falls out.

def dsl: if . <= 16 then 19.99 elif . <= 50 then 29.99 elif . <= 100 then 34.99 else 44.99 end;
def fibre: if . <= 100 then 29.99 elif . <= 300 then 39.99 elif . <= 500 then 49.99 else 69.99 end;

def monthly:
    if .spec == "BB-DSL" or .spec == "BB-FIBRE" then
        if (.bandwidth | type) != "number" then
            error("item \(.id): no bandwidth to price \(.spec) by")
        elif .spec == "BB-DSL" then .bandwidth | dsl
        else .bandwidth | fibre end
    elif .spec == "VOICE" then 9.99
    else 0 end;

# Business prices are net of the 20 % business discount.
def discount($category): if $category == "business" then . * 0.8 | . * 100 | round / 100 else . end;

[.items[] | if type == "object" then .id else . end] as $ids
| .order
| .category as $category
| .items |= map(
    . as $item
    | if any($ids[]; . == $item.id) and .action != "delete" then
          .monthlyPrice = (monthly | discount($category))
      else . end)
| .monthlyTotal = ([.items[] | select(.action != "delete") | .monthlyPrice // 0] | add // 0 | . * 100 | round / 100)
