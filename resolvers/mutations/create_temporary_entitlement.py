"""`createTemporaryEntitlement` (ENT-3: time-limited access for a registration)."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ENTITLEMENTS, allow, changes

from datasources.models import Event, TemporaryEntitlement as Row, utcnow
from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.users import UserRepository
from resolvers.mutation_support import Refusal, error_type
from schema.registrations import TemporaryEntitlement

EVENT = "TEMPENTITLEMENT"
REASONS = ("PURCHASE", "COMPLAINT", "MANUAL")


@strawberry.enum(description="Why `createTemporaryEntitlement` refused its input.")
class CreateTemporaryEntitlementErrorCode(Enum):
    INVALID = "INVALID"
    ENTITLEMENT_NOT_FOUND = "ENTITLEMENT_NOT_FOUND"
    REGISTRATION_NOT_FOUND = "REGISTRATION_NOT_FOUND"


CreateTemporaryEntitlementError = error_type("CreateTemporaryEntitlement", CreateTemporaryEntitlementErrorCode)


@strawberry.input
class CreateTemporaryEntitlementInput:
    customer_registration_id: str
    entitlement_code: str
    expires_at: datetime = strawberry.field(description="When the access ends; later than now and than `startsAt`.")
    starts_at: Optional[datetime] = strawberry.field(default=None, description="Default: now.")
    reason: str = strawberry.field(default="COMPLAINT", description="PURCHASE, COMPLAINT or MANUAL.")


@strawberry.type
class CreateTemporaryEntitlementPayload:
    temporary_entitlement: Optional[TemporaryEntitlement] = None
    user_errors: list[CreateTemporaryEntitlementError] = strawberry.field(default_factory=list)


def _utc(value: datetime) -> datetime:
    """The instant in UTC (a time without a zone is UTC): SQLite keeps a datetime's wall time and drops its
    offset, so 14:00+02:00 must be stored as 12:00."""
    return value.astimezone(timezone.utc) if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


@strawberry.type
class CreateTemporaryEntitlement:
    @strawberry.mutation(description=(
        "Give a registration time-limited access to an entitlement (ENT-3), e.g. when a complaint is resolved with "
        "e-edition access. Records TEMPENTITLEMENT."
    ), extensions=allow(changes(ENTITLEMENTS)))
    async def create_temporary_entitlement(self, info: Info, input: CreateTemporaryEntitlementInput
                                           ) -> Optional[CreateTemporaryEntitlementPayload]:
        context = info.context
        tenant = context.tenant
        Code = CreateTemporaryEntitlementErrorCode
        now = utcnow()
        try:
            starts = _utc(input.starts_at) if input.starts_at else now
            expires = _utc(input.expires_at)
            if expires <= now:
                raise Refusal(Code.INVALID, "expiresAt must be in the future", ["input", "expiresAt"])
            if expires <= starts:
                raise Refusal(Code.INVALID, "expiresAt must be later than startsAt", ["input", "expiresAt"])
            reason = input.reason.strip().upper()
            if reason not in REASONS:
                raise Refusal(Code.INVALID, f"The reason must be one of {', '.join(REASONS)}", ["input", "reason"])
            code = input.entitlement_code.strip()
            if await context.loaders.entitlement_by_code.load(code) is None:
                raise Refusal(Code.ENTITLEMENT_NOT_FOUND, "No entitlement has this code", ["input", "entitlementCode"])
            registration = await UserRepository(context.services.db).by_crid(tenant.id,
                                                                             input.customer_registration_id.strip())
            if registration is None:
                raise Refusal(Code.REGISTRATION_NOT_FOUND, "No registration has this CRID",
                              ["input", "customerRegistrationId"])
            row = Row(tenant_id=tenant.id, crid=registration.crid, entitlement_code=code, starts_at=starts,
                      expires_at=expires, reason=reason, created_at=now)
            event = Event(tenant_id=tenant.id, type_code=EVENT, crid=registration.crid, reason=reason, created_at=now,
                          details={"entitlementCode": code, "startsAt": starts.isoformat(),
                                   "expiresAt": expires.isoformat()})
            row = await AdministrationRepository(context.services.db).add_temporary_entitlement(row, event)
        except Refusal as refusal:
            return CreateTemporaryEntitlementPayload(user_errors=[refusal.as_error(CreateTemporaryEntitlementError)])
        context.loaders.temporary_entitlements_by_crid.clear(registration.crid)
        return CreateTemporaryEntitlementPayload(temporary_entitlement=TemporaryEntitlement.from_row(row, now))
