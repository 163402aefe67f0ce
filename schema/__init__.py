"""papergraph's GraphQL schema: an Apollo Federation v2 subgraph.

The root `Query` is composed of one query class per domain (in `resolvers/queries/`), so each domain
owns its fields; the root `Mutation` of one class per mutation (`resolvers/mutations/<name>.py`, each a
strawberry type with its one field), listed in `MUTATIONS`. Entity types are listed in `ENTITY_TYPES`
so `_entities` can resolve them.
"""

from __future__ import annotations

import strawberry

from resolvers.errors import ErrorCodes
from resolvers.queries.entitlements import EntitlementQueries
from resolvers.queries.households import HouseholdQueries
from resolvers.queries.offers import OfferQueries
from resolvers.queries.registrations import RegistrationQueries
from resolvers.queries.subscriptions import SubscriptionQueries
from schema.entitlements import Entitlement
from schema.households import HouseholdLevel
from schema.offers import Offer
from schema.registrations import Registration
from schema.subscriptions import CustomerSubscription

ENTITY_TYPES: list[type] = [CustomerSubscription, HouseholdLevel, Registration, Offer, Entitlement]


# one class per mutation, in the order they appear in the SDL
MUTATIONS: list[type] = []


@strawberry.type
class Query(SubscriptionQueries, HouseholdQueries, RegistrationQueries, OfferQueries, EntitlementQueries):
    pass


def _mutation_type() -> type | None:
    if not MUTATIONS:
        return None
    return strawberry.type(type("Mutation", tuple(MUTATIONS), {}))


def build_schema(*, mask_errors: bool = True) -> strawberry.federation.Schema:
    return strawberry.federation.Schema(
        query=Query,
        mutation=_mutation_type(),
        types=ENTITY_TYPES,
        extensions=[lambda: ErrorCodes(mask_unexpected=mask_errors)],
    )
