"""The per-request context: who is asking, for which tenant, and the request's own loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from app import Services
    from domain.tenants import TenantContext
    from resolvers.loaders import Loaders


@dataclass
class Context:
    services: "Services"
    tenant: "TenantContext"
    loaders: "Loaders"
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self):
        return self.services.settings
