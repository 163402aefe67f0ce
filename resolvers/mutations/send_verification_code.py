"""`sendVerificationCode` (USR-9: records VERIFYCODE, from which the verification e-mail is built)."""

from __future__ import annotations

from enum import Enum

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow

from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, checked_email, flow_error, users, verification_event


@strawberry.enum(description="Why `sendVerificationCode` refused its input.")
class SendVerificationCodeErrorCode(Enum):
    INVALID_EMAIL = "INVALID_EMAIL"


SendVerificationCodeError = error_type("SendVerificationCode", SendVerificationCodeErrorCode)


@strawberry.input
class SendVerificationCodeInput:
    email: str


@strawberry.type
class SendVerificationCodePayload:
    accepted: bool = strawberry.field(default=False, description=(
        "True when the request was taken; also for an unknown or already verified e-mail (nothing is sent then), "
        "so the answer never tells whether an address is registered."))
    user_errors: list[SendVerificationCodeError] = strawberry.field(default_factory=list)


@strawberry.type
class SendVerificationCode:
    @strawberry.mutation(description=(
        "Send (or resend) the verification code of an unverified registration: records VERIFYCODE; the code is an "
        "encrypted, expiring (24 h), single-use token of that event."
    ), extensions=allow(ANYONE))
    async def send_verification_code(self, info: Info, input: SendVerificationCodeInput) -> Optional[SendVerificationCodePayload]:
        context = info.context
        try:
            email = checked_email(input.email, ["input", "email"])
        except UserFlowError as error:
            return SendVerificationCodePayload(user_errors=[flow_error(
                SendVerificationCodeError, SendVerificationCodeErrorCode, error)])
        repository = users(context)
        row = await repository.by_email(context.tenant.id, email)
        if row is not None and not row.email_verified:
            await repository.record(verification_event(context.tenant.id, row.crid, row.email))
        return SendVerificationCodePayload(accepted=True)
