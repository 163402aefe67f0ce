"""`settings`: a tenant's settings for staff (SET-1)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.permissions import SETTINGS, allow, staff_read
from domain.tenant_settings import effective_settings
from schema.tenant_settings import TenantSettingEntry


def setting_entries(settings) -> list[TenantSettingEntry]:
    return [TenantSettingEntry(key=key, value=value, is_default=key not in settings.values)
            for key, value in effective_settings(settings).items()]


@strawberry.type
class TenantSettingsQueries:
    @strawberry.field(description=(
        "Every setting of the request's tenant papergraph knows, with the value in force (SET-1): staff with "
        "READ_ONLY or more on SETTINGS; customers and partners have none."
    ), extensions=allow(staff_read(SETTINGS)))
    async def settings(self, info: Info) -> list[TenantSettingEntry]:
        return setting_entries(info.context.tenant.settings)
