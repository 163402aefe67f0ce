"""A tenant's settings as staff read and change them (SET-1..3)."""

from __future__ import annotations

import strawberry


@strawberry.type(description="One tenant setting with the value in force (SET-1, TEN-2).")
class TenantSettingEntry:
    key: str = strawberry.field(description="The setting's name, e.g. `Billing.CreditCard.ProcessingFee.Percentage`.")
    value: str = strawberry.field(description="The value in force: the tenant's own, or the TEN-2 default.")
    is_default: bool = strawberry.field(description="True when the tenant stores no value and the default applies.")


@strawberry.input(description="One setting to change (SET-2).")
class TenantSettingInput:
    key: str = strawberry.field(description="A known setting's name; an unknown one is refused (SET-2).")
    value: str = strawberry.field(description="The new value, as text: flags 0/1, percentages 0-100, amounts >= 0.")
