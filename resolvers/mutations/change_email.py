"""`changeEmail` (USR-4, USR-6: records CHGEMAIL)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import REGISTRATIONS, Unprivileged, allow, arg, asks_true, changes, customer_self

from datasources.repositories.users import new_event
from domain.users import EVENT_CHANGE_EMAIL
from resolvers.identity import ProviderRefused
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, checked_email, flow_error, provider, registration_for, users
from schema.registrations import Registration


@strawberry.enum(description="Why `changeEmail` refused its input.")
class ChangeEmailErrorCode(Enum):
    INVALID_EMAIL = "INVALID_EMAIL"
    NOT_FOUND = "NOT_FOUND"
    EMAIL_ALREADY_REGISTERED = "EMAIL_ALREADY_REGISTERED"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


ChangeEmailError = error_type("ChangeEmail", ChangeEmailErrorCode)


@strawberry.input
class ChangeEmailInput:
    customer_registration_id: str
    email: str = strawberry.field(description="Trimmed; refused with invisible or control characters (USR-4).")
    ignore_provider: bool = False


@strawberry.type
class ChangeEmailPayload:
    registration: Optional[Registration] = None
    user_errors: list[ChangeEmailError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangeEmail:
    @strawberry.mutation(description=(
        "Change a user's e-mail in the identity provider and papergraph; records CHGEMAIL with the old and new "
        "addresses (USR-6). The same address (ignoring case) changes nothing and records nothing."
    ), extensions=allow(changes(REGISTRATIONS), Unprivileged(customer_self(arg("input", "customer_registration_id")), (("ignoreProvider", asks_true("input", "ignore_provider")),))))
    async def change_email(self, info: Info, input: ChangeEmailInput) -> Optional[ChangeEmailPayload]:
        context = info.context
        repository = users(context)
        try:
            email = checked_email(input.email, ["input", "email"])
            row = await registration_for(context, input.customer_registration_id, ["input", "customerRegistrationId"])
            if row.email == email:
                return ChangeEmailPayload(registration=context.loaders.registration_from_row(row))
            other = await repository.by_email(context.tenant.id, email)
            if other is not None and other.id != row.id:
                raise UserFlowError("EMAIL_ALREADY_REGISTERED", "A registration with this e-mail already exists",
                                    ["input", "email"])
            identity = provider(context, input.ignore_provider)
            try:
                await identity.change_email(row.crid, email)
            except ProviderRefused as error:
                raise UserFlowError(error.code, str(error), ["input", *error.field])
            event = new_event(context.tenant.id, EVENT_CHANGE_EMAIL, crid=row.crid,
                              details={"oldEmail": row.email, "newEmail": email})
            try:
                updated, _ = await repository.update(context.tenant.id, row.crid, {"email": email}, event)
            except BaseException:
                await identity.change_email(row.crid, row.email)  # undo upstream: nothing changed here
                raise
        except UserFlowError as error:
            return ChangeEmailPayload(user_errors=[flow_error(ChangeEmailError, ChangeEmailErrorCode, error)])
        return ChangeEmailPayload(registration=context.loaders.registration_from_row(updated))
