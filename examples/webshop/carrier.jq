# ship's system: the carrier for the parcel's destination.  Input: one
# item, with $order the internal order.  DHL takes parcels to the member
# states of the EU, UPS everything else.  The country is the shipping
# address's ISO 3166-1 alpha-2 code (transform.jq makes it upper case).

def eu: ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR",
         "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO",
         "SE", "SI", "SK"];

($order.shippingAddress.country // "") as $country
| if eu | index([$country]) then "dhl" else "ups" end
