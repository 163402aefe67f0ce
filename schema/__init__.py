"""papergraph's GraphQL schema: an Apollo Federation v2 subgraph.

The root `Query` is composed of one query class per domain (in `resolvers/queries/`), so each domain
owns its fields; entity types are listed in `ENTITY_TYPES` so `_entities` can resolve them.
"""

from __future__ import annotations

import strawberry

from resolvers.errors import ErrorCodes
from resolvers.queries.households import HouseholdQueries
from resolvers.queries.subscriptions import SubscriptionQueries
from schema.households import HouseholdLevel
from schema.subscriptions import CustomerSubscription

ENTITY_TYPES: list[type] = [CustomerSubscription, HouseholdLevel]


@strawberry.type
class Query(SubscriptionQueries, HouseholdQueries):
    pass


def build_schema(*, mask_errors: bool = True) -> strawberry.federation.Schema:
    return strawberry.federation.Schema(
        query=Query,
        types=ENTITY_TYPES,
        extensions=[lambda: ErrorCodes(mask_unexpected=mask_errors)],
    )
