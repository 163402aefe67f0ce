"""Invitations of guests to a subscription (INV)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="Where an invitation stands (INV-2).")
class InvitationState(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Sent, not accepted, cancelled or expired yet.")
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="Accepted: the invitee is linked as GUEST.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled by the host or staff.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="Not accepted within 14 days (INV-4).")


@strawberry.type(description="An invitation of an e-mail address to join a subscription as GUEST (INV-1).")
class Invitation:
    id: strawberry.ID = strawberry.field(description="The invitation's id.")
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the invitee would join.")
    host_customer_registration_id: str = strawberry.field(description="The inviting owner's CRID (HostUserCRID).")
    email: str = strawberry.field(description="The invitee's e-mail address.")
    first_name: Optional[str] = strawberry.field(description="The invitee's first name, as the host gave it.")
    last_name: Optional[str] = strawberry.field(description="The invitee's last name, as the host gave it.")
    metadata: JSON = strawberry.field(description="camelCase metadata given to the invitee's registration (INV-5).")
    state: InvitationState = strawberry.field(description="Where the invitation stands.")
    expires_at: datetime = strawberry.field(description="The link works until then, once (INV-4).")

    @classmethod
    def from_row(cls, row, now: datetime) -> "Invitation":
        from datasources.repositories.users import aware

        state = row.state
        if state == "PENDING" and aware(row.expires_at) <= now:
            state = "EXPIRED"
        return cls(id=strawberry.ID(str(row.id)), subscription_id=strawberry.ID(row.subscription_id),
                   host_customer_registration_id=row.host_crid, email=row.email, first_name=row.first_name,
                   last_name=row.last_name, metadata=row.invitation_metadata or {}, state=InvitationState(state),
                   expires_at=aware(row.expires_at))


@strawberry.type(description="What an invitation link shows before it is accepted (INV-2: the target by token).")
class InvitationPreview:
    email: str = strawberry.field(description="The invited e-mail address.")
    first_name: Optional[str] = strawberry.field(description="The invitee's first name, as the host gave it.")
    last_name: Optional[str] = strawberry.field(description="The invitee's last name, as the host gave it.")
    host_name: Optional[str] = strawberry.field(description="The host's first and last name.")
    state: InvitationState = strawberry.field(description="Where the invitation stands.")
    expires_at: datetime = strawberry.field(description="The link works until then.")
