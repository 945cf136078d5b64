# allocate-port response.  Input {order, response, task}; output the order
# with the port (and the exchange it is on) recorded on its item.
.response.data as $d
| .order
| .items |= map(if .id == $d.itemId then .port = $d.port | .exchange = $d.exchange else . end)
