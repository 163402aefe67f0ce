"""`changeCustomerRegistrationId` (USR-6: records CHGCRID)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import REGISTRATIONS, allow, changes

from datasources.repositories.users import DuplicateRow, new_event
from domain.registrations import RegistrationRuleError
from domain.users import EVENT_CHANGE_CRID, validate_crid_change
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, flow_error, provider, registration_for, users
from schema.registrations import Registration


@strawberry.enum(description="Why `changeCustomerRegistrationId` refused its input.")
class ChangeCustomerRegistrationIdErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    NEW_CRID_NOT_FOUND = "NEW_CRID_NOT_FOUND"
    CRID_ALREADY_REGISTERED = "CRID_ALREADY_REGISTERED"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


ChangeCustomerRegistrationIdError = error_type("ChangeCustomerRegistrationId", ChangeCustomerRegistrationIdErrorCode)


@strawberry.input(description=(
    "USR-6: the new CRID is required; alone, its encrypted CRID is computed; an encrypted CRID alone is refused."
))
class ChangeCustomerRegistrationIdInput:
    current_customer_registration_id: str
    customer_registration_id: Optional[str] = strawberry.field(default=None, description="The new CRID.")
    encrypted_customer_registration_id: Optional[str] = strawberry.field(
        default=None, description="The new CRID's encrypted CRID; must be the one papergraph computes.")
    ignore_provider: bool = strawberry.field(
        default=False, description="True: the new CRID need not resolve in the identity provider.")


@strawberry.type
class ChangeCustomerRegistrationIdPayload:
    registration: Optional[Registration] = None
    user_errors: list[ChangeCustomerRegistrationIdError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangeCustomerRegistrationId:
    @strawberry.mutation(description=(
        "Move a registration to another CRID. Both must resolve: the current one to a registration, the new one "
        "to a user of the identity provider (Auth0; MG2 is papergraph itself) that no other registration has."
    ), extensions=allow(changes(REGISTRATIONS)))
    async def change_customer_registration_id(
        self, info: Info, input: ChangeCustomerRegistrationIdInput
    ) -> Optional[ChangeCustomerRegistrationIdPayload]:
        context = info.context
        repository = users(context)
        try:
            try:
                change = validate_crid_change(context.settings.secret_key, input.customer_registration_id,
                                              input.encrypted_customer_registration_id)
            except RegistrationRuleError as error:
                raise UserFlowError("INVALID", str(error), ["input", *error.field])
            row = await registration_for(context, input.current_customer_registration_id,
                                         ["input", "currentCustomerRegistrationId"])
            if change.crid == row.crid:
                return ChangeCustomerRegistrationIdPayload(registration=context.loaders.registration_from_row(row))
            if await repository.by_crid(context.tenant.id, change.crid) is not None:
                raise UserFlowError("CRID_ALREADY_REGISTERED", "Another registration has this CRID",
                                    ["input", "customerRegistrationId"])
            if not await provider(context, input.ignore_provider).exists(change.crid):
                raise UserFlowError("NEW_CRID_NOT_FOUND", "The identity provider has no user with this CRID",
                                    ["input", "customerRegistrationId"])
            event = new_event(context.tenant.id, EVENT_CHANGE_CRID, crid=change.crid,
                              details={"oldCrid": row.crid, "newCrid": change.crid})
            try:
                updated = await repository.change_crid(context.tenant.id, row.crid, change.crid, event)
            except DuplicateRow:
                raise UserFlowError("CRID_ALREADY_REGISTERED", "Another registration has this CRID",
                                    ["input", "customerRegistrationId"])
            if updated is None:
                raise UserFlowError("NOT_FOUND", "No registration has this CRID", ["input", "currentCustomerRegistrationId"])
        except UserFlowError as error:
            return ChangeCustomerRegistrationIdPayload(user_errors=[flow_error(
                ChangeCustomerRegistrationIdError, ChangeCustomerRegistrationIdErrorCode, error)])
        return ChangeCustomerRegistrationIdPayload(registration=context.loaders.registration_from_row(updated))
