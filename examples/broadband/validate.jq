# validate.jq: checks an incoming TMF622 ProductOrder for the broadband
# cartridge.  Emits one {path, message} object per problem, every problem
# rather than the first; emits nothing for a valid order.  Reads $now (the
# current instant) to tell future dates from past ones.
#
# The helpers below are repeated in transform.jq: a cartridge's programs are
# compiled one by one, so they cannot share a module.

def problem($path; $message): {path: $path, message: $message};

# A number, or a string holding one (TMF622 characteristic values are often
# strings); null for anything else.
def num:
    if type == "number" then .
    elif type == "string" then (tonumber? // null)
    else null end;

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

# A requested start date may be past (work then starts at once): only its
# shape is checked.
def start_problem($path):
    if . == null or rfc3339 != null then empty
    else problem($path; "\(tojson) is not an RFC 3339 date-time") end;

# The order's key: a string (TMF622 v4) or the first id of the array of
# external identifiers (v5), as osm reads it.
def key: .externalId | if type == "array" then (.[0].id? // null) else . end;

# A related party's id: on the party (v4) or on its partyOrPartyRole (v5).
def party_id: .id // .partyOrPartyRole.id?;

# Every item with its path, a bundle's items after the bundle.
def items_with_paths($p):
    (.productOrderItem // []) as $its
    | if ($its | type) != "array" then empty
      else range(0; $its | length) as $n
      | ["\($p).productOrderItem[\($n)]", $its[$n]],
        ($its[$n] | if type == "object" then items_with_paths("\($p).productOrderItem[\($n)]")
                    else empty end)
      end;

def spec: .product.productSpecification.id?;

def characteristics:
    (.product.productCharacteristic? // []) | if type == "array" then . else [] end;

def characteristic($name):
    [characteristics[] | select(type == "object" and .name == $name) | .value] | first;

def places: (.product.place? // []) | if type == "array" then . else [] end;

# An installation address: a place whose role is installationAddress (TMF622
# v4 puts the address fields on the place itself, v5 nests them under
# .place), or a characteristic installationAddress holding an address.
def installation_address:
    ([places[] | select(type == "object" and (.role | lower) == "installationaddress")
      | if (.place | type) == "object" then .place else . end]
     + [characteristics[] | select(type == "object" and .name == "installationAddress"
                                   and (.value | type) == "object") | .value])
    | first;

# Fibre always needs a technician; DSL does unless the customer installs it.
def needs_site_visit:
    .action == "add"
    and (spec == "BB-FIBRE"
         or (spec == "BB-DSL" and (characteristic("installationType") // "technician") != "self"));

def known_specs: ["BB-DSL", "BB-FIBRE", "VOICE", "CPE-ROUTER", "BB-BUNDLE"];
def actions: ["add", "modify", "delete", "noChange"];
def max_bandwidth: {"BB-DSL": 250, "BB-FIBRE": 1000};

def item_problems($p; $n; $ids; $now_s):
    (.id | if type == "number" then tostring else . end) as $id
    | (if (.id | type) == "number" or ((.id | type) == "string" and .id != "") then empty
       else problem("\($p).id"; "item has no id") end),
      (if $id != null and $id != "" and ($ids[0:$n] | index([$id])) != null then
           problem("\($p).id"; "duplicate item id \($id | tojson)")
       else empty end),
      (if .action == null then problem("\($p).action"; "item has no action")
       elif (.action as $a | actions | index([$a])) == null then
           problem("\($p).action"; "unknown action \(.action | tojson) (add, modify, delete or noChange)")
       else empty end),
      (spec as $spec
       | if $spec == null then
             problem("\($p).product.productSpecification.id"; "item has no product specification")
         elif (known_specs | index([$spec])) == null then
             problem("\($p).product.productSpecification.id";
                     "unknown product specification \($spec | tojson)")
         else empty end),
      (spec as $spec
       | select($spec == "BB-DSL" or $spec == "BB-FIBRE")
       | characteristics as $cs
       | [range(0; $cs | length) | select(($cs[.] | type) == "object" and $cs[.].name == "bandwidth")] as $at
       | if $at == [] then
             if .action == "add" then
                 problem("\($p).product.productCharacteristic"; "\($spec) needs a bandwidth characteristic (Mbit/s)")
             else empty end
         else
             $at[] as $j | $cs[$j].value as $v | ($v | num) as $bw
             | if $bw == null or $bw <= 0 then
                   problem("\($p).product.productCharacteristic[\($j)].value";
                           "bandwidth must be a positive number of Mbit/s, not \($v | tojson)")
               elif $bw > max_bandwidth[$spec] then
                   problem("\($p).product.productCharacteristic[\($j)].value";
                           "\($spec) offers at most \(max_bandwidth[$spec]) Mbit/s, not \($bw)")
               else empty end
         end),
      (if needs_site_visit then
           installation_address as $a
           | if $a == null then
                 problem("\($p).product.place"; "a site visit needs an installation address (a place with role installationAddress)")
             elif (($a.postcode // "") | tostring) == "" then
                 problem("\($p).product.place"; "installation address has no postcode")
             else empty end
       else empty end),
      (.requestedCompletionDate | date_problem("\($p).requestedCompletionDate"; $now_s)),
      (.requestedStartDate | start_problem("\($p).requestedStartDate")),
      ((.productOrderItemRelationship? // []) as $rels
       | if ($rels | type) != "array" then
             problem("\($p).productOrderItemRelationship"; "must be an array")
         else
             range(0; $rels | length) as $k | $rels[$k]
             | select(type == "object" and ((.relationshipType // .relationship) | lower) == "relieson")
             | (.id | if type == "number" then tostring else . end) as $to
             | if $to == $id then
                   problem("\($p).productOrderItemRelationship[\($k)].id"; "item relies on itself")
               elif ($ids | index([$to])) == null then
                   problem("\($p).productOrderItemRelationship[\($k)].id"; "relies on unknown item \($to | tojson)")
               else empty end
         end);

($now | rfc3339) as $now_s
| if type != "object" then problem("."; "order must be a JSON object")
  else
    (if (key | type) == "string" and key != "" then empty
     else problem(".externalId"; "order has no externalId (a string, or an array of {id, owner})") end),

    ((.relatedParty // []) as $rp
     | if ($rp | type) != "array" then problem(".relatedParty"; "must be an array")
       else [range(0; $rp | length) | select(($rp[.] | type) == "object" and ($rp[.].role | lower) == "customer")] as $c
       | if $c == [] then problem(".relatedParty"; "no related party with role \"customer\"")
         elif (($rp[$c[0]] | party_id // "") | tostring) == "" then problem(".relatedParty[\($c[0])].id"; "customer has no id")
         else empty end
       end),

    (if .priority == null then empty
     else (.priority | num) as $pr
     | if $pr == null or $pr != ($pr | floor) or $pr < 0 or $pr > 4 then
           problem(".priority"; "priority must be 0 (highest) to 4 (lowest), not \(.priority | tojson)")
       else empty end
     end),

    (.requestedCompletionDate | date_problem(".requestedCompletionDate"; $now_s)),
    (.requestedStartDate | start_problem(".requestedStartDate")),

    (.productOrderItem as $its
     | if $its == null or $its == [] then problem(".productOrderItem"; "order has no items")
       elif ($its | type) != "array" then problem(".productOrderItem"; "must be an array of items")
       else
         [items_with_paths("")] as $all
         | [$all[][1] | if type == "object" then .id else null end
            | if type == "number" then tostring else . end] as $ids
         | range(0; $all | length) as $n
         | $all[$n][0] as $p
         | $all[$n][1]
         | if type != "object" then problem($p; "item must be an object")
           else item_problems($p; $n; $ids; $now_s) end
       end)
  end
