"""Tenants and their settings (TEN-1, TEN-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

CIRCULATION_KINDS = ("NCS", "MATRIX", "CIRCPRO", "SAXO")

# TEN-2: every setting papergraph reads, with its default. `NavigaPay.StatementDescriptor` defaults to
# the tenant's name and is resolved in `TenantSettings.statement_descriptor`.
SETTING_DEFAULTS: dict[str, str] = {
    "Billing.CreditCard.ProcessingFee.Enable": "0",
    "Billing.CreditCard.ProcessingFee.Percentage": "0",
    "Billing.CreditCard.ProcessingFee.Tax.Enable": "0",
    "Billing.CreditCard.ProcessingFee.Tax.Percentage": "0",
    "DTI.ActivationFeeAmount": "0",
    "Restart.ApplyCreditBalance": "0",
    "Restart.DTI.ReasonCode": "payment",
    "Restart.DTI.SourceCode": "MG2",
    "Payments.MaximumTipAmountAllowed": "100.00",
    "Purchase.GenerateCRN": "0",
    "Subscription.MaxLinks": "10",
    "Subscription.DefaultOwnersLimit": "1",
    "Subscription.DefaultGuestsLimit": "5",
    "Flow.UserProvider": "Auth0",
    "Auth0.App.Connection": "Username-Password-Authentication",
    "PostalCodeMask": "99999",
    "Security.RequireManagerMfa": "0",
    # SET-4: beyond TEN-2 (values and effects in docs/account-servicing.md)
    "Auth0.App.LogOutFromIDP": "0",  # SSN-4: 1 makes signOut end the tenant's own IdP session too
    "Flow.Auth0.IntegrationType": "",  # "Custom": new Auth0 users get internal CRIDs prefixed "nav"
    "Flow.AddressMove": "",  # "RealTime": NCS comp-subscription moves carry billing method and rate code (ADR-4)
    "MelissaDataIntegration": "",  # "GlobalOnPremise" / "GlobalCheckAPI": moves take an Australian level (ADR-4)
    "Config.System.RestrictCreateUser": "0",  # 1: a purchase never creates a registration
    # MSG: where message links point (docs/messages.md); empty: PAPERGRAPH_FRONTEND_URL
    "Site.FrontEndUrl": "",
}


@dataclass(frozen=True)
class TenantSettings:
    """A tenant's settings with TEN-2 defaults applied; typed accessors for the ones rules use."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        if key in self.values:
            return self.values[key]
        if key == "NavigaPay.StatementDescriptor":
            return self.name
        return SETTING_DEFAULTS.get(key)

    def flag(self, key: str) -> bool:
        return (self.get(key) or "0").strip() == "1"

    def decimal(self, key: str) -> Decimal:
        return Decimal((self.get(key) or "0").strip())

    def integer(self, key: str) -> int:
        return int((self.get(key) or "0").strip())

    @property
    def statement_descriptor(self) -> str:
        return self.get("NavigaPay.StatementDescriptor") or self.name


@dataclass(frozen=True)
class TenantContext:
    id: int
    code: str
    name: str
    circulation_kind: str
    time_zone: str
    currency: str
    settings: TenantSettings
