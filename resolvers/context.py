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
    _registration: Any = field(default=None, repr=False)  # the customer's registration, once read
    _registration_known: bool = False

    @property
    def settings(self):
        return self.services.settings

    async def customer_registration(self) -> "Registration | None":
        """The signed-in customer's registration in this tenant (None for other principals, or a customer
        papergraph has no registration for yet). Shared with the request's loaders, so `me` costs nothing more."""
        if self.principal.kind is not PrincipalKind.CUSTOMER or not self.principal.crid:
            return None
        if not self._registration_known:
            # the loader answers the same object for the whole request (it is never cleared), so keeping it
            # here changes nothing but lets a rule read it without awaiting (`customer_registration_now`)
            self._registration = await self.loaders.registration_by_crid.load(self.principal.crid)
            self._registration_known = True
        return self._registration

    def customer_registration_now(self) -> tuple[bool, "Registration | None"]:
        """(True, the registration) once this request has read it — get_context reads it for every customer
        request (USR-8) — else (False, None)."""
        return self._registration_known, self._registration

    def customer_link_roles_now(self) -> Mapping[str, str] | None:
        """The customer's link roles when this request already knows them, else None (then a rule awaits
        `customer_link_roles`)."""
        return self._link_roles

    def know_customer_links(self, registration_pk: int, links: Any) -> bool:
        """Links a resolver has just read for the registration `registration_pk`: when it is the signed-in
        customer's own, they are the customer's link roles too (`linkedSubscriptions` primes them, so the rules
        of every subscription it lists — LNK-3 — are decided without awaiting). Whether they are."""
        own = self._registration is not None and self._registration.pk == registration_pk
        if own and self._link_roles is None:
            self._link_roles = {str(link.subscription_id): link.role.value for link in links}
        return own

    async def customer_link_roles(self) -> Mapping[str, str]:
        """Subscription id → OWNER or GUEST for the signed-in customer (LNK-3); empty for anyone else.
        Read once per request."""
        if self._link_roles is None:
            registration = await self.customer_registration()
            links = [] if registration is None else \
                await self.loaders.links_by_registration_id.load(int(registration.registration_id))
            if self._link_roles is None:  # a resolver may have primed them while this awaited
                self._link_roles = {str(link.subscription_id): link.role.value for link in links}
        return self._link_roles

    def forget_customer_links(self) -> None:
        """After a mutation changed the customer's links."""
        self._link_roles = None
