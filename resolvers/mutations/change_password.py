"""`changePassword` (USR-5, USR-9: records CHGPASSWORD)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from datetime import datetime, timezone

from auth.permissions import REGISTRATIONS, Unprivileged, allow, arg, asks_true, changes, customer_self

from datasources.repositories.users import new_event
from auth.principals import PrincipalKind
from domain.passwords import verify_password
from domain.users import EVENT_CHANGE_PASSWORD, password_change_allowed
from resolvers.identity import ProviderRefused
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, checked_password, flow_error, provider, registration_for, users
from schema.registrations import Registration


@strawberry.enum(description="Why `changePassword` refused its input.")
class ChangePasswordErrorCode(Enum):
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    NOT_FOUND = "NOT_FOUND"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"
    REAUTHENTICATION_REQUIRED = strawberry.enum_value("REAUTHENTICATION_REQUIRED", description=(
        "USR-10: a customer gave no current password (or a wrong one) and signed in more than 5 minutes ago; "
        "sign in again, or give `currentPassword`."))


ChangePasswordError = error_type("ChangePassword", ChangePasswordErrorCode)


@strawberry.input
class ChangePasswordInput:
    customer_registration_id: str
    password: str = strawberry.field(description="USR-5: 8+ characters with a numeral and a special character.")
    ignore_provider: bool = False
    current_password: Optional[str] = strawberry.field(default=None, description=(
        "USR-10: a customer changing their own password gives the current one, unless they signed in within the "
        "last 5 minutes. Checked by papergraph where it keeps the password (MG2); on other providers sign in "
        "again instead."))


@strawberry.type
class ChangePasswordPayload:
    registration: Optional[Registration] = None
    user_errors: list[ChangePasswordError] = strawberry.field(default_factory=list)


async def set_password(context, row, password: str, ignore_provider: bool) -> dict:
    """The registration columns a new password changes, after the provider took it."""
    identity = provider(context, ignore_provider)
    try:
        password_hash = await identity.set_password(row.crid, password)
    except ProviderRefused as error:
        raise UserFlowError(error.code, str(error), ["input", *error.field])
    changes = {"has_password": True}
    if identity.keeps_password:
        changes["password_hash"] = password_hash
    return changes


def _check_reauthentication(context, row, current_password: str | None) -> None:
    """USR-10 for a customer's own change (staff with FULL_CONTROL set passwords as an administrative act)."""
    current_ok = bool(current_password) and provider(context, False).keeps_password and \
        verify_password(current_password, row.password_hash)
    signed_in = context.principal.authenticated_at
    if not password_change_allowed(
            current_password_ok=current_ok, now=datetime.now(timezone.utc),
            signed_in_at=datetime.fromtimestamp(signed_in, timezone.utc) if signed_in is not None else None):
        raise UserFlowError("REAUTHENTICATION_REQUIRED", "Give your current password, or sign in again: changing a "
                            "password needs one or a sign-in within the last 5 minutes (USR-10)",
                            ["input", "currentPassword"])


@strawberry.type
class ChangePassword:
    @strawberry.mutation(description=(
        "Set a user's password in the identity provider (MG2: papergraph's scrypt hash). A customer changing "
        "their own gives the current password or signed in within the last 5 minutes (USR-10)."), extensions=allow(changes(REGISTRATIONS), Unprivileged(customer_self(arg("input", "customer_registration_id")), (("ignoreProvider", asks_true("input", "ignore_provider")),))))
    async def change_password(self, info: Info, input: ChangePasswordInput) -> Optional[ChangePasswordPayload]:
        context = info.context
        try:
            checked_password(input.password, ["input", "password"])
            row = await registration_for(context, input.customer_registration_id, ["input", "customerRegistrationId"])
            if context.principal.kind is PrincipalKind.CUSTOMER:
                _check_reauthentication(context, row, input.current_password)
            changes = await set_password(context, row, input.password, input.ignore_provider)
            event = new_event(context.tenant.id, EVENT_CHANGE_PASSWORD, crid=row.crid,
                              details={"ignoreProvider": input.ignore_provider})
            row, _ = await users(context).update(context.tenant.id, row.crid, changes, event)
        except UserFlowError as error:
            return ChangePasswordPayload(user_errors=[flow_error(ChangePasswordError, ChangePasswordErrorCode, error)])
        return ChangePasswordPayload(registration=context.loaders.registration_from_row(row))
