"""`updateSettings`: change a tenant's settings (SET-1, SET-2, SET-3, MGR-2, NOT-1)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SETTINGS, allow, staff_change
from datasources.models import Event, utcnow
from datasources.repositories.administration import TenantSettingsRepository
from domain.money import RuleError
from domain.tenant_settings import validate_setting_changes
from domain.tenants import TenantSettings
from resolvers.mutation_support import Refusal, error_type
from resolvers.queries.tenant_settings import setting_entries
from schema.tenant_settings import TenantSettingEntry, TenantSettingInput

EVENT = "UPDATESETTINGS"


@strawberry.enum(description="Why `updateSettings` refused its input.")
class UpdateSettingsErrorCode(Enum):
    INVALID = strawberry.enum_value("INVALID", description=(
        "No setting given, an unknown key, a key given twice, or a value out of its SET-2 range."))


UpdateSettingsError = error_type("UpdateSettings", UpdateSettingsErrorCode)


@strawberry.input(description="The settings to change; the others keep their values.")
class UpdateSettingsInput:
    settings: list[TenantSettingInput] = strawberry.field(description="One entry per setting to change.")


@strawberry.type(description="The tenant's settings after the change, or why it was refused.")
class UpdateSettingsPayload:
    settings: Optional[list[TenantSettingEntry]] = strawberry.field(
        default=None, description="Every setting with the value in force after the change; null when refused.")
    user_errors: list[UpdateSettingsError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success.")


@strawberry.type
class UpdateSettings:
    @strawberry.mutation(description=(
        "Change settings of the request's tenant (SET-2 validated, all or nothing): staff with FULL_CONTROL of "
        "SETTINGS and, where required, a second factor (MGR-2). Records UPDATESETTINGS with old and new values and "
        "who; applies from the next request in every process, never altering past payments or links (SET-3)."
    ), extensions=allow(staff_change(SETTINGS)))
    async def update_settings(self, info: Info, input: UpdateSettingsInput) -> Optional[UpdateSettingsPayload]:
        context = info.context
        tenant = context.tenant
        try:
            if not input.settings:
                raise Refusal(UpdateSettingsErrorCode.INVALID, "Give at least one setting", ["input", "settings"])
            try:
                changes = validate_setting_changes([(item.key, item.value) for item in input.settings],
                                                   tenant.settings)
            except RuleError as error:
                raise Refusal.from_rule(error, UpdateSettingsErrorCode.INVALID)
        except Refusal as refusal:
            return UpdateSettingsPayload(user_errors=[refusal.as_error(UpdateSettingsError)])
        event = Event(tenant_id=tenant.id, type_code=EVENT, created_at=utcnow(), details={
            "by": context.principal.subject,
            "changes": [{"key": c.key, "old": c.old if c.old is not None else tenant.settings.get(c.key),
                         "oldIsDefault": c.old is None, "new": c.new} for c in changes]})
        await TenantSettingsRepository(context.services.db).update_settings(
            tenant.id, {c.key: c.new for c in changes}, event)
        after = TenantSettings(name=tenant.settings.name,
                               values={**tenant.settings.values, **{c.key: c.new for c in changes}})
        return UpdateSettingsPayload(settings=setting_entries(after))
