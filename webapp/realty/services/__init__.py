"""The realty rules, one module per area; plain functions over the session that flush, never commit."""
