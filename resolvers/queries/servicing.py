"""Root query fields of the servicing domain: `temporaryStopDates` (STP-1) and `complaintCategories` (CMP-1), read
live from the circulation system."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, SUBSCRIPTIONS, allow, arg, customer_owner, staff_read
from datasources.base import UpstreamNotFound
from schema.servicing import ComplaintCategory


@strawberry.type
class ServicingQueries:
    @strawberry.field(description=(
        "The dates the circulation system offers now for a temporary stop's start and restart (STP-1), read "
        "live; null when the tenant has no subscription with this id. Owners and staff."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), customer_owner(arg("subscription_id"))))
    async def temporary_stop_dates(
        self, info: Info,
        subscription_id: Annotated[strawberry.ID, strawberry.argument(description="The subscription to stop.")],
    ) -> Optional[list[date]]:
        try:
            return await info.context.services.circulation.get_temporary_stop_dates(
                info.context.tenant.code, str(subscription_id).strip())
        except UpstreamNotFound as error:
            if isinstance(error.body, dict) and error.body.get("code") == "SUBSCRIPTION_NOT_FOUND":
                return None
            raise

    @strawberry.field(description=(
        "The tenant's delivery-complaint categories (CMP-1), from its circulation system. Customers and staff."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), ANY_CUSTOMER))
    async def complaint_categories(self, info: Info) -> list[ComplaintCategory]:
        categories = await info.context.services.circulation.get_complaint_categories(info.context.tenant.code)
        return [ComplaintCategory(code=c["code"], description=c["description"]) for c in categories]
