"""What `purchaseClaim` and `claimPurchase` share (BUY-10): the claim a link names, and whether the signed-in
customer is the registration with the purchase's e-mail (domain/claims.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth.principals import PrincipalKind
from datasources.models import PendingClaim, Registration
from datasources.repositories.purchases import PurchaseRepository
from datasources.repositories.users import UserRepository, aware
from domain.claims import read_claim_token, same_email
from domain.crypto import InvalidToken


@dataclass
class FoundClaim:
    row: PendingClaim
    expires_at: datetime


def repository(context) -> PurchaseRepository:
    return PurchaseRepository(context.services.db)


async def claim_of_link(context, token: str) -> FoundClaim | None:
    """The tenant's claim the token names, or None for a token that is not papergraph's (or another tenant's)."""
    try:
        claim_id, expires_at = read_claim_token(context.settings.secret_key, token)
    except InvalidToken:
        return None
    row = await repository(context).pending_claim(context.tenant.id, claim_id)
    return FoundClaim(row=row, expires_at=expires_at) if row is not None else None


async def signed_in_registration(context) -> Registration | None:
    """The signed-in customer's registration (USR-8 already refused an unverified or password-less one)."""
    principal = context.principal
    if principal.kind is not PrincipalKind.CUSTOMER or not principal.crid:
        return None
    return await UserRepository(context.services.db).by_crid(context.tenant.id, principal.crid)


def is_claimant(registration: Registration | None, claim: FoundClaim) -> bool:
    return registration is not None and same_email(registration.email, claim.row.email)


def state_of(claim: FoundClaim, now: datetime) -> str:
    if claim.row.claimed_at is not None:
        return "CLAIMED"
    return "PENDING" if now < aware(claim.expires_at) else "EXPIRED"
