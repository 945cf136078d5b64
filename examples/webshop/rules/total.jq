# total rule (grouped per order).  Input {order, items, task}; output the
# order with a lineTotal on each item and the order's amounts in EUR:
#
#   goods        sum of unit price x quantity
#   shipping     4.90 for an order with physical items, free from 50.00
#                of goods; nothing for download-only orders
#   giftWrapping 3.50 per gift-wrapped article (x quantity)
#   total        goods + shipping + giftWrapping
#
# An item without a unit price (not in the catalogue) is an error: the task
# falls out rather than charging the customer a wrong amount.

def cents: . * 100 | round / 100;

def line_total:
    if (.unitPrice | type) != "number" then
        error("item \(.id): no unit price for \(.spec | tojson)")
    else .unitPrice * (.quantity // 1) | cents end;

.order
| .items |= map(.lineTotal = line_total)
| ([.items[] | .lineTotal] | add // 0 | cents) as $goods
| (if any(.items[]; .physical) then (if $goods >= 50 then 0 else 4.90 end) else 0 end) as $shipping
| ([.items[] | select(.giftWrap) | 3.50 * (.quantity // 1)] | add // 0 | cents) as $wrapping
| .amounts = {
    goods: $goods,
    shipping: $shipping,
    giftWrapping: $wrapping,
    total: ($goods + $shipping + $wrapping | cents)
  }
| .total = .amounts.total
