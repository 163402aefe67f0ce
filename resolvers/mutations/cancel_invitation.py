"""`cancelInvitation` (INV-6): the host's side (an owner) or staff withdraw a pending invitation."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, SUBSCRIPTIONS, allow, staff_change
from datasources.models import utcnow
from domain.invitations import CANCELLED, EVENT_CANCEL
from resolvers.invitation_flows import invitation_event, repository
from resolvers.mutation_support import Refusal, error_type
from resolvers.mutations.update_invitation import _managed_pending
from schema.invitations import Invitation


@strawberry.enum(description="Why `cancelInvitation` refused.")
class CancelInvitationErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description=(
        "No pending invitation with this id that you may manage (the subscription's owners, or staff)."))


CancelInvitationError = error_type("CancelInvitation", CancelInvitationErrorCode)


@strawberry.input(description="The invitation to cancel.")
class CancelInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's id.")


@strawberry.type(description="The answer of `cancelInvitation`.")
class CancelInvitationPayload:
    invitation: Optional[Invitation] = strawberry.field(default=None, description="The cancelled invitation.")
    user_errors: list[CancelInvitationError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class CancelInvitation:
    @strawberry.mutation(description=(
        "Cancel a pending invitation (owner or staff, INV-6): its link stops working and its slot is free again; "
        "records CANCELINVITATION with the host's CRID."), extensions=allow(staff_change(SUBSCRIPTIONS), ANY_CUSTOMER))
    async def cancel_invitation(self, info: Info, input: Annotated[CancelInvitationInput, strawberry.argument(description="The invitation to cancel.")]) -> Optional[CancelInvitationPayload]:
        context = info.context
        Code = CancelInvitationErrorCode
        try:
            row = await _managed_pending(context, input.id, Code.NOT_FOUND)
            changed = await repository(context).change(row, {"state": CANCELLED}, invitation_event(
                context.tenant.id, EVENT_CANCEL, row, by=context.principal.subject))
            if changed is None:
                raise Refusal(Code.NOT_FOUND, "The invitation is no longer pending", ["input", "id"])
        except Refusal as refusal:
            return CancelInvitationPayload(user_errors=[refusal.as_error(CancelInvitationError)])
        return CancelInvitationPayload(invitation=Invitation.from_row(changed, utcnow()))
