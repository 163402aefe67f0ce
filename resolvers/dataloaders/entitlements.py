"""Loaders of the entitlements domain: entitlements by code (ENT-1) and access levels by
(entitlement code, CRID) (ENT-2, ENT-3).

An access-level batch costs, whatever its size: one SQL query for the entitlements, one for the CRIDs'
links, one for their temporary entitlements (the three run concurrently), one batched circulation call
for the linked subscriptions (skipped when temporary entitlements already answer every key) and one SQL
query for the entitlements the subscriptions' offers include.
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any, Optional, Sequence

from datasources.repositories.entitlements import EntitlementRepository
from domain.entitlements import HeldSubscription, access_level, day_pass_expired
from resolvers.dataloaders.batching import DataLoader
from schema.entitlements import AccessLevelResult, Entitlement

AccessKey = tuple[str, str]  # (entitlement code, CRID)


def subscription_offer_id(subscription: Any) -> Optional[int]:
    """The id of the offer a circulation subscription was bought from (its product code), or None.

    `CustomerSubscription` carries it as `offer_id` (an int, as `offer_by_id` takes); `product_code` is
    accepted too while the subscriptions schema settles."""
    for name in ("offer_id", "product_code"):
        value = getattr(subscription, name, None)
        if value is not None and str(value).strip().isdigit():
            return int(str(value).strip())
    return None


class EntitlementLoaders:
    @cached_property
    def entitlement_repository(self) -> EntitlementRepository:
        return EntitlementRepository(self.services.db)

    @cached_property
    def entitlement_by_code(self) -> DataLoader:
        """`load(code)` → Entitlement, or None for a code the tenant does not have."""
        return DataLoader(self._entitlements_by_code)

    async def _entitlements_by_code(self, codes: Sequence[str]) -> list[Entitlement | None]:
        rows = await self.entitlement_repository.entitlements_by_codes(self.tenant.id, codes)
        by_code = {row.entitlement.code: Entitlement.from_row(row) for row in rows}
        return [by_code.get(code) for code in codes]

    @cached_property
    def access_level_by_key(self) -> DataLoader:
        """`load((entitlement_code, crid))` → AccessLevelResult, or None when the tenant has no such
        entitlement or no registration with that CRID."""
        return DataLoader(self._access_levels)

    async def _access_levels(self, keys: Sequence[AccessKey]) -> list[AccessLevelResult | None]:
        codes = list(dict.fromkeys(code for code, _ in keys))
        crids = list(dict.fromkeys(crid for _, crid in keys))
        repository = self.entitlement_repository
        now = self.services.clock()
        entitlements, linked, temporary = await asyncio.gather(
            self.entitlement_by_code.load_many(codes),
            repository.linked_subscription_ids_by_crids(self.tenant.id, crids),
            repository.temporary_entitlement_codes_by_crids(self.tenant.id, crids, now),
        )
        known_codes = {code for code, entitlement in zip(codes, entitlements) if entitlement is not None}
        answerable = [(code, crid) for code, crid in keys if code in known_codes and crid in linked]
        # a temporary entitlement already answers PREMIUM: its CRID's subscriptions are not needed for that key
        needing = {crid for code, crid in answerable if code not in temporary.get(crid, set())}
        subscription_ids = list(dict.fromkeys(sid for crid in needing for sid in linked[crid]))
        subscriptions = dict(zip(subscription_ids, await self.subscription_by_id.load_many(subscription_ids)))
        offer_of = {sid: subscription_offer_id(sub) for sid, sub in subscriptions.items() if sub is not None}
        offer_ids = list(dict.fromkeys(i for i in offer_of.values() if i is not None))
        included = dict(zip(offer_ids, await self.entitlement_codes_by_offer_id.load_many(offer_ids)))

        def held(crid: str) -> list[HeldSubscription]:
            if crid not in needing:
                return []
            return [
                HeldSubscription(subscription_id=sid, status=_status(subscriptions[sid]),
                                 entitlement_codes=frozenset(included.get(offer_of.get(sid), ())),
                                 pass_expired=day_pass_expired(_kind(subscriptions[sid]),
                                                               getattr(subscriptions[sid], "start_date", None), now,
                                                               self.tenant.time_zone))
                for sid in linked[crid] if subscriptions.get(sid) is not None
            ]

        results: list[AccessLevelResult | None] = []
        for code, crid in keys:
            if code not in known_codes or crid not in linked:
                results.append(None)
                continue
            decision = access_level(code, held(crid), temporary.get(crid, ()))
            results.append(AccessLevelResult.of(code, crid, decision))
        return results


def _status(subscription: Any) -> str:
    status = subscription.status
    return getattr(status, "value", status)


def _kind(subscription: Any) -> str:
    kind = getattr(subscription, "kind", None) or ""
    return getattr(kind, "value", kind)
