"""Loaders of the offers domain: offers by id, and per offer its group, terms, delivery areas and included
entitlement codes. Each answers its whole batch with one repository call (one SQL statement)."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Sequence

from datasources.repositories.offers import OfferRepository
from resolvers.dataloaders.batching import DataLoader
from schema.offers import Offer, OfferGroup, OfferTerm


class OfferLoaders:
    @cached_property
    def offer_repository(self) -> OfferRepository:
        return OfferRepository(self.services.db)

    def offer_from_row(self, row) -> Offer:
        return Offer.from_row(row, self.tenant.currency)

    def prime_offers(self, offers: Sequence[Offer]) -> None:
        """Offers listed by a page are cached, so `offer(id)` and references to them cost nothing more."""
        for offer in offers:
            self.offer_by_id.prime(offer.offer_id, offer)

    @cached_property
    def offer_by_id(self) -> DataLoader:
        """`load(int)` → Offer, or None for an id the tenant has no offer with."""
        return DataLoader(self._offers_by_id)

    async def _offers_by_id(self, ids: Sequence[int]) -> list[Offer | None]:
        rows = await self.offer_repository.offers_by_ids(self.tenant.id, ids)
        by_id = {row.id: self.offer_from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]

    @cached_property
    def offer_group_by_id(self) -> DataLoader:
        return DataLoader(self._offer_groups_by_id)

    async def _offer_groups_by_id(self, ids: Sequence[int]) -> list[OfferGroup | None]:
        rows = await self.offer_repository.groups_by_ids(self.tenant.id, ids)
        by_id = {row.id: OfferGroup.from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]

    def prime_terms(self, rows_by_offer_id: dict[int, list]) -> dict[int, list[OfferTerm]]:
        """Terms read with a page of offers (the catalog's one statement), cached for `offer.terms`: each
        offer's terms by offer id."""
        currency = self.tenant.currency
        terms = {}
        for offer_id, rows in rows_by_offer_id.items():
            offer_terms = terms[offer_id] = [OfferTerm.from_row(row, currency) for row in rows]
            self.terms_by_offer_id.prime(offer_id, offer_terms)
        return terms

    @cached_property
    def terms_by_offer_id(self) -> DataLoader:
        return DataLoader(self._terms_by_offer_id)

    async def _terms_by_offer_id(self, offer_ids: Sequence[int]) -> list[list[OfferTerm]]:
        grouped: dict[int, list[OfferTerm]] = defaultdict(list)
        currency = self.tenant.currency
        for row in await self.offer_repository.terms_by_offer_ids(self.tenant.id, offer_ids):
            grouped[row.offer_id].append(OfferTerm.from_row(row, currency))
        return [grouped.get(i, []) for i in offer_ids]

    @cached_property
    def delivery_areas_by_offer_id(self) -> DataLoader:
        return DataLoader(self._delivery_areas_by_offer_id)

    async def _delivery_areas_by_offer_id(self, offer_ids: Sequence[int]) -> list[list[str]]:
        grouped: dict[int, list[str]] = defaultdict(list)
        for row in await self.offer_repository.delivery_areas_by_offer_ids(self.tenant.id, offer_ids):
            grouped[row.offer_id].append(row.postal_code)
        return [grouped.get(i, []) for i in offer_ids]

    @cached_property
    def entitlement_codes_by_offer_id(self) -> DataLoader:
        return DataLoader(self._entitlement_codes_by_offer_id)

    async def _entitlement_codes_by_offer_id(self, offer_ids: Sequence[int]) -> list[list[str]]:
        grouped: dict[int, list[str]] = defaultdict(list)
        for row in await self.offer_repository.entitlements_by_offer_ids(self.tenant.id, offer_ids):
            grouped[row.offer_id].append(row.entitlement_code)
        return [grouped.get(i, []) for i in offer_ids]
