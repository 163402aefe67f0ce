"""`updateUser`: names, metadata and the verified flag (USR-3, USR-9)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.permissions import REGISTRATIONS, Unprivileged, allow, arg, asks_true, asks_value, changes, customer_self

from datasources.repositories.users import new_event
from domain.registrations import RegistrationRuleError
from domain.users import EVENT_UPDATE, clean_name, validate_metadata
from resolvers.identity import ProviderRefused
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, flow_error, provider, registration_for, users
from schema.registrations import Registration


@strawberry.enum(description="Why `updateUser` refused its input.")
class UpdateUserErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


UpdateUserError = error_type("UpdateUser", UpdateUserErrorCode)


@strawberry.input(description="Only the fields given change; metadata replaces the whole object (USR-3).")
class UpdateUserInput:
    customer_registration_id: str
    first_name: Optional[str] = strawberry.UNSET
    last_name: Optional[str] = strawberry.UNSET
    metadata: Optional[JSON] = strawberry.UNSET
    verified: Optional[bool] = strawberry.UNSET
    ignore_provider: bool = False


@strawberry.type
class UpdateUserPayload:
    registration: Optional[Registration] = None
    user_errors: list[UpdateUserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateUser:
    @strawberry.mutation(description="Update a user's profile in the identity provider and papergraph; records UPDATEUSER.", extensions=allow(changes(REGISTRATIONS), Unprivileged(customer_self(arg("input", "customer_registration_id")), (("ignoreProvider", asks_true("input", "ignore_provider")), ("verified", asks_value("input", "verified"))))))
    async def update_user(self, info: Info, input: UpdateUserInput) -> Optional[UpdateUserPayload]:
        context = info.context
        try:
            row = await registration_for(context, input.customer_registration_id, ["input", "customerRegistrationId"])
            changes: dict = {}
            try:
                if input.first_name is not strawberry.UNSET:
                    changes["first_name"] = clean_name(input.first_name, ["input", "firstName"])
                if input.last_name is not strawberry.UNSET:
                    changes["last_name"] = clean_name(input.last_name, ["input", "lastName"])
                if input.metadata is not strawberry.UNSET:
                    changes["user_metadata"] = validate_metadata(input.metadata, ["input", "metadata"])
            except RegistrationRuleError as error:
                raise UserFlowError.from_rule(error)
            if input.verified is not strawberry.UNSET and input.verified is not None:
                changes["email_verified"] = input.verified
            if not changes:
                raise UserFlowError("INVALID", "Give at least one field to change", ["input"])
            identity = provider(context, input.ignore_provider)
            try:
                await identity.update_profile(row.crid, changes)
            except ProviderRefused as error:
                raise UserFlowError("INVALID", str(error), ["input", *error.field])
            event = new_event(context.tenant.id, EVENT_UPDATE, crid=row.crid,
                              details={"fields": sorted(changes), "ignoreProvider": input.ignore_provider})
            row, _ = await users(context).update(context.tenant.id, row.crid, changes, event)
        except UserFlowError as error:
            return UpdateUserPayload(user_errors=[flow_error(UpdateUserError, UpdateUserErrorCode, error)])
        return UpdateUserPayload(registration=context.loaders.registration_from_row(row))
