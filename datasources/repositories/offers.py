"""Bulk SQL for offers, their groups, terms, delivery areas and included entitlements (OFR, ENT-2).

Every method is scoped to one tenant (TEN-1) — child tables carry no tenant id, so they are joined to
`offer` and filtered on its tenant — and answers a whole batch of keys with one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import Offer, OfferDeliveryArea, OfferEntitlement, OfferGroup, OfferTerm
from datasources.reads import ReadQuery, model_columns


@dataclass(frozen=True)
class OfferPage:
    """One page of offers, with the total count of the filtered list (from the same statement); for the
    catalog, each offer's terms too (`terms`, by offer id, in term order; from the same statement)."""

    rows: list[Offer]
    total: int | None
    has_more: bool
    terms: dict[int, list[Any]] | None = None


class OfferRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _all(self, statement) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.execute(statement)).all())

    async def _page(self, query, offset: int, limit: int) -> OfferPage:
        total = sa.func.count().over().label("total")
        rows = await self._all(query.add_columns(total).order_by(Offer.id).offset(offset).limit(limit))
        if rows:
            count = int(rows[0][1])
            return OfferPage(rows=[row[0] for row in rows], total=count, has_more=offset + len(rows) < count)
        # past the end the window count is unknown (no row carries it) unless the page starts at 0
        return OfferPage(rows=[], total=0 if offset == 0 and limit > 0 else None, has_more=False)

    # offers ---------------------------------------------------------------------------------------
    async def offers_by_ids(self, tenant_id: int, ids: Iterable[int]) -> list[Any]:
        """Read-only records with `Offer`'s attributes (datasources/reads.py)."""
        return await self.db.read(OFFERS_BY_IDS, tenant_id=tenant_id, keys=list(ids))

    async def all_offers(self, tenant_id: int) -> list[Offer]:
        rows = await self._all(select(Offer).where(Offer.tenant_id == tenant_id).order_by(Offer.id))
        return [row[0] for row in rows]

    async def list_offers(self, tenant_id: int, *, offset: int, limit: int) -> OfferPage:
        return await self._page(select(Offer).where(Offer.tenant_id == tenant_id), offset, limit)

    async def catalog(
        self, tenant_id: int, *, today: date, offset: int, limit: int, category: Optional[str] = None,
        vendor: Optional[str] = None, trial_available: Optional[bool] = None,
    ) -> OfferPage:
        """OFR-6: offers on sale today (validity contains `today`), filtered by category and vendor (both
        case-insensitive equality) and trial availability."""
        params: dict[str, Any] = {"tenant_id": tenant_id, "today": today, "offset": offset, "limit": limit}
        if category is not None:
            params["category"] = category.strip().lower()
        if vendor is not None:
            params["vendor"] = vendor.strip().lower()
        if trial_available is not None:
            params["trial"] = trial_available
        variant = (category is not None, vendor is not None, trial_available is not None)
        rows = await self.db.read(CATALOG, variant, **params)
        if not rows:
            # past the end the window count is unknown (no row carries it) unless the page starts at 0
            return OfferPage(rows=[], total=0 if offset == 0 and limit > 0 else None, has_more=False, terms={})
        # one row per (offer, term) in offer order, or one row with no term for an offer without terms
        offers: list[Any] = []
        terms: dict[int, list[Any]] = {}
        term_record, first_term_column = TERMS_BY_OFFER_IDS.record, len(CATALOG_OFFER_COLUMNS) + 1
        for row in rows:
            offer_terms = terms.get(row.id)
            if offer_terms is None:
                offers.append(row)
                offer_terms = terms[row.id] = []
            if row.term_id is not None:
                offer_terms.append(term_record(*row[first_term_column:]))
        count = int(rows[0].total)
        return OfferPage(rows=offers, total=count, has_more=offset + len(offers) < count, terms=terms)

    # relations ------------------------------------------------------------------------------------
    async def groups_by_ids(self, tenant_id: int, ids: Iterable[int]) -> list[Any]:
        return await self.db.read(GROUPS_BY_IDS, tenant_id=tenant_id, keys=list(ids))

    async def terms_by_offer_ids(self, tenant_id: int, offer_ids: Iterable[int]) -> list[Any]:
        return await self.db.read(TERMS_BY_OFFER_IDS, tenant_id=tenant_id, keys=list(offer_ids))

    async def delivery_areas_by_offer_ids(self, tenant_id: int, offer_ids: Iterable[int]) -> list[OfferDeliveryArea]:
        rows = await self._all(
            select(OfferDeliveryArea).join(Offer, Offer.id == OfferDeliveryArea.offer_id)
            .where(Offer.tenant_id == tenant_id, OfferDeliveryArea.offer_id.in_(list(offer_ids)))
            .order_by(OfferDeliveryArea.offer_id, OfferDeliveryArea.postal_code)
        )
        return [row[0] for row in rows]

    async def entitlements_by_offer_ids(self, tenant_id: int, offer_ids: Iterable[int]) -> list[OfferEntitlement]:
        rows = await self._all(
            select(OfferEntitlement).join(Offer, Offer.id == OfferEntitlement.offer_id)
            .where(Offer.tenant_id == tenant_id, OfferEntitlement.offer_id.in_(list(offer_ids)))
            .order_by(OfferEntitlement.offer_id, OfferEntitlement.entitlement_code)
        )
        return [row[0] for row in rows]

    async def offers_delivering_to(self, tenant_id: int, postal_codes: Iterable[str]) -> list[tuple[Offer, bool]]:
        """Every offer of the tenant, each with whether one of its delivery areas is one of `postal_codes`
        (already normalized): one statement for OFR-2 across all offers, however many areas they list."""
        covers = (
            sa.exists().where(OfferDeliveryArea.offer_id == Offer.id,
                              sa.func.upper(sa.func.replace(OfferDeliveryArea.postal_code, " ", ""))
                              .in_(list(postal_codes)))
            .correlate(Offer).label("covers")
        )
        rows = await self._all(select(Offer, covers).where(Offer.tenant_id == tenant_id).order_by(Offer.id))
        return [(row[0], bool(row[1])) for row in rows]


# the loaders' bulk reads (datasources/reads.py): compiled once per variant, one statement per batch
OFFERS_BY_IDS = ReadQuery(
    "OfferRecord", model_columns(Offer),
    lambda query, shape: query.where(Offer.tenant_id == sa.bindparam("tenant_id"), shape.any_of(Offer.id, "keys")),
)
GROUPS_BY_IDS = ReadQuery(
    "OfferGroupRecord", model_columns(OfferGroup),
    lambda query, shape: query.where(OfferGroup.tenant_id == sa.bindparam("tenant_id"),
                                     shape.any_of(OfferGroup.id, "keys")),
)
TERMS_BY_OFFER_IDS = ReadQuery(
    "OfferTermRecord", model_columns(OfferTerm),
    lambda query, shape: (
        query.join_from(OfferTerm, Offer, Offer.id == OfferTerm.offer_id)
        .where(Offer.tenant_id == sa.bindparam("tenant_id"), shape.any_of(OfferTerm.offer_id, "keys"))
        .order_by(OfferTerm.offer_id, OfferTerm.id)
    ),
)


def _catalog_page(query, shape, category: bool, vendor: bool, trial: bool):
    """OFR-6 with the optional filters the variant names: one page of offer ids."""
    query = query.where(Offer.tenant_id == sa.bindparam("tenant_id"), Offer.valid_from <= sa.bindparam("today"),
                        sa.or_(Offer.valid_to.is_(None), Offer.valid_to >= sa.bindparam("today")))
    if category:
        query = query.where(sa.func.lower(Offer.category) == sa.bindparam("category"))
    if vendor:
        query = query.where(sa.func.lower(Offer.vendor) == sa.bindparam("vendor"))
    if trial:
        query = query.where(Offer.trial_available == sa.bindparam("trial", type_=sa.Boolean))
    return query.order_by(Offer.id).offset(sa.bindparam("offset")).limit(sa.bindparam("limit"))


def _catalog(query, shape, category: bool, vendor: bool, trial: bool):
    """The page (`_catalog_page`, its window count riding on every row) joined back to its offers and to their
    terms: the cards and their prices in one statement, one row per term (one with no term for an offer that
    has none), in offer and term order."""
    page = _catalog_page(sa.select(Offer.id.label("id"), sa.func.count().over().label("total")),
                         shape, category, vendor, trial).subquery("page")
    return (query.select_from(Offer).join(page, page.c.id == Offer.id)
            .outerjoin(OfferTerm, OfferTerm.offer_id == Offer.id)
            .order_by(Offer.id, OfferTerm.id))


CATALOG_OFFER_COLUMNS = model_columns(Offer)
# the offer's columns, the page's count (the subquery `page` that `_catalog` names), then the term's columns, in
# the order of TERMS_BY_OFFER_IDS's record, which each row's tail becomes
CATALOG = ReadQuery("CatalogRecord", {
    **CATALOG_OFFER_COLUMNS, "total": sa.literal_column("page.total", sa.Integer),
    **model_columns(OfferTerm, prefix="term_"),
}, _catalog)
