"""Where a tenant's users live (USR-1): `Flow.UserProvider` = `Auth0` goes through the Auth0 Management
API, `MG2` is papergraph's own database (scrypt password hashes, domain/passwords.py). `ignoreProvider`
(as the source documents' UsersOrchestrator has it) skips the third-party provider: the operation runs
on papergraph's own registration only.

Each provider answers the same few operations; the mutations do the rest (validation, the database
row and its event, in one transaction) and undo a provider change when the database write fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from datasources.auth0 import PasswordTooWeak, UserAlreadyExists
from datasources.base import UpstreamNotFound
from domain.passwords import PASSWORD_POLICY, generate_password, hash_password
from domain.registrations import MG2, RegistrationRuleError

AUTH0 = "Auth0"
INTEGRATION_TYPE, CUSTOM, CUSTOM_PREFIX = "Flow.Auth0.IntegrationType", "Custom", "nav"  # SET-4


class ProviderRefused(Exception):
    """The identity provider refused the change for a reason the user can fix."""

    def __init__(self, code: str, message: str, field: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class ProviderNotSupported(Exception):
    pass


@dataclass(frozen=True)
class CreatedIdentity:
    crid: str
    password_hash: str | None
    has_password: bool
    change_password_url: str | None = None


class OwnIdentity:
    """MG2, and any tenant with `ignoreProvider`: nothing upstream, the password hash is kept here."""

    name = MG2
    keeps_password = True

    async def create(self, *, email: str, password: str | None, first_name: str | None, last_name: str | None,
                     metadata: dict[str, Any], crid: str | None, verified: bool) -> CreatedIdentity:
        return CreatedIdentity(crid=crid or f"mg2|{uuid.uuid4().hex}",
                               password_hash=hash_password(password) if password else None,
                               has_password=bool(password))

    async def delete(self, crid: str) -> None:
        return None

    async def exists(self, crid: str) -> bool:
        return True

    async def update_profile(self, crid: str, changes: dict[str, Any]) -> None:
        return None

    async def change_email(self, crid: str, email: str) -> None:
        return None

    async def set_password(self, crid: str, password: str) -> str | None:
        return hash_password(password)

    async def mark_verified(self, crid: str) -> None:
        return None


class Auth0Identity:
    """Auth0: the user is created and changed through the Management API; its `user_id` is the CRID."""

    name = AUTH0
    keeps_password = False

    def __init__(self, auth0, tenant, result_url: str | None = None) -> None:
        self.auth0 = auth0
        self.tenant = tenant
        self.result_url = result_url  # where the password-change page returns: the front end

    async def create(self, *, email: str, password: str | None, first_name: str | None, last_name: str | None,
                     metadata: dict[str, Any], crid: str | None, verified: bool) -> CreatedIdentity:
        passwordless = not password
        if crid is None and (self.tenant.settings.get(INTEGRATION_TYPE) or "") == CUSTOM:
            # SET-4: "Custom" integrations give new users an internal id prefixed "nav" (Auth0 keeps its own
            # provider prefix in front of a custom id: the CRID is "auth0|nav…")
            crid = f"{CUSTOM_PREFIX}{uuid.uuid4().hex}"
        try:
            user = await self.auth0.create_user(
                email=email, password=password or generate_password(),
                connection=self.tenant.settings.get("Auth0.App.Connection"), given_name=first_name,
                family_name=last_name, user_metadata=metadata or None,
                app_metadata={"paperCode": self.tenant.code}, email_verified=verified, user_id=crid,
            )
        except UserAlreadyExists:
            raise ProviderRefused("EMAIL_ALREADY_REGISTERED", "A user with this e-mail already exists", ["email"])
        except PasswordTooWeak:
            raise ProviderRefused("PASSWORD_TOO_WEAK", PASSWORD_POLICY, ["password"])
        ticket = None
        if passwordless:  # USR-3: the user sets a password through this link
            ticket = await self.auth0.create_password_change_ticket(user["user_id"], result_url=self.result_url)
        return CreatedIdentity(crid=user["user_id"], password_hash=None, has_password=True, change_password_url=ticket)

    async def delete(self, crid: str) -> None:
        await self.auth0.delete_user(crid)

    async def exists(self, crid: str) -> bool:
        return await self.auth0.get_user(crid) is not None

    async def update_profile(self, crid: str, changes: dict[str, Any]) -> None:
        body: dict[str, Any] = {}
        if "first_name" in changes:
            body["given_name"] = changes["first_name"]
        if "last_name" in changes:
            body["family_name"] = changes["last_name"]
        if "user_metadata" in changes:
            body["user_metadata"] = changes["user_metadata"]
        if "email_verified" in changes:
            body["email_verified"] = changes["email_verified"]
        if body:
            await self.auth0.update_user(crid, body)

    async def change_email(self, crid: str, email: str) -> None:
        try:
            await self.auth0.update_user(crid, {"email": email})
        except UserAlreadyExists:
            raise ProviderRefused("EMAIL_ALREADY_REGISTERED", "A user with this e-mail already exists", ["email"])
        except Exception as error:  # Auth0 answers 400 "The specified new email already exists"
            if "already exists" in str(getattr(error, "body", "")):
                raise ProviderRefused("EMAIL_ALREADY_REGISTERED", "A user with this e-mail already exists",
                                      ["email"]) from error
            raise

    async def set_password(self, crid: str, password: str) -> str | None:
        try:
            await self.auth0.update_user(crid, {"password": password})
        except PasswordTooWeak:
            raise ProviderRefused("PASSWORD_TOO_WEAK", PASSWORD_POLICY, ["password"])
        return None

    async def mark_verified(self, crid: str) -> None:
        try:
            await self.auth0.update_user(crid, {"email_verified": True})
        except UpstreamNotFound:  # a registration created with ignoreProvider has no Auth0 user
            return None


def provider_for(context, ignore_provider: bool = False):
    """The provider of the request's tenant; `ignore_provider` keeps the operation in papergraph's own
    database. Providers papergraph has no client for (SSOR, Gigya, Firefly) are refused."""
    name = (context.tenant.settings.get("Flow.UserProvider") or AUTH0).strip()
    if ignore_provider or name.upper() == MG2:
        return OwnIdentity()
    if name.lower() == AUTH0.lower():
        return Auth0Identity(context.services.auth0, context.tenant,
                             result_url=context.services.settings.frontend_base_url)
    raise ProviderNotSupported(name)


__all__ = ["AUTH0", "Auth0Identity", "CreatedIdentity", "OwnIdentity", "ProviderNotSupported", "ProviderRefused",
           "RegistrationRuleError", "provider_for"]
