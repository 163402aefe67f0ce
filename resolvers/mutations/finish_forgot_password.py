"""`finishForgotPassword` (USR-5, USR-7: sets the password once, invalidates the link, records PWDRESET)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import CREATED_CRIDS, ANYONE, allow

from datasources.repositories.users import DuplicateRow, new_event
from domain.users import EVENT_FORGOT_PASSWORD_FINISH, EVENT_FORGOT_PASSWORD_START, FORGOT_PASSWORD
from resolvers.mutation_support import error_type
from resolvers.mutations.change_password import set_password
from resolvers.user_flows import UserFlowError, checked_password, flow_error, registration_for, users, valid_link
from schema.registrations import Registration

INVALID_LINK = "The link is invalid, has expired or has already been used"


@strawberry.enum(description="Why `finishForgotPassword` refused its input.")
class FinishForgotPasswordErrorCode(Enum):
    INVALID_LINK = "INVALID_LINK"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    NOT_FOUND = "NOT_FOUND"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


FinishForgotPasswordError = error_type("FinishForgotPassword", FinishForgotPasswordErrorCode)


@strawberry.input
class FinishForgotPasswordInput:
    token: str = strawberry.field(description="The token of the forgot-password link.")
    password: str = strawberry.field(description="USR-5.")


@strawberry.type
class FinishForgotPasswordPayload:
    registration: Optional[Registration] = None
    user_errors: list[FinishForgotPasswordError] = strawberry.field(default_factory=list)


@strawberry.type
class FinishForgotPassword:
    @strawberry.mutation(description="Set the new password from a forgot-password link; the link is then used up.", extensions=allow(ANYONE))
    async def finish_forgot_password(self, info: Info, input: FinishForgotPasswordInput) -> Optional[FinishForgotPasswordPayload]:
        context = info.context
        try:
            link = await valid_link(context, FORGOT_PASSWORD, input.token, EVENT_FORGOT_PASSWORD_START)
            if link is None:
                raise UserFlowError("INVALID_LINK", INVALID_LINK, ["input", "token"])
            checked_password(input.password, ["input", "password"])
            row = await registration_for(context, link.event.crid, ["input", "token"])
            changes = await set_password(context, row, input.password, ignore_provider=False)
            event = new_event(context.tenant.id, EVENT_FORGOT_PASSWORD_FINISH, crid=row.crid, parent_id=link.event.id)
            try:
                row, _ = await users(context).update(context.tenant.id, row.crid, changes, event,
                                                     consume=(FORGOT_PASSWORD, link.event.id))
            except DuplicateRow:  # another request used the link first
                raise UserFlowError("INVALID_LINK", INVALID_LINK, ["input", "token"])
        except UserFlowError as error:
            return FinishForgotPasswordPayload(user_errors=[flow_error(
                FinishForgotPasswordError, FinishForgotPasswordErrorCode, error)])
        context.extra.setdefault(CREATED_CRIDS, set()).add(row.crid)  # the reset link proved the account is theirs
        return FinishForgotPasswordPayload(registration=context.loaders.registration_from_row(row))
