"""The per-request context: who is asking, for which tenant, and the request's own loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from auth.principals import ANONYMOUS, Principal, PrincipalKind

if TYPE_CHECKING:
    from services import Services
    from domain.tenants import TenantContext
    from resolvers.loaders import Loaders
    from schema.registrations import Registration


@dataclass
class Context:
    services: "Services"
    tenant: "TenantContext"
    loaders: "Loaders"
    request: Any = None
    response: Any = None
    principal: Principal = ANONYMOUS
    throttle: Any = None  # the app's rate limits and cost budget (server/throttle.py); None: unlimited
    extra: dict[str, Any] = field(default_factory=dict)
    _link_roles: Mapping[str, str] | None = None

    @property
    def settings(self):
        return self.services.settings

    async def customer_registration(self) -> "Registration | None":
        """The signed-in customer's registration in this tenant (None for other principals, or a customer
        papergraph has no registration for yet). Shared with the request's loaders, so `me` costs nothing more."""
        if self.principal.kind is not PrincipalKind.CUSTOMER or not self.principal.crid:
            return None
        return await self.loaders.registration_by_crid.load(self.principal.crid)

    async def customer_link_roles(self) -> Mapping[str, str]:
        """Subscription id → OWNER or GUEST for the signed-in customer (LNK-3); empty for anyone else.
        Read once per request."""
        if self._link_roles is None:
            registration = await self.customer_registration()
            links = [] if registration is None else \
                await self.loaders.links_by_registration_id.load(int(registration.registration_id))
            self._link_roles = {str(link.subscription_id): link.role.value for link in links}
        return self._link_roles

    def forget_customer_links(self) -> None:
        """After a mutation changed the customer's links."""
        self._link_roles = None
