"""msgspec Structs at the edges of the API, one module per resource."""
