# validate.jq: checks an incoming web shop order (a TMF622 ProductOrder
# with a payment object and a shipping address) for the webshop cartridge.
# Emits one {path, message} object per problem, every problem rather than
# the first; emits nothing for a valid order.  Reads $now (the current
# instant) to tell future dates from past ones.
#
# The catalogue and the helpers below are repeated in transform.jq: a
# cartridge's programs are compiled one by one, so they cannot share a
# module.

def problem($path; $message): {path: $path, message: $message};

# The shop's catalogue: SKU -> name, unit price (EUR), and whether it is
# a physical article (picked, packed and shipped) or a download.
def catalogue:
    {
      "SKU-1001": {name: "Espresso cup set (2 cups)", price: 24.90, physical: true},
      "SKU-1002": {name: "Burr coffee grinder", price: 89.00, physical: true},
      "SKU-1003": {name: "Coffee beans, 1 kg", price: 18.50, physical: true},
      "SKU-1004": {name: "Milk frother", price: 39.90, physical: true},
      "SKU-2001": {name: "Barista course (video download)", price: 49.00, physical: false},
      "SKU-2002": {name: "Gift card (sent by e-mail)", price: 25.00, physical: false}
    };

def payment_methods: ["card", "invoice", "paypal"];

def lower: if type == "string" then ascii_downcase else "" end;

# Seconds since the epoch of an RFC 3339 date-time, or null when the value
# is not one (wrong shape, or a calendar date that does not exist).
def rfc3339:
    if type != "string" then null else
    (capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?<t>[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.[0-9]+)?(?<z>[Zz]|[+-][0-9]{2}:[0-9]{2})$")
     // null)
    | if . == null then null else
        (.d + "T" + .t + "Z") as $utc
        | (try ($utc | fromdateiso8601) catch null) as $s
        | if $s == null or ($s | todate) != $utc then null
          elif .z == "Z" or .z == "z" then $s
          else ((.z[1:3] | tonumber) * 3600 + (.z[4:6] | tonumber) * 60) as $off
            | if .z[0:1] == "+" then $s - $off else $s + $off end
          end
      end
    end;

def date_problem($path; $now_s):
    if . == null then empty
    else rfc3339 as $s
    | if $s == null then problem($path; "\(tojson) is not an RFC 3339 date-time")
      elif $now_s != null and $s <= $now_s then
          problem($path; "requested completion date \(.) is not in the future")
      else empty end
    end;

def sku: (.product.productSpecification.id)? // null;

def characteristics:
    ((.product.productCharacteristic)? // []) | if type == "array" then . else [] end;

def item_problems($p; $n; $ids; $now_s):
    (.id | if type == "number" then tostring else . end) as $id
    | (if (.id | type) == "number" or ((.id | type) == "string" and .id != "") then empty
       else problem("\($p).id"; "item has no id") end),
      (if $id != null and $id != "" and ($ids[0:$n] | index([$id])) != null then
           problem("\($p).id"; "duplicate item id \($id | tojson)")
       else empty end),
      (if .action == null then problem("\($p).action"; "item has no action")
       elif .action != "add" then
           problem("\($p).action"; "unknown action \(.action | tojson) (a shop order only adds items)")
       else empty end),
      (sku as $sku
       | if $sku == null then
             problem("\($p).product.productSpecification.id"; "item has no SKU")
         elif ($sku | type) != "string" or catalogue[$sku] == null then
             problem("\($p).product.productSpecification.id"; "unknown SKU \($sku | tojson)")
         else empty end),
      (if has("quantity") | not then empty
       elif (.quantity | type) != "number" or .quantity != (.quantity | floor) or .quantity < 1 then
           problem("\($p).quantity"; "quantity must be a positive whole number, not \(.quantity | tojson)")
       else empty end),
      (characteristics as $cs
       | range(0; $cs | length) as $j
       | $cs[$j]
       | select(type == "object" and .name == "giftWrap" and (.value | type) != "boolean")
       | problem("\($p).product.productCharacteristic[\($j)].value";
                 "giftWrap must be true or false, not \(.value | tojson)")),
      (.requestedCompletionDate | date_problem("\($p).requestedCompletionDate"; $now_s));

($now | rfc3339) as $now_s
| if type != "object" then problem("."; "order must be a JSON object")
  else
    (if (.externalId | type) == "string" and .externalId != "" then empty
     else problem(".externalId"; "order has no externalId") end),

    ((.relatedParty // []) as $rp
     | if ($rp | type) != "array" then problem(".relatedParty"; "must be an array")
       else [range(0; $rp | length) | select(($rp[.] | type) == "object" and ($rp[.].role | lower) == "customer")] as $c
       | if $c == [] then problem(".relatedParty"; "no related party with role \"customer\"")
         elif (($rp[$c[0]].id // "") | tostring) == "" then problem(".relatedParty[\($c[0])].id"; "customer has no id")
         else empty end
       end),

    (.payment as $pay
     | if $pay == null then problem(".payment"; "order has no payment")
       elif ($pay | type) != "object" then problem(".payment"; "must be an object")
       elif $pay.method == null then problem(".payment.method"; "payment has no method (card, invoice or paypal)")
       elif (payment_methods | index([$pay.method])) == null then
           problem(".payment.method"; "unknown payment method \($pay.method | tojson) (card, invoice or paypal)")
       else empty end),

    (.requestedCompletionDate | date_problem(".requestedCompletionDate"; $now_s)),

    (.productOrderItem as $its
     | if $its == null or $its == [] then problem(".productOrderItem"; "order has no items")
       elif ($its | type) != "array" then problem(".productOrderItem"; "must be an array of items")
       else
         ([$its[] | if type == "object" then .id else null end
           | if type == "number" then tostring else . end] as $ids
          | range(0; $its | length) as $n
          | $its[$n]
          | if type != "object" then problem(".productOrderItem[\($n)]"; "item must be an object")
            else item_problems(".productOrderItem[\($n)]"; $n; $ids; $now_s) end),

         # Physical articles go by parcel: they need somewhere to go.
         (if any($its[]; type == "object" and (sku | type) == "string" and catalogue[sku].physical == true) then
              .shippingAddress as $a
              | if $a == null then
                    problem(".shippingAddress"; "physical items need a shipping address")
                elif ($a | type) != "object" then
                    problem(".shippingAddress"; "must be an object")
                else
                    (if $a.country == null or $a.country == "" then
                         problem(".shippingAddress.country"; "shipping address has no country")
                     elif ($a.country | type) != "string" or ($a.country | test("^[A-Za-z]{2}$") | not) then
                         problem(".shippingAddress.country";
                                 "country must be an ISO 3166-1 alpha-2 code such as \"DE\", not \($a.country | tojson)")
                     else empty end),
                    (if (($a.city // "") | tostring) == "" then
                         problem(".shippingAddress.city"; "shipping address has no city")
                     else empty end)
                end
          else empty end)
       end)
  end
