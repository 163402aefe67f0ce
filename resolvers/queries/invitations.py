"""`pendingInvitations` and `invitation(token)` (INV-2)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, SUBSCRIPTIONS, allow, arg, customer_owner, staff_read
from datasources.models import Registration, utcnow
from datasources.repositories.users import aware
from domain.crypto import InvalidToken
from domain.invitations import read_invitation_token
from resolvers.invitation_flows import repository
from schema.invitations import Invitation, InvitationPreview, InvitationState


@strawberry.type
class InvitationQueries:
    @strawberry.field(description=(
        "The subscription's pending invitations, oldest first (INV-2): for its owners and staff."),
        extensions=allow(staff_read(SUBSCRIPTIONS), customer_owner(arg("subscription_id"))))
    async def pending_invitations(self, info: Info, subscription_id: Annotated[strawberry.ID, strawberry.argument(description="The subscription.")]) -> Optional[list[Invitation]]:
        context = info.context
        now = utcnow()
        rows = await repository(context).pending(context.tenant.id, str(subscription_id).strip(), now)
        return [Invitation.from_row(row, now) for row in rows]

    @strawberry.field(description=(
        "What an invitation link is about, for the page that accepts it (INV-2); null for a link that is not "
        "papergraph's. Anyone holding the link may read it."), extensions=allow(ANYONE))
    async def invitation(self, info: Info, token: Annotated[str, strawberry.argument(description="The token of the invitation link.")]) -> Optional[InvitationPreview]:
        context = info.context
        try:
            invitation_id, _ = read_invitation_token(context.settings.secret_key, token)
        except InvalidToken:
            return None
        row = await repository(context).get(context.tenant.id, invitation_id)
        if row is None:
            return None
        from sqlmodel import select

        async with context.services.db.session() as session:
            host = (await session.execute(select(Registration.first_name, Registration.last_name).where(
                Registration.tenant_id == context.tenant.id, Registration.crid == row.host_crid))).first()
        state = Invitation.from_row(row, utcnow()).state
        return InvitationPreview(email=row.email, first_name=row.first_name, last_name=row.last_name,
                                 host_name=" ".join(p for p in (host or ()) if p) or None,
                                 state=InvitationState(state.value), expires_at=aware(row.expires_at))
