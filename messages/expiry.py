"""Grouped expiry notices (NOT-2, MSG-5): once a day (`papergraph notify-expiring`, or in the server every
`PAPERGRAPH_EXPIRY_NOTICE_EVERY` seconds), for each tenant with an EXPIRENOTICE template, the subscriptions
of one account that end on the same date, `PAPERGRAPH_EXPIRY_NOTICE_DAYS` days from today (tenant time),
get one EXPIRENOTICE event, hence one message, listing each subscription with its auto-renew status,
preliminary renewal cost and a link. A group already announced is not announced again."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from datasources.models import Event, MessageTemplate, Tenant
from datasources.repositories.users import new_event
from domain.availability import group_expiring

log = logging.getLogger("papergraph.messages")
EVENT = "EXPIRENOTICE"


def notice_lines(records, billing_options: dict[str, list[dict]]) -> list[dict]:
    """MSG-5: per subscription, its auto-renew status and preliminary renewal cost (its first billing option)."""
    lines = []
    for record in records:
        options = billing_options.get(record["id"]) or []
        cost = f"{Decimal(str(options[0]['amount'])):.2f}" if options else "0.00"
        auto_renew = bool(record.get("autoPay")) or any(option.get("autoRenew") for option in options)
        lines.append({"id": record["id"], "auto_renew": auto_renew, "renewal_cost": cost})
    return lines


async def notify_expiring(services, days: int | None = None, today: date | None = None,
                          tenant_codes: list[str] | None = None) -> int:
    """One run over every tenant (or those of `tenant_codes`); returns how many notices it recorded."""
    days = days if days is not None else services.settings.expiry_notice_days
    query = select(Tenant).where(Tenant.id.in_(
        select(MessageTemplate.tenant_id).where(MessageTemplate.event_type == EVENT)))
    if tenant_codes:
        query = query.where(Tenant.code.in_(tenant_codes))
    async with services.db.session() as session:
        tenants = list((await session.execute(query.order_by(Tenant.id))).scalars())
    recorded = 0
    for tenant in tenants:
        local_today = today or datetime.now(ZoneInfo(tenant.time_zone)).date()
        end = local_today + timedelta(days=days)
        records = await services.circulation.expiring_subscriptions(tenant.code, end, end)
        groups = group_expiring((r for r in records if r.get("endDate") == end.isoformat()),
                                account_number=lambda r: r["accountNumber"],
                                end_date=lambda r: date.fromisoformat(r["endDate"]))
        options = await services.circulation.get_billing_options(
            tenant.code, [r["id"] for group in groups for r in group.items]) if groups else {}
        for group in groups:
            key = f"{group.account_number}:{group.end_date.isoformat()}"
            email = next((((r.get("subscriber") or {}).get("email")) for r in group.items
                          if (r.get("subscriber") or {}).get("email")), None)
            if not email:
                continue
            async with services.db.session() as session:
                await services.db.serialize(session, tenant.id, f"expiry-notice:{key}")
                seen = (await session.execute(select(Event.id).where(
                    Event.tenant_id == tenant.id, Event.type_code == EVENT,
                    Event.reason == key).limit(1))).first()
                if seen is not None:
                    await session.rollback()
                    continue
                session.add(new_event(tenant.id, EVENT, subscription_id=group.items[0]["id"], reason=key, details={
                    "accountNumber": group.account_number, "expiresOn": group.end_date.isoformat(), "email": email,
                    "subscriptions": notice_lines(group.items, options)}))
                await session.commit()
                recorded += 1
    return recorded


async def notify_every(services, seconds: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            count = await notify_expiring(services)
            if count:
                log.info("expiry notices: %d recorded", count)
        except Exception:  # noqa: BLE001 - an upstream outage: next round tries again
            log.exception("expiry notices failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass


__all__ = ["notify_expiring", "notify_every", "notice_lines"]
