"""What the invitation mutations share (INV): the host's checks, the limits counting pending invitations
(INV-3, LNK-2, OFR-7) and the events (INV-6)."""

from __future__ import annotations

from typing import Any, Sequence

from sqlmodel import select

from auth.principals import PrincipalKind
from datasources.models import Event, Invitation, Offer, utcnow
from datasources.repositories.invitations import InvitationRepository
from domain.invitations import check_invitation_limits
from resolvers.link_flows import link_limits


def repository(context) -> InvitationRepository:
    return InvitationRepository(context.services.db)


async def acting_host(context, host_crid: str | None) -> str | None:
    """INV-1: a customer invites as themselves; staff name the host. None when the principal cannot host."""
    principal = context.principal
    if principal.kind is PrincipalKind.CUSTOMER:
        return principal.crid
    return (host_crid or "").strip() or None


async def is_owner(context, crid: str, subscription_id: str) -> bool:
    from datasources.models import Registration, SubscriptionLink

    async with context.services.db.session() as session:
        found = (await session.execute(select(SubscriptionLink.id).join(
            Registration, Registration.id == SubscriptionLink.registration_id).where(
            SubscriptionLink.tenant_id == context.tenant.id, SubscriptionLink.subscription_id == subscription_id,
            SubscriptionLink.role == "OWNER", Registration.crid == crid))).first()
    return found is not None


async def may_manage(context, invitation: Invitation) -> bool:
    """INV-6: the host's owner side (any owner of the subscription) or staff with FULL_CONTROL."""
    principal = context.principal
    if principal.kind is PrincipalKind.STAFF:
        return principal.can_change("subscriptions")
    if principal.kind is PrincipalKind.CUSTOMER:
        return await is_owner(context, principal.crid, invitation.subscription_id)
    return False


async def allowed_registrations(context, subscription_id: str) -> int | None:
    """OFR-7: the allowed registrations of the subscription's offer, when its product is one of the tenant's."""
    subscription = await context.loaders.subscription_by_id.load(subscription_id)
    product = getattr(subscription, "product_code", None)
    if not product or not str(product).isdigit():
        return None
    async with context.services.db.session() as session:
        return (await session.execute(select(Offer.allowed_registrations).where(
            Offer.tenant_id == context.tenant.id, Offer.id == int(product)))).scalar_one_or_none()


def limits_check(context, allowed: int | None, new: int, field: Sequence[str]):
    limits = link_limits(context.tenant)

    def check(roles: list[str], pending: int) -> None:
        check_invitation_limits(roles, pending, new, allowed_registrations=allowed, field=field, **limits)

    return check


def invitation_event(tenant_id: int, type_code: str, invitation: Invitation, **details: Any) -> Event:
    return Event(tenant_id=tenant_id, type_code=type_code, crid=invitation.host_crid,
                 subscription_id=invitation.subscription_id, created_at=utcnow(),
                 details={"invitationId": invitation.id, "email": invitation.email, "hostCrid": invitation.host_crid,
                          **details})
