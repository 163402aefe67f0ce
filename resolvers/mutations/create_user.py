"""`createUser` (USR-1, USR-3, USR-4, USR-5, USR-9)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.permissions import CREATED_CRIDS, ANYONE, REGISTRATIONS, Unprivileged, allow, asks_false, asks_true, asks_value, changes
from auth.principals import PrincipalKind
from resolvers.mutation_support import error_type
from resolvers.user_flows import UserFlowError, create_registration
from schema.registrations import Registration


@strawberry.enum(description="Why `createUser` refused its input.")
class CreateUserErrorCode(Enum):
    INVALID = "INVALID"
    INVALID_EMAIL = "INVALID_EMAIL"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    EMAIL_ALREADY_REGISTERED = strawberry.enum_value(
        "EMAIL_ALREADY_REGISTERED", description="Staff and partners only: a registration with this e-mail exists.")
    UNVERIFIED_REGISTRATION_EXISTS = strawberry.enum_value(
        "UNVERIFIED_REGISTRATION_EXISTS",
        description="Staff and partners only: a registration with this e-mail waits for its e-mail to be verified.")
    CRID_ALREADY_REGISTERED = "CRID_ALREADY_REGISTERED"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"


CreateUserError = error_type("CreateUser", CreateUserErrorCode)


@strawberry.input(description="USR-3: a new user; first and last name are top-level fields, not metadata.")
class CreateUserInput:
    email: str = strawberry.field(description="Required; trimmed, and refused with invisible characters (USR-4).")
    customer_registration_id: Optional[str] = strawberry.field(
        default=None, description="The CRID to use; by default the provider's (or papergraph's) new id.")
    password: Optional[str] = strawberry.field(
        default=None, description="USR-5. Without one, the user gets a change-password link (Auth0) or is LITE (MG2).")
    verify_email: Optional[bool] = strawberry.field(default=None, description=(
        "True: the registration stays UNVERIFIED until `verifyEmail` (a VERIFYCODE link). Default: true for a "
        "self-service sign-up, false for staff and partners; only they may set it to false."))
    ignore_provider: bool = strawberry.field(
        default=False, description="True: create in papergraph's own registrations only, not in the identity provider.")
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    metadata: Optional[JSON] = strawberry.field(
        default=None, description="A camelCase object; keys and non-object values at most 100 characters (USR-3).")


@strawberry.type
class CreateUserPayload:
    registration: Optional[Registration] = strawberry.field(default=None, description=(
        "The new registration, for staff and partners. A self-service sign-up (anonymous or customer) gets null: "
        "its answer is the same whether or not the e-mail is registered."))
    accepted: bool = strawberry.field(default=False, description=(
        "True when the sign-up was taken: the user was created or, for a self-service sign-up, the e-mail may "
        "already be registered (the answer never tells which)."))
    change_password_url: Optional[str] = strawberry.field(
        default=None, description="For a passwordless user on Auth0: where the user sets a password (USR-3).")
    user_errors: list[CreateUserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateUser:
    @strawberry.mutation(description=(
        "Create a user in the tenant's identity provider (`Flow.UserProvider`: Auth0, or papergraph's own "
        "for MG2) and its registration, recording CREATELOGIN (or CREATEPENDING and VERIFYCODE with "
        "`verifyEmail`) (USR-3, USR-9)."
    ), extensions=allow(changes(REGISTRATIONS), Unprivileged(ANYONE, (
        ("customerRegistrationId", asks_value("input", "customer_registration_id")),
        ("ignoreProvider", asks_true("input", "ignore_provider")),
        ("verifyEmail: false", asks_false("input", "verify_email"))))))
    async def create_user(self, info: Info, input: CreateUserInput) -> Optional[CreateUserPayload]:
        try:
            created = await create_registration(
                info.context, email=input.email, password=input.password, first_name=input.first_name,
                last_name=input.last_name, metadata=input.metadata, crid=input.customer_registration_id,
                verify_email=_verify_email(info.context, input.verify_email), ignore_provider=input.ignore_provider,
            )
        except UserFlowError as error:
            if error.code in EMAIL_TAKEN and _self_service(info.context):
                return CreateUserPayload(accepted=True)  # as a new sign-up is answered: no enumeration
            return CreateUserPayload(user_errors=[CreateUserError(
                code=CreateUserErrorCode[error.code], field=error.field, message=error.message)])
        info.context.extra.setdefault(CREATED_CRIDS, set()).add(created.registration.crid)
        if _self_service(info.context):
            return CreateUserPayload(accepted=True)
        return CreateUserPayload(registration=info.context.loaders.registration_from_row(created.registration),
                                 change_password_url=created.change_password_url, accepted=True)


# refusals that would tell a self-service caller the e-mail is registered
EMAIL_TAKEN = frozenset({"EMAIL_ALREADY_REGISTERED", "UNVERIFIED_REGISTRATION_EXISTS"})


def _self_service(context) -> bool:
    """Anonymous callers and customers sign up themselves: they learn nothing of other registrations (like
    `startForgotPassword`); staff and partners get the clear answer."""
    return context.principal.kind in (PrincipalKind.ANONYMOUS, PrincipalKind.CUSTOMER)


def _verify_email(context, asked: bool | None) -> bool:
    """A self-service sign-up proves its e-mail address; staff and partners may create verified users."""
    if asked is not None:
        return asked
    return context.principal.kind not in (PrincipalKind.STAFF, PrincipalKind.PARTNER)
