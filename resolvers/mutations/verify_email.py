"""`verifyEmail` (USR-1, USR-9: the registration becomes verified; records VERIFYEMAIL)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import CREATED_CRIDS, ANYONE, allow

from datasources.repositories.users import DuplicateRow, new_event
from domain.users import EVENT_VERIFICATION_CODE, EVENT_VERIFIED, VERIFY_EMAIL
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, checked_email, flow_error, provider, registration_for, users, \
    valid_link
from schema.registrations import Registration

INVALID_CODE = "The verification code is invalid, has expired or has already been used"


@strawberry.enum(description="Why `verifyEmail` refused its input.")
class VerifyEmailErrorCode(Enum):
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_CODE = "INVALID_CODE"
    NOT_FOUND = "NOT_FOUND"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


VerifyEmailError = error_type("VerifyEmail", VerifyEmailErrorCode)


@strawberry.input
class VerifyEmailInput:
    email: str
    code: str = strawberry.field(description="The verification code (the token of the verification link).")


@strawberry.type
class VerifyEmailPayload:
    registration: Optional[Registration] = None
    user_errors: list[VerifyEmailError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyEmail:
    @strawberry.mutation(description="Verify a registration's e-mail with its code; the user then signs in (USR-8).", extensions=allow(ANYONE))
    async def verify_email(self, info: Info, input: VerifyEmailInput) -> Optional[VerifyEmailPayload]:
        context = info.context
        try:
            email = checked_email(input.email, ["input", "email"])
            link = await valid_link(context, VERIFY_EMAIL, input.code, EVENT_VERIFICATION_CODE)
            if link is None:
                raise UserFlowError("INVALID_CODE", INVALID_CODE, ["input", "code"])
            row = await registration_for(context, link.event.crid, ["input", "code"])
            if row.email.lower() != email.lower():
                raise UserFlowError("INVALID_CODE", INVALID_CODE, ["input", "code"])
            await provider(context, False).mark_verified(row.crid)
            event = new_event(context.tenant.id, EVENT_VERIFIED, crid=row.crid, parent_id=link.event.id)
            try:
                row, _ = await users(context).update(context.tenant.id, row.crid, {"email_verified": True}, event,
                                                     consume=(VERIFY_EMAIL, link.event.id))
            except DuplicateRow:
                raise UserFlowError("INVALID_CODE", INVALID_CODE, ["input", "code"])
        except UserFlowError as error:
            return VerifyEmailPayload(user_errors=[flow_error(VerifyEmailError, VerifyEmailErrorCode, error)])
        context.extra.setdefault(CREATED_CRIDS, set()).add(row.crid)  # the code proved the e-mail is theirs
        return VerifyEmailPayload(registration=context.loaders.registration_from_row(row))
