"""A signed-in session of an own-auth (MG2) customer (SSN-3)."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description=(
    "A session papergraph issued to a customer of an own-auth (MG2) tenant: send `accessToken` as "
    "`Authorization: Bearer …`; before it expires, trade `refreshToken` for a new pair with `refreshSession`."))
class CustomerSession:
    access_token: str = strawberry.field(description=(
        "An RS256 JWT signed by papergraph's own key (published at /.well-known/jwks.json)."))
    access_token_expires_at: datetime = strawberry.field(description="When the access token stops being accepted.")
    refresh_token: str = strawberry.field(description=(
        "Single use: `refreshSession` answers a new one; using this one again ends the session (SSN-3)."))
    session_expires_at: datetime = strawberry.field(description=(
        "The session's absolute end (SSN-5); it also ends after 30 idle minutes without a refresh."))
