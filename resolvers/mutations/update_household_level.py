"""`updateHouseholdLevel` (HHL-1, HHL-4: a description of at most 50 characters)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import HOUSEHOLD_LEVELS, allow, changes

from datasources.models import Event, HouseholdLevel as LevelRow, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.households import validate_description
from domain.ids import integer_id
from domain.money import RuleError
from resolvers.mutation_support import Refusal, error_type
from schema.households import HouseholdLevel

EVENT = "UPDATEHOUSEHOLDLEVEL"


@strawberry.enum(description="Why `updateHouseholdLevel` refused its input.")
class UpdateHouseholdLevelErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


UpdateHouseholdLevelError = error_type("UpdateHouseholdLevel", UpdateHouseholdLevelErrorCode)


@strawberry.input
class UpdateHouseholdLevelInput:
    id: strawberry.ID = strawberry.field(description="The household level's integer id.")
    description: str = strawberry.field(description="At most 50 characters; blank allowed (HHL-1).")


@strawberry.type
class UpdateHouseholdLevelPayload:
    household_level: Optional[HouseholdLevel] = None
    user_errors: list[UpdateHouseholdLevelError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateHouseholdLevel:
    @strawberry.mutation(description=(
        "Edit a household level's description (HHL-4: staff with full control of household levels); records "
        "UPDATEHOUSEHOLDLEVEL with the old and new descriptions."
    ), extensions=allow(changes(HOUSEHOLD_LEVELS)))
    async def update_household_level(self, info: Info, input: UpdateHouseholdLevelInput
                                     ) -> Optional[UpdateHouseholdLevelPayload]:
        context = info.context
        tenant = context.tenant
        Code = UpdateHouseholdLevelErrorCode
        repository = AdministrationRepository(context.services.db)
        try:
            try:
                description = validate_description(input.description)
            except RuleError as error:
                raise Refusal.from_rule(error, Code.INVALID)
            level_id = integer_id(input.id)
            level = await repository.household_level(tenant.id, level_id) if level_id is not None else None
            if level is None:
                raise Refusal(Code.NOT_FOUND, "No household level has this id", ["input", "id"])
            event = Event(tenant_id=tenant.id, type_code=EVENT, created_at=utcnow(), details={
                "householdLevelId": level.level_id, "oldDescription": level.description,
                "newDescription": description})
            level = await repository.update_one(LevelRow, [LevelRow.id == level.id], {"description": description},
                                                event)
        except Refusal as refusal:
            return UpdateHouseholdLevelPayload(user_errors=[refusal.as_error(UpdateHouseholdLevelError)])
        context.loaders.household_level_by_id.clear(level.level_id)
        return UpdateHouseholdLevelPayload(household_level=HouseholdLevel.from_row(level))
