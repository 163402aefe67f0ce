"""Root query fields of the servicing domain: `temporaryStopDates` (STP-1) and `complaintCategories` (CMP-1), read
live from the circulation system."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANY_CUSTOMER, SUBSCRIPTIONS, allow, arg, customer_owner, staff_read
from datasources.base import UpstreamNotFound
from resolvers.servicing_flows import downgrade_offers, stop_saver_plan
from schema.servicing import ComplaintCategory, StopReason, StopSaver, StopSaverStep


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
            return await info.context.loaders.temporary_stop_dates_by_subscription_id.load(str(subscription_id).strip())
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

    @strawberry.field(description=(
        "The tenant's stop-reason list (STP-5), from its circulation system: every cancellation names one."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), ANY_CUSTOMER))
    async def stop_reasons(self, info: Info) -> list[StopReason]:
        reasons = await info.context.services.circulation.get_stop_reasons(info.context.tenant.code)
        return [StopReason(code=r["code"], description=r["description"]) for r in reasons]

    @strawberry.field(description=(
        "The StopSaver flow for a subscription (STP-3, STP-4): the temporary-stop step for print subscribers only, "
        "skipped when its data fails to load; then downgrade (with its offers) and cancel. Null for an unknown subscription. Owners "
        "and staff."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), customer_owner(arg("subscription_id"))))
    async def stop_saver(
        self, info: Info,
        subscription_id: Annotated[strawberry.ID, strawberry.argument(description="The subscription to stop.")],
    ) -> Optional[StopSaver]:
        context = info.context
        subscription = await context.loaders.subscription_by_id.load(str(subscription_id).strip())
        if subscription is None:
            return None
        steps, dates = await stop_saver_plan(context, subscription)
        offers = [context.loaders.offer_from_row(o.offer) for o in await downgrade_offers(context, subscription)]
        return StopSaver(subscription_id=subscription.id, steps=[StopSaverStep(s) for s in steps],
                         temporary_stop_dates=dates, downgrade_offers=offers)
