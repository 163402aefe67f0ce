"""Root query fields of the user flows: whether a forgot-password link may still be used (USR-7)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from domain.users import EVENT_FORGOT_PASSWORD_START, FORGOT_PASSWORD
from resolvers.user_flows import valid_link


@strawberry.type
class UserLinkQueries:
    @strawberry.field(description=(
        "USR-7: true while a forgot-password link's token is papergraph's, unexpired (24 h), unused and the "
        "newest of its registration; false otherwise (never an error, whatever the token)."
    ), extensions=allow(ANYONE))
    async def forgot_password_link_valid(self, info: Info, token: str) -> bool:
        return await valid_link(info.context, FORGOT_PASSWORD, token, EVENT_FORGOT_PASSWORD_START) is not None
