"""Changing a tenant's settings (SET-2, SET-3, SET-4), as pure functions.

SET-2 (decision): flags are 0/1; percentages 0 to 100 ("10.5" is 10.5%); amounts >= 0; the default owner limit
>= 1 and the guest limit >= 0, both at most `Subscription.MaxLinks`; unknown keys are refused.
SET-4 (decision): `Config.System.RestrictCreateUser` (true/false in the source documents) and
`Auth0.App.LogOutFromIDP` are flags like the others (0/1); the three flow settings take only the values the
source documents name, exactly spelt, or empty for the default behaviour (CHOICES).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Mapping, Sequence

from domain.money import RuleError
from domain.tenants import SETTING_DEFAULTS, TenantSettings

FLAGS = frozenset({
    "Billing.CreditCard.ProcessingFee.Enable", "Billing.CreditCard.ProcessingFee.Tax.Enable",
    "Restart.ApplyCreditBalance", "Purchase.GenerateCRN", "Security.RequireManagerMfa",
    "Auth0.App.LogOutFromIDP", "Config.System.RestrictCreateUser",
})
CHOICES: dict[str, tuple[str, ...]] = {  # SET-4: "" is the default behaviour
    "Flow.Auth0.IntegrationType": ("", "Custom"),
    "Flow.AddressMove": ("", "RealTime"),
    "MelissaDataIntegration": ("", "GlobalOnPremise", "GlobalCheckAPI"),
}
PERCENTAGES = frozenset({"Billing.CreditCard.ProcessingFee.Percentage",
                         "Billing.CreditCard.ProcessingFee.Tax.Percentage"})
AMOUNTS = frozenset({"DTI.ActivationFeeAmount", "Payments.MaximumTipAmountAllowed"})
COUNTS = frozenset({"Subscription.MaxLinks", "Subscription.DefaultOwnersLimit", "Subscription.DefaultGuestsLimit"})
KNOWN_KEYS = frozenset(SETTING_DEFAULTS) | {"NavigaPay.StatementDescriptor"}
MAX_TEXT = 1000


@dataclass(frozen=True)
class SettingChange:
    key: str
    old: str | None
    new: str


def validate_setting_changes(changes: Sequence[tuple[str, str]], current: TenantSettings,
                             field: Sequence[str] = ("input", "settings")) -> list[SettingChange]:
    """SET-2: the changes, normalised, with the values they replace; the first violation raises RuleError
    whose field names the entry (`[..., "settings", "<index>", "value"]`)."""
    seen: set[str] = set()
    normalised: dict[str, str] = {}
    for index, (key, value) in enumerate(changes):
        at = [*field, str(index)]
        key = (key or "").strip()
        if key not in KNOWN_KEYS:
            raise RuleError(f"Unknown setting {key!r}", [*at, "key"], "SET-2")
        if key in seen:
            raise RuleError(f"The setting {key} is given more than once", [*at, "key"], "SET-2")
        seen.add(key)
        normalised[key] = _value(key, (value or "").strip(), [*at, "value"])
    merged = {**{k: current.get(k) or "0" for k in COUNTS}, **{k: v for k, v in normalised.items() if k in COUNTS}}
    max_links = int(merged["Subscription.MaxLinks"])
    for key, least in (("Subscription.DefaultOwnersLimit", 1), ("Subscription.DefaultGuestsLimit", 0)):
        limit = int(merged[key])
        if not least <= limit <= max_links:
            index = next((i for i, (k, _) in enumerate(changes) if (k or "").strip() in (key, "Subscription.MaxLinks")),
                         0)
            raise RuleError(f"{key} must be between {least} and Subscription.MaxLinks ({max_links})",
                            [*field, str(index), "value"], "SET-2")
    return [SettingChange(key, current.values.get(key), value) for key, value in normalised.items()]


def _value(key: str, value: str, field: list[str]) -> str:
    if key in FLAGS:
        if value not in ("0", "1"):
            raise RuleError(f"{key} is a flag: 0 or 1", field, "SET-2")
        return value
    if key in PERCENTAGES or key in AMOUNTS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise RuleError(f"{key} must be a number", field, "SET-2") from None
        if not number.is_finite() or number < 0 or (key in PERCENTAGES and number > 100):
            bounds = "between 0 and 100" if key in PERCENTAGES else "0 or more"
            raise RuleError(f"{key} must be {bounds}", field, "SET-2")
        return value
    if key in CHOICES:
        if value not in CHOICES[key]:
            named = ", ".join(repr(choice) for choice in CHOICES[key])
            raise RuleError(f"{key} must be one of {named}", field, "SET-4")
        return value
    if key in COUNTS:
        if not value.isdigit() or (key == "Subscription.MaxLinks" and int(value) < 1):
            raise RuleError(f"{key} must be a whole number" + (" of at least 1" if key == "Subscription.MaxLinks"
                                                                 else ""), field, "SET-2")
        return str(int(value))
    if len(value) > MAX_TEXT:
        raise RuleError(f"{key} must be at most {MAX_TEXT} characters", field, "SET-2")
    return value


def effective_settings(settings: TenantSettings) -> Mapping[str, str]:
    """SET-1: every known key with the value in force (stored or TEN-2 default)."""
    return {key: settings.get(key) or "" for key in sorted(KNOWN_KEYS)}
