"""Per-request dataloaders, one mixin per domain (`resolvers/dataloaders/<domain>.py`).

A `Loaders` is built once per request for the request's tenant (a module-level loader would keep its
cache forever and across tenants). Each loader is created on first use (`cached_property`), calls one
bulk datasource method, realigns the results to its keys and answers `None` for an unknown key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvers.dataloaders.account import AccountLoaders
from resolvers.dataloaders.entitlements import EntitlementLoaders
from resolvers.dataloaders.households import HouseholdLoaders
from resolvers.dataloaders.offers import OfferLoaders
from resolvers.dataloaders.payments import PaymentLoaders
from resolvers.dataloaders.registrations import RegistrationLoaders
from resolvers.dataloaders.servicing import ServicingLoaders
from resolvers.dataloaders.subscriptions import SubscriptionLoaders

if TYPE_CHECKING:
    from services import Services
    from domain.tenants import TenantContext


class Loaders(SubscriptionLoaders, HouseholdLoaders, RegistrationLoaders, OfferLoaders, EntitlementLoaders,
              PaymentLoaders, ServicingLoaders, AccountLoaders):
    def __init__(self, services: "Services", tenant: "TenantContext") -> None:
        self.services = services
        self.tenant = tenant
