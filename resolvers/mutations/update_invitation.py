"""`updateInvitation` (INV-2, INV-5, INV-6): change a pending invitation's names or metadata."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, SUBSCRIPTIONS, allow, staff_change
from datasources.models import utcnow
from domain.ids import integer_id
from domain.invitations import EVENT_UPDATE, is_current, validate_invitation_metadata
from domain.registrations import RegistrationRuleError
from domain.users import clean_name
from datasources.repositories.users import aware
from resolvers.invitation_flows import invitation_event, may_manage, repository
from resolvers.mutation_support import Refusal, error_type
from schema.invitations import Invitation


@strawberry.enum(description="Why `updateInvitation` refused.")
class UpdateInvitationErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description=(
        "No pending invitation with this id that you may manage (the host's subscription owners, or staff)."))
    INVALID = strawberry.enum_value("INVALID", description="A name or the metadata breaks USR-3 or INV-5.")


UpdateInvitationError = error_type("UpdateInvitation", UpdateInvitationErrorCode)


@strawberry.input(description="The changes to a pending invitation; fields left out stay as they are.")
class UpdateInvitationInput:
    id: strawberry.ID = strawberry.field(description="The invitation's id.")
    first_name: Optional[str] = strawberry.field(default=None, description="The invitee's first name.")
    last_name: Optional[str] = strawberry.field(default=None, description="The invitee's last name.")
    metadata: Optional[JSON] = strawberry.field(default=None, description="Replaces the metadata (INV-5).")


@strawberry.type(description="The answer of `updateInvitation`.")
class UpdateInvitationPayload:
    invitation: Optional[Invitation] = strawberry.field(default=None, description="The invitation as changed.")
    user_errors: list[UpdateInvitationError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class UpdateInvitation:
    @strawberry.mutation(description=(
        "Change a pending invitation's names or metadata (INV-2); records UPDATEINVITATION with the host's CRID."),
        extensions=allow(staff_change(SUBSCRIPTIONS), ANY_CUSTOMER))
    async def update_invitation(self, info: Info, input: Annotated[UpdateInvitationInput, strawberry.argument(description="The invitation and its changes.")]) -> Optional[UpdateInvitationPayload]:
        context = info.context
        Code = UpdateInvitationErrorCode
        try:
            row = await _managed_pending(context, input.id, Code.NOT_FOUND)
            changes = {}
            try:
                if input.first_name is not None:
                    changes["first_name"] = clean_name(input.first_name, ["input", "firstName"])
                if input.last_name is not None:
                    changes["last_name"] = clean_name(input.last_name, ["input", "lastName"])
                if input.metadata is not None:
                    changes["invitation_metadata"] = validate_invitation_metadata(input.metadata, ["input", "metadata"])
            except RegistrationRuleError as error:
                raise Refusal.from_rule(error, Code.INVALID)
            changed = await repository(context).change(row, changes, invitation_event(
                context.tenant.id, EVENT_UPDATE, row, changed=sorted(changes), by=context.principal.subject))
            if changed is None:
                raise Refusal(Code.NOT_FOUND, "The invitation is no longer pending", ["input", "id"])
        except Refusal as refusal:
            return UpdateInvitationPayload(user_errors=[refusal.as_error(UpdateInvitationError)])
        return UpdateInvitationPayload(invitation=Invitation.from_row(changed, utcnow()))


async def _managed_pending(context, raw_id, not_found):
    number = integer_id(str(raw_id))
    row = await repository(context).get(context.tenant.id, number) if number is not None else None
    if row is None or not is_current(row.state, aware(row.expires_at), utcnow()) or not await may_manage(context, row):
        raise Refusal(not_found, "No pending invitation with this id", ["input", "id"])
    return row
