"""`unlinkSubscription` (LNK-1: records UPDATELINK)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, CustomerManagesLink, allow, arg, changes

from datasources.repositories.administration import AdministrationRepository
from domain.ids import integer_id
from resolvers.link_flows import link_event
from resolvers.mutation_support import Refusal, error_type


@strawberry.enum(description="Why `unlinkSubscription` refused its input.")
class UnlinkSubscriptionErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"


UnlinkSubscriptionError = error_type("UnlinkSubscription", UnlinkSubscriptionErrorCode)


@strawberry.input
class UnlinkSubscriptionInput:
    link_id: strawberry.ID


@strawberry.type
class UnlinkSubscriptionPayload:
    removed_link_id: Optional[strawberry.ID] = None
    user_errors: list[UnlinkSubscriptionError] = strawberry.field(default_factory=list)


@strawberry.type
class UnlinkSubscription:
    @strawberry.mutation(description="Remove a registration's link to a subscription; records UPDATELINK.", extensions=allow(changes(SUBSCRIPTIONS), CustomerManagesLink(arg("input", "link_id"), own_link=True)))
    async def unlink_subscription(self, info: Info, input: UnlinkSubscriptionInput) -> Optional[UnlinkSubscriptionPayload]:
        context = info.context
        repository = AdministrationRepository(context.services.db)
        try:
            number = integer_id(input.link_id)
            found = await repository.link(context.tenant.id, number) if number is not None else None
            if found is None:
                raise Refusal(UnlinkSubscriptionErrorCode.NOT_FOUND, "No link has this id", ["input", "linkId"])
            link, crid = found
            event = link_event(context.tenant.id, crid=crid, subscription_id=link.subscription_id, action="UNLINK",
                               role=link.role, linkId=link.id)
            if not await repository.remove_link(context.tenant.id, link.id, event):
                raise Refusal(UnlinkSubscriptionErrorCode.NOT_FOUND, "No link has this id", ["input", "linkId"])
        except Refusal as refusal:
            return UnlinkSubscriptionPayload(user_errors=[refusal.as_error(UnlinkSubscriptionError)])
        return UnlinkSubscriptionPayload(removed_link_id=strawberry.ID(str(link.id)))
