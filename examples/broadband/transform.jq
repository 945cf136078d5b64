# transform.jq: TMF622 ProductOrder -> the broadband cartridge's internal
# order.  Runs on orders validate.jq found valid.  The output:
#
#   {externalId, revisionNumber, category, customer: {id, name},
#    billingAccount, address, shippingAddress, region: "north"|"south",
#    priority (0-9, 9 highest; absent when the order gives none),
#    requestedDate, requestedStartDate, siteVisit,
#    items: [{id, action, spec, name, productId, bandwidth, installationType,
#             model, siteVisit, address, reliesOn: [ids], requestedDate,
#             requestedStartDate, quantity}]}
#
# Orders may be TMF622 v4 or v5: an externalId string or an array of
# {id, owner, externalIdentifierType} (the first id is the key), a
# customer's id on the related party or on its partyOrPartyRole, a
# bundle's items nested in it (they follow the bundle in items).
#
# Keys whose value would be null are left out.  The helpers are repeated
# from validate.jq (programs cannot share a module).

def num:
    if type == "number" then .
    elif type == "string" then (tonumber? // null)
    else null end;

def lower: if type == "string" then ascii_downcase else "" end;

def id_string: if type == "number" then tostring else . end;

def prune: with_entries(select(.value != null));

def spec: .product.productSpecification.id?;

def characteristics:
    (.product.productCharacteristic? // []) | if type == "array" then . else [] end;

def characteristic($name):
    [characteristics[] | select(type == "object" and .name == $name) | .value] | first;

def places: (.product.place? // []) | if type == "array" then . else [] end;

# A place as an address, whether its fields are on the place (TMF622 v4)
# or nested under .place (v5).
def address:
    (if (.place | type) == "object" then .place else . end)
    | {streetNr, streetName, postcode: (.postcode | if . == null then null else tostring end),
       city, country}
    | prune;

def place_with_role($role):
    [places[] | select(type == "object" and (.role | lower) == ($role | ascii_downcase)) | address] | first;

def installation_address:
    place_with_role("installationAddress")
    // ([characteristics[] | select(type == "object" and .name == "installationAddress"
                                    and (.value | type) == "object") | .value | address] | first);

def any_address: installation_address // ([places[] | select(type == "object") | address] | first);

def needs_site_visit:
    .action == "add"
    and (spec == "BB-FIBRE"
         or (spec == "BB-DSL" and (characteristic("installationType") // "technician") != "self"));

# Postcodes 0xxxx-4xxxx are served by the northern activation system,
# the rest (and orders with no address at all) by the southern one.
def region:
    ((.postcode // "") | tostring | .[0:1]) as $d
    | if $d != "" and ("01234" | contains($d)) then "north" else "south" end;

def item:
    spec as $spec
    | {
        id: (.id | id_string),
        action: .action,
        spec: $spec,
        name: .product.productSpecification.name?,
        productId: .product.id?,
        bandwidth: (if $spec == "BB-DSL" or $spec == "BB-FIBRE" then characteristic("bandwidth") | num else null end),
        installationType: (if .action == "add" and ($spec == "BB-DSL" or $spec == "BB-FIBRE") then
                               (if $spec == "BB-FIBRE" then "technician"
                                else characteristic("installationType") // "technician" end)
                           else null end),
        model: (if $spec == "CPE-ROUTER" then characteristic("model") // "MESH-AP-1200" else null end),
        siteVisit: needs_site_visit,
        address: any_address,
        reliesOn: [(.productOrderItemRelationship? // [])[]
                   | select(type == "object" and ((.relationshipType // .relationship) | lower) == "relieson")
                   | .id | id_string],
        requestedDate: .requestedCompletionDate,
        requestedStartDate: .requestedStartDate,
        quantity: (.quantity // 1)
      }
    | prune;

# Tolerates orders validate.jq would refuse (an order type whose onInvalid
# is fallout stores them for a person to fix): what is not an object is
# left out rather than failing the transformation.
def items:
    (.productOrderItem // [] | if type == "array" then .[] else empty end | select(type == "object"))
    | ., items;

[items] as $in
| [$in[] | item] as $items
| ([$in[] | installation_address] + [$in[] | any_address] | map(select(. != null)) | first) as $address
| ([(.relatedParty // [] | if type == "array" then .[] else empty end)
    | select(type == "object" and (.role | lower) == "customer")
    | .id //= .partyOrPartyRole.id? | .name //= .partyOrPartyRole.name?] | first) as $customer
| {
    externalId: (.externalId | if type == "array" then .[0].id? else . end),
    revisionNumber: (.revisionNumber // 0),
    category: (.category // "residential"),
    description: .description,
    customer: ($customer | {id: (.id | id_string), name} | prune),
    billingAccount: .billingAccount.id?,
    address: $address,
    shippingAddress: ([$in[] | place_with_role("shippingAddress")] + [$address]
                      | map(select(. != null)) | first),
    region: ($address // {} | region),
    # TMF622 priority runs from 0 (highest) to 4; osm's from 0 to 9 (highest).
    priority: (.priority | num | if . == null then null else 9 - 2 * . end),
    requestedDate: .requestedCompletionDate,
    requestedStartDate: .requestedStartDate,
    siteVisit: any($items[]; .siteVisit),
    items: $items
  }
| prune
