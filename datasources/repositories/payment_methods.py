"""SQL of the masked payment methods attached to subscriptions (PM-4, PM-5).

One payment method is attached to a subscription at a time (a unique key on tenant and subscription), so
a batch of subscription ids is answered by one statement. The rows carry the gateway token for the
mutations that charge it; the GraphQL types built from them never expose it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, PaymentMethod, PaymentSession
from datasources.reads import ReadQuery, model_columns
from datasources.repositories.payments import as_utc


class PaymentMethodRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str]) -> list[Any]:
        """The payment method of each subscription that has one (TEN-1: only the tenant's), as read-only
        records with `PaymentMethod`'s attributes (datasources/reads.py)."""
        return await self.db.read(METHODS_BY_SUBSCRIPTION_IDS, tenant_id=tenant_id, keys=list(subscription_ids))

    async def row(self, tenant_id: int, subscription_id: str) -> PaymentMethod | None:
        """The subscription's payment method with its gateway token (for the flows that charge it)."""
        rows = await self.by_subscription_ids(tenant_id, [subscription_id])
        return rows[0] if rows else None

    async def attach(self, method: PaymentMethod, *, changed_since: datetime, session_row: PaymentSession,
                     event: Event) -> tuple[PaymentMethod, bool]:
        """Attach `method` to its subscription in place of the one it has (one at a time, PM-4), mark the
        hosted session completed and record `event`, in one transaction. PM-5: when the current method was
        attached at or after `changed_since`, nothing is written and `MethodChangeWindowClosed` is raised.
        The same token attached already (the same session completed twice at once) writes nothing either.
        Returns the subscription's payment method and whether this call attached it."""
        async with self.db.session() as session:
            current = (await session.execute(select(PaymentMethod).where(
                PaymentMethod.tenant_id == method.tenant_id, PaymentMethod.subscription_id == method.subscription_id)
                .with_for_update())).scalar_one_or_none()
            if current is not None and current.gateway_token == method.gateway_token:
                await session.commit()  # nothing written: a concurrent completion of this session attached it
                return current, False
            if current is not None:
                attached = as_utc(current.attached_at)
                if attached is not None and attached >= changed_since:
                    await session.rollback()
                    raise MethodChangeWindowClosed(attached)
                for name in MASKED_COLUMNS:
                    setattr(current, name, getattr(method, name))
                current.attached_at = method.attached_at
                method = current
            session.add(method)
            try:
                await session.flush()
            except IntegrityError:  # a concurrent request attached the subscription's first method meanwhile
                await session.rollback()
                raced = await self.row(method.tenant_id, method.subscription_id)
                if raced is not None and raced.gateway_token == method.gateway_token:
                    return raced, False
                raise MethodChangeWindowClosed(as_utc(raced.attached_at) if raced else changed_since) from None
            await session.execute(sa.update(PaymentSession).where(PaymentSession.id == session_row.id).values(
                completed_at=method.attached_at, profile_id=method.gateway_token))
            session.add(event)
            await session.commit()
        return method, True


class MethodChangeWindowClosed(Exception):
    """PM-5: the subscription's payment method changed at `since`, less than 24 hours ago."""

    def __init__(self, since: datetime) -> None:
        super().__init__(f"the payment method changed at {since.isoformat()}")
        self.since = since


MASKED_COLUMNS = ("type", "gateway_token", "gateway_customer_id", "card_brand", "card_last4", "card_expiry",
                  "bank_name", "bank_account_masked", "bank_routing_number")


def masked_payment_method(tenant_id: int, subscription_id: str, profile: dict[str, Any],
                          attached_at: datetime | None = None) -> PaymentMethod:
    """PM-4: a payment method row from a NavigaPay profile: only the masked card (brand, last four, expiry)
    or bank (name, masked account, routing number) and the gateway token and customer id."""
    bank = profile["paymentType"] == "BANK"
    return PaymentMethod(
        tenant_id=tenant_id, subscription_id=subscription_id, type="BANK" if bank else "CREDIT_CARD",
        gateway_token=profile["profileId"], gateway_customer_id=profile.get("customerId"),
        card_brand=None if bank else profile.get("brand"), card_last4=None if bank else profile.get("last4"),
        card_expiry=None if bank else profile.get("expiry"), bank_name=profile.get("bankName") if bank else None,
        bank_account_masked=profile.get("accountMasked") if bank else None,
        bank_routing_number=profile.get("routingNumber") if bank else None,
        **({"attached_at": attached_at} if attached_at is not None else {}),
    )


METHODS_BY_SUBSCRIPTION_IDS = ReadQuery(
    "PaymentMethodRecord", model_columns(PaymentMethod),
    lambda query, shape: query.where(PaymentMethod.tenant_id == sa.bindparam("tenant_id"),
                                     shape.any_of(PaymentMethod.subscription_id, "keys")),
)
