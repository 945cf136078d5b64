# transform.jq: web shop ProductOrder -> the webshop cartridge's internal
# order.  Runs on orders validate.jq found valid.  The output:
#
#   {externalId, revisionNumber, channel: "webshop", description,
#    customer: {id, name}, payment: {method, authorizationId},
#    shippingAddress: {name, streetName, streetNr, postcode, city, country},
#    currency: "EUR", requestedDate, physical, giftWrap,
#    items: [{id, action, spec (the SKU), name, quantity, unitPrice,
#             physical, giftWrap, giftMessage, requestedDate}]}
#
# physical and giftWrap on the order say whether any item is physical or
# to be gift-wrapped.  Keys whose value would be null are left out.  The
# catalogue and helpers are repeated from validate.jq (programs cannot
# share a module).

def catalogue:
    {
      "SKU-1001": {name: "Espresso cup set (2 cups)", price: 24.90, physical: true},
      "SKU-1002": {name: "Burr coffee grinder", price: 89.00, physical: true},
      "SKU-1003": {name: "Coffee beans, 1 kg", price: 18.50, physical: true},
      "SKU-1004": {name: "Milk frother", price: 39.90, physical: true},
      "SKU-2001": {name: "Barista course (video download)", price: 49.00, physical: false},
      "SKU-2002": {name: "Gift card (sent by e-mail)", price: 25.00, physical: false}
    };

def lower: if type == "string" then ascii_downcase else "" end;

def id_string: if type == "number" then tostring else . end;

def prune: with_entries(select(.value != null));

def sku: (.product.productSpecification.id)? // null;

def characteristics:
    ((.product.productCharacteristic)? // []) | if type == "array" then . else [] end;

def characteristic($name):
    [characteristics[] | select(type == "object" and .name == $name) | .value] | first;

def item:
    sku as $sku
    | (if ($sku | type) == "string" then catalogue[$sku] else null end // {}) as $article
    | ($article.physical == true) as $physical
    | ($physical and characteristic("giftWrap") == true) as $wrap
    | {
        id: (.id | id_string),
        action: .action,
        spec: $sku,
        name: $article.name,
        quantity: (.quantity // 1),
        unitPrice: $article.price,
        physical: $physical,
        giftWrap: $wrap,
        giftMessage: (if $wrap then characteristic("giftMessage") else null end),
        requestedDate: .requestedCompletionDate
      }
    | prune;

# Tolerates what validate.jq would refuse: what is not an object is left
# out rather than failing the transformation.
(.productOrderItem // [] | if type == "array" then map(select(type == "object")) else [] end) as $in
| [$in[] | item] as $items
| ([(.relatedParty // [] | if type == "array" then .[] else empty end)
    | select(type == "object" and (.role | lower) == "customer")] | first) as $customer
| (if (.payment | type) == "object" then .payment else {} end) as $pay
| (if (.shippingAddress | type) == "object" then .shippingAddress else null end) as $ship
| {
    externalId: .externalId,
    revisionNumber: (.revisionNumber // 0),
    channel: "webshop",
    description: .description,
    customer: ($customer | {id: (.id | id_string), name} | prune),
    payment: ({method: $pay.method, authorizationId: $pay.authorizationId} | prune),
    shippingAddress: (if $ship == null then null
                      else {name: ($ship.name // $customer.name), streetName: $ship.streetName,
                            streetNr: ($ship.streetNr | if . == null then null else tostring end),
                            postcode: ($ship.postcode | if . == null then null else tostring end),
                            city: $ship.city,
                            country: ($ship.country | if type == "string" then ascii_upcase else . end)}
                           | prune
                      end),
    currency: "EUR",
    requestedDate: .requestedCompletionDate,
    physical: any($items[]; .physical),
    giftWrap: any($items[]; .giftWrap),
    items: $items
  }
| prune
