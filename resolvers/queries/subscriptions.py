"""Root query fields of the subscriptions domain: `subscription` (SUB-1), `subscriptions` (SUB-2, SUB-3)
and `expiringSubscriptions` (NOT-2).

Rule violations are BAD_USER_INPUT errors whose `field` names the argument at fault; unknown ids answer
null and a search without match an empty connection, never an error.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_linked, reads
from domain.availability import SubscriptionRuleError, expiry_window, group_expiring, validate_subscription_search
from resolvers.errors import CodedError
from schema.pagination import Connection, connection_from_page, page_window
from schema.subscriptions import CustomerSubscription, ExpiringSubscriptionGroup, SubscriptionSearchInput

UPSTREAM_SEARCH_LIMIT = 500  # the circulation system's largest search page


@contextmanager
def _as_bad_user_input() -> Iterator[None]:
    try:
        yield
    except SubscriptionRuleError as error:
        raise CodedError(str(error), field=error.field, rule=error.rule) from error


def _tenant_today(info: Info) -> date:
    """Today in the tenant's time zone: end dates are calendar days of the publisher."""
    return datetime.now(ZoneInfo(info.context.tenant.time_zone)).date()


@strawberry.type
class SubscriptionQueries:
    @strawberry.field(description="A subscription by id; null when the tenant has none with that id.",
                      extensions=allow(reads(SUBSCRIPTIONS), customer_linked(arg("id"))))
    async def subscription(self, info: Info, id: strawberry.ID) -> Optional[CustomerSubscription]:
        return await info.context.loaders.subscription_by_id.load(str(id))

    @strawberry.field(description=(
        "Subscriptions found by first or last name, account number, e-mail, phone, postal code or company "
        "name (SUB-2): at least one criterion, else a BAD_USER_INPUT error; names and company by case-insensitive "
        "prefix, phones by digits with or without the country code; the postal code must match the "
        "tenant's PostalCodeMask (SUB-3). No match is an empty connection."
    ), extensions=allow(reads(SUBSCRIPTIONS)))
    async def subscriptions(self, info: Info, search: SubscriptionSearchInput, first: Optional[int] = None,
                            after: Optional[str] = None) -> Optional[Connection[CustomerSubscription]]:
        tenant = info.context.tenant
        with _as_bad_user_input():
            criteria = validate_subscription_search(search.criteria(), tenant.settings.get("PostalCodeMask"))
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        result = await info.context.services.circulation.search_subscriptions(
            tenant.code, limit=max(1, min(limit, UPSTREAM_SEARCH_LIMIT)), offset=offset, **criteria)
        loaders = info.context.loaders
        found = [loaders.subscription_from_record(record) for record in result["subscriptions"]][:limit]
        loaders.prime_subscriptions(found)
        return connection_from_page(found, offset, limit, result["total"])

    @strawberry.field(description=(
        "Subscriptions still running whose end date falls between today and `daysAhead` (1..90) days from "
        "now, in the tenant's time zone, grouped by account number and end date: one group per grouped "
        "notice (NOT-2). Ordered by end date, then account number."
    ), extensions=allow(reads(SUBSCRIPTIONS)))
    async def expiring_subscriptions(self, info: Info, days_ahead: int, first: Optional[int] = None,
                                     after: Optional[str] = None) -> Optional[Connection[ExpiringSubscriptionGroup]]:
        with _as_bad_user_input():
            start, end = expiry_window(_tenant_today(info), days_ahead)
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        tenant = info.context.tenant
        records = await info.context.services.circulation.expiring_subscriptions(tenant.code, start, end)
        # group the raw records, then build types only for the groups on this page: a 90-day window of a
        # large paper holds thousands of records
        groups = group_expiring((r for r in records if r.get("endDate")), account_number=lambda r: r["accountNumber"],
                                end_date=lambda r: date.fromisoformat(r["endDate"]))
        loaders = info.context.loaders
        page = []
        for group in groups[offset:offset + limit]:
            subscriptions = [loaders.subscription_from_record(record) for record in group.items]
            loaders.prime_subscriptions(subscriptions)
            page.append(ExpiringSubscriptionGroup(account_number=group.account_number, end_date=group.end_date,
                                                  subscriptions=subscriptions))
        return connection_from_page(page, offset, limit, len(groups))
