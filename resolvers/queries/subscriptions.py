"""Root query fields of the subscriptions domain."""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from schema.subscriptions import CustomerSubscription


@strawberry.type
class SubscriptionQueries:
    @strawberry.field(description="A subscription by id; null when the tenant has none with that id.")
    async def subscription(self, info: Info, id: strawberry.ID) -> Optional[CustomerSubscription]:
        return await info.context.loaders.subscription_by_id.load(str(id))
