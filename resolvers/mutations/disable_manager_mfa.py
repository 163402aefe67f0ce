"""`disableManagerMfa` (MGR-2): a staff member removes their own second factor with a current code, or staff
with full control of settings remove another manager's (a lost phone)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SETTINGS, StaffSelf, allow, arg, staff_change
from datasources.base import UpstreamNotFound
from datasources.repositories.managers import ManagerMfaRepository
from datasources.repositories.users import new_event
from domain.mfa import code_matches, unseal_secret
from resolvers.mutation_support import Refusal, error_type

EVENT = "MGRMFADISABLE"


@strawberry.enum(description="Why `disableManagerMfa` refused its input.")
class DisableManagerMfaErrorCode(Enum):
    MFA_NOT_ENABLED = "MFA_NOT_ENABLED"
    INVALID_CODE = "INVALID_CODE"


DisableManagerMfaError = error_type("DisableManagerMfa", DisableManagerMfaErrorCode)


@strawberry.input
class DisableManagerMfaInput:
    manager_subject: Optional[str] = strawberry.field(default=None, description=(
        "Another manager's token subject (`sub`): staff with full control of settings only. Default: yourself."))
    code: Optional[str] = strawberry.field(default=None, description=(
        "Your authenticator's current code: required to disable your own second factor."))


@strawberry.type
class DisableManagerMfaPayload:
    disabled: bool = False
    user_errors: list[DisableManagerMfaError] = strawberry.field(default_factory=list)


@strawberry.type
class DisableManagerMfa:
    @strawberry.mutation(description=(
        "Remove a manager's TOTP second factor, here and in the identity provider (MGR-2): your own with a current "
        "code, or another manager's with full control of settings. Records MGRMFADISABLE."
    ), extensions=allow(StaffSelf(arg("input", "manager_subject")), staff_change(SETTINGS)))
    async def disable_manager_mfa(self, info: Info, input: DisableManagerMfaInput
                                  ) -> Optional[DisableManagerMfaPayload]:
        context = info.context
        tenant, principal = context.tenant, context.principal
        subject = (input.manager_subject or "").strip() or principal.subject
        own = subject == principal.subject
        Code = DisableManagerMfaErrorCode
        repository = ManagerMfaRepository(context.services.db)
        try:
            row = await repository.get(tenant.id, subject)
            if row is None or row.state != "ENABLED":
                raise Refusal(Code.MFA_NOT_ENABLED, "No second factor is enabled for this manager",
                              ["input", "managerSubject"] if not own else None)
            if own and not code_matches(unseal_secret(context.settings.secret_key, row.sealed_secret), input.code or ""):
                raise Refusal(Code.INVALID_CODE, "Give your authenticator's current code", ["input", "code"])
        except Refusal as refusal:
            return DisableManagerMfaPayload(user_errors=[refusal.as_error(DisableManagerMfaError)])
        try:
            await context.services.auth0.delete_authentication_method(subject, row.authenticator_id or "")
        except UpstreamNotFound:
            pass  # already gone upstream: removing it here is what is left to do
        await repository.remove(row.id, new_event(tenant.id, EVENT, details={
            "managerSubject": subject, "by": principal.subject, "authenticatorId": row.authenticator_id}))
        return DisableManagerMfaPayload(disabled=True)
