"""Authentication (RS256 access tokens from the tenant's Auth0, AUT-1) and authorization (principals,
per-section access levels, scopes)."""
