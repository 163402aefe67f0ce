"""Root query fields of staff administration: a manager's access levels (MGR-1)."""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SETTINGS, allow, staff_full_control_read
from datasources.repositories.administration import AdministrationRepository
from schema.managers import ManagerAccess


@strawberry.type
class ManagerQueries:
    @strawberry.field(description=(
        "A manager's access level per section as stored by `setManagerAccessLevels` (MGR-1) and applied to the "
        "manager's requests (the same levels `viewer.access` shows): once any level is stored, sections never set "
        "are NO_ACCESS. Null when papergraph stores no level for the manager: the token's claims then apply as "
        "they are. Readable by staff with full control of settings."
    ), extensions=allow(staff_full_control_read(SETTINGS)))
    async def manager_access(self, info: Info, manager_subject: str) -> Optional[ManagerAccess]:
        subject = manager_subject.strip()
        rows = await AdministrationRepository(info.context.services.db).manager_access(info.context.tenant.id, subject)
        return ManagerAccess.from_rows(subject, rows) if rows else None
