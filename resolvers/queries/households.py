"""Root query fields of the household-levels domain."""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import HOUSEHOLD_LEVELS, allow, reads
from domain.text import forbidden_character
from resolvers.errors import CodedError
from schema.households import HouseholdLevel


@strawberry.type
class HouseholdQueries:
    @strawberry.field(description="Household levels, filtered by a word of the description or a numeral of the id (HHL-2).",
                      extensions=allow(reads(HOUSEHOLD_LEVELS)))
    async def household_levels(
        self, info: Info, search: Optional[str] = None, only_active: bool = False
    ) -> Optional[list[HouseholdLevel]]:
        if search is not None and forbidden_character(search) is not None:  # issue 14 #15
            raise CodedError("`search` contains a control or invisible character", field=["search"])
        rows = await info.context.services.db.list_household_levels(
            info.context.tenant.id, search=search, only_active=only_active
        )
        return [HouseholdLevel.from_row(row) for row in rows]
