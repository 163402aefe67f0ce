"""`signOut` (SSN-4): the signed-in customer's LastLogoutDate becomes now; every token issued before it is
refused and every refresh token of the registration is revoked.

With `Auth0.App.LogOutFromIDP` = 1 (SET-4; Auth0 tenants whose customers come from the publisher's own IdP) the
answer also carries the URL the browser visits to end its Auth0 session and, through `federated`, the IdP's: an
API cannot end a browser's session at another host itself. Signing out of the publisher's site never reaches
papergraph, so it never ends self-service's session. MG2 tenants have papergraph as their IdP: the sign-out
itself ends it, and no URL is given."""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlencode
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, allow
from datasources.repositories.sessions import SessionRepository
from datasources.repositories.users import new_event
from resolvers.mutation_support import error_type

EVENT = "SIGNOUT"
LOG_OUT_FROM_IDP = "Auth0.App.LogOutFromIDP"


@strawberry.enum(description="Why `signOut` refused.")
class SignOutErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="papergraph has no registration for this customer.")


SignOutError = error_type("SignOut", SignOutErrorCode)


@strawberry.type(description="The answer of `signOut`.")
class SignOutPayload:
    signed_out: bool = strawberry.field(default=False, description="True when the sessions were ended.")
    identity_provider_logout_url: Optional[str] = strawberry.field(default=None, description=(
        "With `Auth0.App.LogOutFromIDP` = 1 on an Auth0 tenant: where the browser goes next to end its Auth0 "
        "session and the publisher's own IdP session (Auth0 `/v2/logout?federated`), returning to the front end "
        "(SSN-4); null otherwise."))
    user_errors: list[SignOutError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class SignOut:
    @strawberry.mutation(description=(
        "Sign the customer out everywhere (SSN-4): sets LastLogoutDate, so every access token issued before now "
        "is refused, and revokes every refresh token. Records SIGNOUT. With `Auth0.App.LogOutFromIDP` = 1 the answer "
        "names the URL that ends the identity provider's session too."), extensions=allow(ANY_CUSTOMER))
    async def sign_out(self, info: Info) -> Optional[SignOutPayload]:
        context = info.context
        registration = await context.customer_registration()
        if registration is None:
            return SignOutPayload(user_errors=[SignOutError(code=SignOutErrorCode.NOT_FOUND, field=None,
                                                            message="No registration for this customer")])
        crid = context.principal.crid
        await SessionRepository(context.services.db).sign_out(
            context.tenant.id, int(registration.registration_id), new_event(context.tenant.id, EVENT, crid=crid))
        context.services.session_guard.forget(context.tenant.code, crid)
        return SignOutPayload(signed_out=True, identity_provider_logout_url=identity_provider_logout_url(context))


def identity_provider_logout_url(context) -> str | None:
    """SSN-4, SET-4: Auth0's logout endpoint as browsers reach it (in embedded mode the emulator under papergraph's
    public URL, like the password-change pages), `federated` so the IdP session ends too. No client id: the
    front end's return URL is on the Auth0 tenant's allowed logout URLs."""
    from resolvers.session_flows import own_auth  # it imports the schema, which imports this module

    tenant, settings = context.tenant, context.settings
    if own_auth(tenant) or not tenant.settings.flag(LOG_OUT_FROM_IDP):
        return None
    embedded = "auth0" in context.services.sandboxes
    base = settings.public_base_url + "/sandbox/auth0" if embedded else settings.auth0_base_url.rstrip("/")
    return f"{base}/v2/logout?federated&" + urlencode({"returnTo": settings.frontend_base_url})
