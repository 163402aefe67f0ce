"""Household levels (HHL-1..3)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.permissions import SIGNED_IN, guarded_reference
from domain.households import level_label
from domain.ids import integer_id


@strawberry.federation.type(keys=["id"], description="A household level a subscription can reference (HHL-1).")
class HouseholdLevel:
    id: strawberry.ID
    level_id: int = strawberry.field(description="The integer id subscriptions reference.")
    description: str = strawberry.field(description="At most 50 characters; may be blank.")
    active: bool

    @strawberry.field(description='"<id> - <description>", as shown where a level is chosen (HHL-3); the id '
                                  'alone when the description is blank.')
    def label(self) -> str:
        return level_label(self.level_id, self.description)

    @classmethod
    def from_row(cls, row) -> "HouseholdLevel":
        return cls(id=strawberry.ID(str(row.level_id)), level_id=row.level_id, description=row.description,
                   active=row.active)

    @guarded_reference(SIGNED_IN)
    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "HouseholdLevel | None":
        level_id = integer_id(id)
        return None if level_id is None else await info.context.loaders.household_level_by_id.load(level_id)
