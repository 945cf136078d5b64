# A TMF622 ProductOrder of the bench category.
.["@type"] == "ProductOrder" and .category == "bench"
