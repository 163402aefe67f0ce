"""`verifyManagerMfa` (MGR-2): the first code from the new authenticator enables it, here and in the identity
provider, so the staff member's next sign-in asks for a code and their tokens carry the second factor."""

from __future__ import annotations

import logging
from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_STAFF, allow
from datasources.repositories.managers import ManagerMfaRepository
from datasources.repositories.users import new_event
from domain.mfa import code_matches, unseal_secret
from resolvers.mutation_support import Refusal, error_type

log = logging.getLogger("papergraph.mfa")
EVENT = "MGRMFAENABLE"


@strawberry.enum(description="Why `verifyManagerMfa` refused its input.")
class VerifyManagerMfaErrorCode(Enum):
    MFA_NOT_ENROLLED = "MFA_NOT_ENROLLED"
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED"
    INVALID_CODE = "INVALID_CODE"


VerifyManagerMfaError = error_type("VerifyManagerMfa", VerifyManagerMfaErrorCode)


@strawberry.input
class VerifyManagerMfaInput:
    code: str = strawberry.field(description="The 6-digit code the authenticator app shows now.")


@strawberry.type
class VerifyManagerMfaPayload:
    enabled: bool = False
    user_errors: list[VerifyManagerMfaError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyManagerMfa:
    @strawberry.mutation(description=(
        "Confirm the authenticator `enrollManagerMfa` started with a current code: the second factor is then "
        "enabled for the signed-in staff member, who signs in with a code from now on (MGR-2). Records MGRMFAENABLE."
    ), extensions=allow(ANY_STAFF))
    async def verify_manager_mfa(self, info: Info, input: VerifyManagerMfaInput) -> Optional[VerifyManagerMfaPayload]:
        context = info.context
        tenant, subject = context.tenant, context.principal.subject
        Code = VerifyManagerMfaErrorCode
        repository = ManagerMfaRepository(context.services.db)
        try:
            row = await repository.get(tenant.id, subject)
            if row is None:
                raise Refusal(Code.MFA_NOT_ENROLLED, "Start with enrollManagerMfa", None)
            if row.state == "ENABLED":
                raise Refusal(Code.MFA_ALREADY_ENABLED, "The second factor is already enabled", None)
            secret = unseal_secret(context.settings.secret_key, row.sealed_secret)
            if not code_matches(secret, input.code):
                raise Refusal(Code.INVALID_CODE, "The code is not the authenticator's current code", ["input", "code"])
        except Refusal as refusal:
            return VerifyManagerMfaPayload(user_errors=[refusal.as_error(VerifyManagerMfaError)])
        auth0 = context.services.auth0
        method = await auth0.add_totp_authenticator(subject, secret)
        enabled = await repository.enable(row.id, method["id"], new_event(
            tenant.id, EVENT, details={"managerSubject": subject, "authenticatorId": method["id"]}))
        if not enabled:  # a concurrent request enabled or removed it first: undo ours upstream
            try:
                await auth0.delete_authentication_method(subject, method["id"])
            except Exception:  # noqa: BLE001 - logged for follow-up; the answer still says what happened
                log.exception("could not remove a duplicate authenticator of %s", subject)
            return VerifyManagerMfaPayload(user_errors=[VerifyManagerMfaError(
                code=Code.MFA_NOT_ENROLLED, field=None, message="The enrolment changed meanwhile: start again")])
        return VerifyManagerMfaPayload(enabled=True)
