# activate response.  Input {order, response, task}; output the order with
# each activated item's service id, matched by item id.
((.response.data.services // []) | map({key: .itemId, value: .}) | from_entries) as $done
| .order
| .items |= map(
    if $done[.id] then
      .serviceId = $done[.id].serviceId
    else . end)
