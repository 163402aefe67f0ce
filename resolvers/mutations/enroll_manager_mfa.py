"""`enrollManagerMfa` (MGR-2): a staff member starts enrolling a TOTP authenticator for their own account."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_STAFF, allow
from datasources.repositories.managers import ManagerMfaRepository
from datasources.repositories.users import new_event
from domain.mfa import new_secret, otpauth_uri, seal_secret
from resolvers.mutation_support import Refusal, error_type

EVENT = "MGRMFAENROLL"


@strawberry.enum(description="Why `enrollManagerMfa` refused.")
class EnrollManagerMfaErrorCode(Enum):
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED"


EnrollManagerMfaError = error_type("EnrollManagerMfa", EnrollManagerMfaErrorCode)


@strawberry.type
class EnrollManagerMfaPayload:
    secret: Optional[str] = strawberry.field(default=None, description=(
        "The authenticator's base32 secret, shown once: type it into an authenticator app, or scan `otpauthUri`."))
    otpauth_uri: Optional[str] = strawberry.field(default=None, description="The `otpauth://totp/…` URI (a QR code).")
    user_errors: list[EnrollManagerMfaError] = strawberry.field(default_factory=list)


@strawberry.type
class EnrollManagerMfa:
    @strawberry.mutation(description=(
        "Start enrolling a TOTP second factor (30-second, 6-digit codes) for the signed-in staff member (MGR-2). "
        "It takes effect once `verifyManagerMfa` confirms a first code; enrolling again before that starts over. "
        "Records MGRMFAENROLL."
    ), extensions=allow(ANY_STAFF))
    async def enroll_manager_mfa(self, info: Info) -> Optional[EnrollManagerMfaPayload]:
        context = info.context
        tenant, subject = context.tenant, context.principal.subject
        repository = ManagerMfaRepository(context.services.db)
        try:
            existing = await repository.get(tenant.id, subject)
            if existing is not None and existing.state == "ENABLED":
                raise Refusal(EnrollManagerMfaErrorCode.MFA_ALREADY_ENABLED,
                              "A second factor is already enabled: disable it first to enrol another", None)
        except Refusal as refusal:
            return EnrollManagerMfaPayload(user_errors=[refusal.as_error(EnrollManagerMfaError)])
        secret = new_secret()
        await repository.start(tenant.id, subject, seal_secret(context.settings.secret_key, secret),
                               new_event(tenant.id, EVENT, details={"managerSubject": subject}))
        return EnrollManagerMfaPayload(secret=secret, otpauth_uri=otpauth_uri(secret, tenant.code, subject))
