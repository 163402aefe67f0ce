"""`signOut` (SSN-4): the signed-in customer's LastLogoutDate becomes now; every token issued before it is
refused and every refresh token of the registration is revoked."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, allow
from datasources.repositories.sessions import SessionRepository
from datasources.repositories.users import new_event
from resolvers.mutation_support import error_type

EVENT = "SIGNOUT"


@strawberry.enum(description="Why `signOut` refused.")
class SignOutErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="papergraph has no registration for this customer.")


SignOutError = error_type("SignOut", SignOutErrorCode)


@strawberry.type(description="The answer of `signOut`.")
class SignOutPayload:
    signed_out: bool = strawberry.field(default=False, description="True when the sessions were ended.")
    user_errors: list[SignOutError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class SignOut:
    @strawberry.mutation(description=(
        "Sign the customer out everywhere (SSN-4): sets LastLogoutDate, so every access token issued before now "
        "is refused, and revokes every refresh token. Records SIGNOUT."), extensions=allow(ANY_CUSTOMER))
    async def sign_out(self, info: Info) -> Optional[SignOutPayload]:
        context = info.context
        registration = await context.customer_registration()
        if registration is None:
            return SignOutPayload(user_errors=[SignOutError(code=SignOutErrorCode.NOT_FOUND, field=None,
                                                            message="No registration for this customer")])
        crid = context.principal.crid
        await SessionRepository(context.services.db).sign_out(
            context.tenant.id, int(registration.registration_id), new_event(context.tenant.id, EVENT, crid=crid))
        context.services.session_guard.forget(context.tenant.code, crid)
        return SignOutPayload(signed_out=True)
