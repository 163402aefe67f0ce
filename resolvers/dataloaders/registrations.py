"""Loaders of the registrations domain: registrations, links, temporary entitlements, events.

Each loader answers its whole batch with one repository call (one SQL statement). Paged relations
(events) are keyed by `(owner, offset, limit)`; a batch holds one statement per distinct page window,
which in practice is one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from functools import cached_property
from typing import Sequence

from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.registrations import Page, RegistrationRepository
from resolvers.dataloaders.batching import DataLoader
from schema.pagination import Connection, connection_from_page
from schema.registrations import Event, Registration, SubscriptionLink, TemporaryEntitlement

PageKey = tuple[str, int, int]  # (crid or subscription id, offset, limit)


class RegistrationLoaders:
    @cached_property
    def registration_repository(self) -> RegistrationRepository:
        return RegistrationRepository(self.services.db)

    def registration_from_row(self, row) -> Registration:
        return Registration.from_row(row, self.tenant.settings.get("Flow.UserProvider"))

    def prime_registrations(self, registrations: Sequence[Registration]) -> None:
        """Registrations found by a search are cached, so their relations and re-reads cost nothing more."""
        for registration in registrations:
            self.registration_by_crid.prime(registration.crid, registration)

    # registrations -------------------------------------------------------------------------------
    @cached_property
    def registration_by_crid(self) -> DataLoader:
        return DataLoader(self._registrations_by_crid)

    async def _registrations_by_crid(self, crids: Sequence[str]) -> list[Registration | None]:
        rows = await self.registration_repository.registrations_by_crids(self.tenant.id, crids)
        by_crid = {row.crid: self.registration_from_row(row) for row in rows}
        return [by_crid.get(crid) for crid in crids]

    # links (LNK-1) -------------------------------------------------------------------------------
    @cached_property
    def links_by_registration_id(self) -> DataLoader:
        return DataLoader(self._links_by_registration_id)

    async def _links_by_registration_id(self, ids: Sequence[int]) -> list[list[SubscriptionLink]]:
        grouped: dict[int, list[SubscriptionLink]] = defaultdict(list)
        for item in await self.registration_repository.links_by_registration_ids(self.tenant.id, ids):
            grouped[item.link.registration_id].append(SubscriptionLink.from_row(item.link, item.crid))
        return [grouped.get(i, []) for i in ids]

    @cached_property
    def link_by_id(self) -> DataLoader:
        """(link row, its registration's CRID) by link id: what the link mutations and their permission read."""
        return DataLoader(self._links_by_id)

    async def _links_by_id(self, ids: Sequence[int]) -> list[tuple | None]:
        repository = AdministrationRepository(self.services.db)
        return [await repository.link(self.tenant.id, link_id) for link_id in ids]

    @cached_property
    def links_by_subscription_id(self) -> DataLoader:
        return DataLoader(self._links_by_subscription_id)

    async def _links_by_subscription_id(self, ids: Sequence[str]) -> list[list[SubscriptionLink]]:
        grouped: dict[str, list[SubscriptionLink]] = defaultdict(list)
        for item in await self.registration_repository.links_by_subscription_ids(self.tenant.id, ids):
            grouped[item.link.subscription_id].append(SubscriptionLink.from_row(item.link, item.crid))
        return [grouped.get(i, []) for i in ids]

    # temporary entitlements (ENT-3) --------------------------------------------------------------
    @cached_property
    def temporary_entitlements_by_crid(self) -> DataLoader:
        return DataLoader(self._temporary_entitlements_by_crid)

    async def _temporary_entitlements_by_crid(self, crids: Sequence[str]) -> list[list[TemporaryEntitlement]]:
        now = datetime.now(timezone.utc)
        grouped: dict[str, list[TemporaryEntitlement]] = defaultdict(list)
        for row in await self.registration_repository.temporary_entitlements_by_crids(self.tenant.id, crids):
            grouped[row.crid].append(TemporaryEntitlement.from_row(row, now))
        return [grouped.get(crid, []) for crid in crids]

    # events (NOT-1) ------------------------------------------------------------------------------
    @cached_property
    def events_by_crid(self) -> DataLoader:
        return DataLoader(self._events_by_crid)

    async def _events_by_crid(self, keys: Sequence[PageKey]) -> list[Connection[Event]]:
        return await self._event_pages(keys, self.registration_repository.events_by_crids)

    @cached_property
    def events_by_subscription_id(self) -> DataLoader:
        return DataLoader(self._events_by_subscription_id)

    async def _events_by_subscription_id(self, keys: Sequence[PageKey]) -> list[Connection[Event]]:
        return await self._event_pages(keys, self.registration_repository.events_by_subscription_ids)

    async def _event_pages(self, keys: Sequence[PageKey], fetch) -> list[Connection[Event]]:
        windows: dict[tuple[int, int], list[str]] = defaultdict(list)
        for owner, offset, limit in keys:
            windows[(offset, limit)].append(owner)
        pages: dict[PageKey, Page] = {}
        for (offset, limit), owners in windows.items():
            for owner, page in (await fetch(self.tenant.id, owners, offset=offset, limit=limit)).items():
                pages[(owner, offset, limit)] = page
        currency = self.tenant.currency
        results = []
        for key in keys:
            _, offset, limit = key
            page = pages.get(key) or Page(rows=[], total=0 if offset == 0 and limit > 0 else None, has_more=False)
            results.append(connection_from_page([Event.from_row(row, currency) for row in page.rows], offset, limit,
                                                page.total, page.has_more))
        return results
