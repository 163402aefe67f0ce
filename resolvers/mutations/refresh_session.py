"""`refreshSession` (SSN-3, SSN-5): trade a refresh token for a new access token and a new refresh token."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from datasources.models import RefreshToken, utcnow
from datasources.repositories.sessions import SessionRepository
from datasources.repositories.users import aware
from domain.sessions import new_refresh_token, session_expired, token_hash
from resolvers.mutation_support import error_type
from resolvers.session_flows import access_token, limits, own_auth
from schema.sessions import CustomerSession


@strawberry.enum(description="Why `refreshSession` refused.")
class RefreshSessionErrorCode(Enum):
    INVALID_REFRESH_TOKEN = strawberry.enum_value("INVALID_REFRESH_TOKEN", description=(
        "Unknown, revoked, or already used (then the whole session is revoked: sign in again)."))
    SESSION_EXPIRED = strawberry.enum_value("SESSION_EXPIRED", description=(
        "The session ended: 30 idle minutes, or 24 hours since sign-in (SSN-5), or a sign-out (SSN-4)."))


RefreshSessionError = error_type("RefreshSession", RefreshSessionErrorCode)


@strawberry.input(description="The refresh token `signIn` or the last `refreshSession` answered.")
class RefreshSessionInput:
    refresh_token: str = strawberry.field(description="The refresh token (single use).")


@strawberry.type(description="The answer of `refreshSession`: the session's new tokens, or why not.")
class RefreshSessionPayload:
    session: Optional[CustomerSession] = strawberry.field(default=None, description="The session's new tokens.")
    user_errors: list[RefreshSessionError] = strawberry.field(default_factory=list, description="Why it was refused.")


def _refused(code: RefreshSessionErrorCode, message: str) -> RefreshSessionPayload:
    return RefreshSessionPayload(user_errors=[RefreshSessionError(code=code, field=["input", "refreshToken"],
                                                                  message=message)])


@strawberry.type
class RefreshSession:
    @strawberry.mutation(description=(
        "Trade a refresh token for a new access token and a new refresh token (SSN-3). Each refresh token works "
        "once: presenting a used one again revokes the whole session (reuse detection). A session ends after 30 "
        "idle minutes or 24 hours (SSN-5), and at sign-out (SSN-4)."), extensions=allow(ANYONE))
    async def refresh_session(self, info: Info, input: Annotated[RefreshSessionInput, strawberry.argument(description="The refresh token to trade.")]) -> Optional[RefreshSessionPayload]:
        context = info.context
        tenant = context.tenant
        invalid = (RefreshSessionErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid: sign in again")
        if not own_auth(tenant):
            return _refused(*invalid)
        repository = SessionRepository(context.services.db)
        row = await repository.refresh_token(tenant.id, token_hash(input.refresh_token.strip()))
        if row is None or row.revoked_at is not None:
            return _refused(*invalid)
        if row.used_at is not None:  # reuse: whoever holds the family's newest token loses it too
            await repository.revoke_family(row.family)
            return _refused(*invalid)
        now = utcnow()
        if session_expired(now, aware(row.session_started_at), aware(row.created_at), limits(context.settings)):
            await repository.revoke_family(row.family)
            return _refused(RefreshSessionErrorCode.SESSION_EXPIRED, "The session has ended: sign in again")
        registration = await repository.registration(row.registration_id)
        if registration is None or not registration.email_verified:
            return _refused(*invalid)
        refresh = new_refresh_token()
        successor = RefreshToken(tenant_id=tenant.id, registration_id=row.registration_id, family=row.family,
                                 token_hash=token_hash(refresh), session_started_at=row.session_started_at,
                                 created_at=now)
        if not await repository.rotate(row, successor):  # a concurrent use of the same token: reuse
            await repository.revoke_family(row.family)
            return _refused(*invalid)
        started = aware(row.session_started_at)
        token, expires_at = await access_token(context, registration, row.family, started, now)
        return RefreshSessionPayload(session=CustomerSession(
            access_token=token, access_token_expires_at=expires_at, refresh_token=refresh,
            session_expires_at=started + limits(context.settings).absolute))
