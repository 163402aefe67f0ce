"""Business rules as pure functions, one module per domain, each citing its rule ids (domain.md)."""
