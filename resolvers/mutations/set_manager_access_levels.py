"""`setManagerAccessLevels` (MGR-1)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SETTINGS, allow, staff_change

from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from resolvers.mutation_support import Refusal, error_type
from schema.managers import ManagerAccess, SectionAccessInput

EVENT = "UPDATEMANAGERACCESS"
MAX_SUBJECT = 128


@strawberry.enum(description="Why `setManagerAccessLevels` refused its input.")
class SetManagerAccessLevelsErrorCode(Enum):
    INVALID = "INVALID"


SetManagerAccessLevelsError = error_type("SetManagerAccessLevels", SetManagerAccessLevelsErrorCode)


@strawberry.input
class SetManagerAccessLevelsInput:
    manager_subject: str = strawberry.field(description="The manager's token subject (`sub`).")
    levels: list[SectionAccessInput] = strawberry.field(description="Sections not listed keep their level.")


@strawberry.type
class SetManagerAccessLevelsPayload:
    manager_access: Optional[ManagerAccess] = None
    user_errors: list[SetManagerAccessLevelsError] = strawberry.field(default_factory=list)


@strawberry.type
class SetManagerAccessLevels:
    @strawberry.mutation(description=(
        "Set a manager's access level per section (MGR-1; staff with full control of settings). Records "
        "UPDATEMANAGERACCESS."
    ), extensions=allow(staff_change(SETTINGS)))
    async def set_manager_access_levels(self, info: Info, input: SetManagerAccessLevelsInput
                                        ) -> Optional[SetManagerAccessLevelsPayload]:
        context = info.context
        Code = SetManagerAccessLevelsErrorCode
        try:
            subject = input.manager_subject.strip()
            if not subject or len(subject) > MAX_SUBJECT:
                raise Refusal(Code.INVALID, f"The manager subject must be 1 to {MAX_SUBJECT} characters",
                              ["input", "managerSubject"])
            if not input.levels:
                raise Refusal(Code.INVALID, "Give at least one section's level", ["input", "levels"])
            sections = [item.section.name for item in input.levels]  # as the client wrote them
            duplicate = next((s for s in sections if sections.count(s) > 1), None)
            if duplicate:
                raise Refusal(Code.INVALID, f"The section {duplicate} is given more than once", ["input", "levels"])
            levels = {item.section.value: item.level.value for item in input.levels}
            event = Event(tenant_id=context.tenant.id, type_code=EVENT, created_at=utcnow(),
                          details={"managerSubject": subject, "levels": levels})
            rows = await AdministrationRepository(context.services.db).set_manager_access(
                context.tenant.id, subject, levels, event)
        except Refusal as refusal:
            return SetManagerAccessLevelsPayload(user_errors=[refusal.as_error(SetManagerAccessLevelsError)])
        return SetManagerAccessLevelsPayload(manager_access=ManagerAccess.from_rows(subject, rows))
