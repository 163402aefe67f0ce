"""`signIn` (SSN-1..SSN-3, USR-8): a customer of an own-auth (MG2) tenant signs in with login name and password;
papergraph is their identity provider and answers a session. Auth0 tenants sign in through Auth0."""

from __future__ import annotations

import time
from functools import lru_cache
from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from datasources.repositories.users import new_event
from domain.passwords import verify_password
from domain.registrations import RegistrationRuleError, clean_email
from resolvers.mutation_support import error_type
from resolvers.session_flows import new_session, own_auth
from resolvers.user_flows import users
from schema.sessions import CustomerSession

EVENT = "SIGNIN"
NEUTRAL = "The login name or the password is wrong"


@strawberry.enum(description="Why `signIn` refused.")
class SignInErrorCode(Enum):
    INVALID_CREDENTIALS = strawberry.enum_value("INVALID_CREDENTIALS", description=(
        "The login name or the password is wrong; the answer never says which (SSN-2)."))
    TOO_MANY_ATTEMPTS = strawberry.enum_value("TOO_MANY_ATTEMPTS", description=(
        "Too many wrong passwords for this login name lately: try again later (the password was not checked)."))
    REGISTRATION_NOT_VERIFIED = strawberry.enum_value("REGISTRATION_NOT_VERIFIED", description=(
        "The password is right but the e-mail is not verified yet (USR-8): verify it, then sign in."))
    USE_IDENTITY_PROVIDER = strawberry.enum_value("USE_IDENTITY_PROVIDER", description=(
        "The tenant's customers sign in with its identity provider (Auth0 Universal Login, AUT-4), not here."))


SignInError = error_type("SignIn", SignInErrorCode)


@strawberry.input(description="A login name (the registration's e-mail) and its password.")
class SignInInput:
    login_name: str = strawberry.field(description="The registration's e-mail address.")
    password: str = strawberry.field(description="The registration's password.")


@strawberry.type(description="The answer of `signIn`: a session, or why not.")
class SignInPayload:
    session: Optional[CustomerSession] = strawberry.field(default=None, description="The new session.")
    user_errors: list[SignInError] = strawberry.field(default_factory=list, description="Why it was refused.")


def _refused(code: SignInErrorCode, message: str) -> SignInPayload:
    return SignInPayload(user_errors=[SignInError(code=code, field=None, message=message)])


@strawberry.type
class SignIn:
    @strawberry.mutation(description=(
        "Sign in a customer of an own-auth (MG2) tenant with login name and password (SSN-1): answers an "
        "access token signed by papergraph and a refresh token. Wrong credentials get one neutral error, and "
        "repeated wrong passwords for a login name are throttled. On Auth0 tenants the front end signs in with "
        "Auth0 Universal Login instead (USE_IDENTITY_PROVIDER)."), extensions=allow(ANYONE))
    async def sign_in(self, info: Info, input: Annotated[SignInInput, strawberry.argument(description="The login name and password.")]) -> Optional[SignInPayload]:
        context = info.context
        tenant = context.tenant
        if not own_auth(tenant):
            return _refused(SignInErrorCode.USE_IDENTITY_PROVIDER,
                            f"{tenant.name} customers sign in with Auth0 Universal Login")
        try:
            login = clean_email(input.login_name, ["input", "loginName"]).lower()
        except RegistrationRuleError:
            return _refused(SignInErrorCode.INVALID_CREDENTIALS, NEUTRAL)
        failures, key, now = context.services.sign_in_failures, (tenant.id, login), time.time()
        if failures.blocked(key, now):
            return _refused(SignInErrorCode.TOO_MANY_ATTEMPTS, "Too many attempts: try again later")
        repository = users(context)
        registration = await repository.by_email(tenant.id, login)
        # the hash is computed for an unknown login name too, so the answer's timing does not tell either
        stored = registration.password_hash if registration is not None else None
        if not verify_password(input.password, stored or _dummy_hash()) or registration is None or not stored:
            failures.failed(key, now)
            return _refused(SignInErrorCode.INVALID_CREDENTIALS, NEUTRAL)
        failures.succeeded(key)
        if not registration.email_verified:  # USR-8, SSN-2 (said only to whom knows the password)
            return _refused(SignInErrorCode.REGISTRATION_NOT_VERIFIED, "Verify your e-mail address first")
        session = await new_session(context, registration, new_event(tenant.id, EVENT, crid=registration.crid))
        return SignInPayload(session=session)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    from domain.passwords import hash_password

    return hash_password("papergraph-no-such-user-1!")
