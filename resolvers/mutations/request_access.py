"""`requestAccess` (ENT-1, ENT-2, ENT-4): the access a registration has to an entitlement, the redirect
when configured, the SS_Access_* code — and an access-log record for every request."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, ENTITLEMENTS, allow, reads

from datasources.base import UpstreamError
from datasources.models import AccessLog, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.entitlements import ACCESS_CODES, AccessLevel as DomainAccessLevel, access_code
from domain.text import forbidden_character, printable
from resolvers.mutation_support import Refusal, error_type
from schema.entitlements import AccessLevel

MAX_CODE = 64
MAX_PLATFORM = 64
MAX_CRID = 128
MAX_USER_AGENT = 512
FAILED = "SS_Access_03"
# what the access log records when there is no access level: a refused request, or one the circulation
# system could not answer
REFUSED, FAILED_LEVEL = "REFUSED", "FAILED"


@strawberry.enum(description="Why `requestAccess` refused its input.")
class RequestAccessErrorCode(Enum):
    INVALID = "INVALID"
    ENTITLEMENT_NOT_FOUND = "ENTITLEMENT_NOT_FOUND"
    REGISTRATION_NOT_FOUND = "REGISTRATION_NOT_FOUND"


RequestAccessError = error_type("RequestAccess", RequestAccessErrorCode)


@strawberry.input
class RequestAccessInput:
    entitlement_code: str
    platform: str = strawberry.field(description="e.g. WEB, IOS, ANDROID; at most 64 characters.")
    customer_registration_id: Optional[str] = strawberry.field(default=None, description=(
        "The registration asking; a signed-in customer is always themselves, whatever this says."))


@strawberry.type
class RequestAccessPayload:
    access_level: Optional[AccessLevel] = strawberry.field(default=None, description="Null when it could not be read.")
    redirect_url: Optional[str] = strawberry.field(default=None, description=(
        "Where to send the user: only with access, and only when the entitlement's settings configure one."))
    code: Optional[str] = strawberry.field(default=None, description="SS_Access_01..04 (ENT-4).")
    message: Optional[str] = None
    user_errors: list[RequestAccessError] = strawberry.field(default_factory=list)


def _asking_crid(context, given: str | None) -> str | None:
    principal = getattr(context, "principal", None)
    crid = getattr(principal, "crid", None) if principal is not None else None
    return crid or (given.strip() if given and given.strip() else None)


def _redirect_url(entitlement) -> str | None:
    """ENT-1: the configured redirect, if any; a blank URL is no configuration (the source platform's
    "blank ReturnURL")."""
    settings = entitlement.redirect_settings
    url = (settings.redirect_url or "").strip() if settings is not None else ""
    return url or None


async def _access(context, code_text: str, platform: str, crid: str | None) -> tuple[DomainAccessLevel, str | None]:
    """The access level and the configured redirect; a `Refusal` for input naming nothing, an
    `UpstreamError` when the circulation system could not say (SS_Access_03)."""
    Code = RequestAccessErrorCode
    if not code_text or len(code_text) > MAX_CODE:
        raise Refusal(Code.INVALID, f"The entitlement code must be 1 to {MAX_CODE} characters",
                      ["input", "entitlementCode"])
    if not platform or len(platform) > MAX_PLATFORM:
        raise Refusal(Code.INVALID, f"The platform must be 1 to {MAX_PLATFORM} characters", ["input", "platform"])
    if forbidden_character(platform) is not None:  # issue 14 #15: free text, stored in the access log
        raise Refusal(Code.INVALID, "`platform` contains a control or invisible character", ["input", "platform"])
    if crid is None:
        raise Refusal(Code.INVALID, "Sign in or give the customerRegistrationId", ["input", "customerRegistrationId"])
    entitlement = await context.loaders.entitlement_by_code.load(code_text)
    if entitlement is None:
        raise Refusal(Code.ENTITLEMENT_NOT_FOUND, "No entitlement has this code", ["input", "entitlementCode"])
    result = await context.loaders.access_level_by_key.load((code_text, crid))
    if result is None:
        raise Refusal(Code.REGISTRATION_NOT_FOUND, "No registration has this CRID", ["input", "customerRegistrationId"])
    return DomainAccessLevel(result.access_level.value), _redirect_url(entitlement)


@strawberry.type
class RequestAccess:
    @strawberry.mutation(description=(
        "Request access to an entitlement: answers the access level (ENT-2), the redirect URL when configured, and "
        "the code — SS_Access_01 access with a redirect, SS_Access_04 access but no redirect configured (ENT-1), "
        "SS_Access_02 no access, SS_Access_03 the access level could not be read (ENT-4). Every request, refused "
        "and failed ones included, writes an access-log record with the entitlement code, the CRID, the platform "
        "and the request's user agent."
    ), extensions=allow(reads(ENTITLEMENTS), ANY_CUSTOMER))
    async def request_access(self, info: Info, input: RequestAccessInput) -> Optional[RequestAccessPayload]:
        context = info.context
        code_text = input.entitlement_code.strip()
        platform = input.platform.strip()
        # the access log keeps what was asked, refused requests too, but never a control or bidi character
        logged_code = code_text if forbidden_character(code_text) is None else None
        logged_platform = platform if forbidden_character(platform) is None else None
        crid = _asking_crid(context, input.customer_registration_id)
        level, redirect, refusal = None, None, None
        try:
            level, redirect = await _access(context, code_text, platform, crid)
        except Refusal as error:
            refusal = error
        except UpstreamError:
            pass  # ENT-4 SS_Access_03: answered, and logged, rather than failing the request
        user_agent = context.request.headers.get("user-agent") if context.request is not None else None
        outcome = REFUSED if refusal is not None else (level.value if level is not None else FAILED_LEVEL)
        await AdministrationRepository(context.services.db).log_access(AccessLog(  # ENT-2: every request
            tenant_id=context.tenant.id, entitlement_code=(logged_code or "")[:MAX_CODE],
            crid=crid[:MAX_CRID] if crid else None, platform=(logged_platform or "")[:MAX_PLATFORM] or None,
            user_agent=(printable(user_agent) or "")[:MAX_USER_AGENT] or None,
            access_level=outcome, created_at=utcnow()))
        if refusal is not None:
            return RequestAccessPayload(user_errors=[refusal.as_error(RequestAccessError)])
        answer_code = access_code(level, redirect) if level is not None else FAILED
        return RequestAccessPayload(
            access_level=AccessLevel(level.value) if level else None,
            redirect_url=redirect if level is DomainAccessLevel.PREMIUM else None,
            code=answer_code, message=ACCESS_CODES[answer_code])
