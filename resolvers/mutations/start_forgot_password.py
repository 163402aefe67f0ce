"""`startForgotPassword` (USR-7: records PWDREQ and issues the link)."""

from __future__ import annotations

from enum import Enum

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow

from datasources.models import utcnow
from datasources.repositories.users import new_event
from domain.users import EVENT_FORGOT_PASSWORD_START, link_expiry
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, checked_email, flow_error, users


@strawberry.enum(description="Why `startForgotPassword` refused its input.")
class StartForgotPasswordErrorCode(Enum):
    INVALID_EMAIL = "INVALID_EMAIL"


StartForgotPasswordError = error_type("StartForgotPassword", StartForgotPasswordErrorCode)


@strawberry.input
class StartForgotPasswordInput:
    email: str


@strawberry.type
class StartForgotPasswordPayload:
    accepted: bool = strawberry.field(default=False, description=(
        "True when the request was taken. Also true for an unknown e-mail, so the answer never tells whether an "
        "address is registered."))
    user_errors: list[StartForgotPasswordError] = strawberry.field(default_factory=list)


@strawberry.type
class StartForgotPassword:
    @strawberry.mutation(description=(
        "Start the forgot-password flow: records PWDREQ, from which the e-mail's link is built; the link carries "
        "an encrypted, expiring (24 h), single-use token of that event (USR-7). A newer request retires older links."
    ), extensions=allow(ANYONE))
    async def start_forgot_password(self, info: Info, input: StartForgotPasswordInput) -> Optional[StartForgotPasswordPayload]:
        context = info.context
        try:
            email = checked_email(input.email, ["input", "email"])
        except UserFlowError as error:
            return StartForgotPasswordPayload(user_errors=[flow_error(
                StartForgotPasswordError, StartForgotPasswordErrorCode, error)])
        repository = users(context)
        row = await repository.by_email(context.tenant.id, email)
        if row is not None:
            now = utcnow()
            await repository.record(new_event(context.tenant.id, EVENT_FORGOT_PASSWORD_START, crid=row.crid,
                                              details={"expiresAt": link_expiry(now).isoformat()}, created_at=now))
        return StartForgotPasswordPayload(accepted=True)
