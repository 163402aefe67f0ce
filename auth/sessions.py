"""SSN-4: a customer token issued before the registration's last sign-out (LastLogoutDate) is refused, whoever
issued it. The date is read per customer request, remembered for `CACHE_SECONDS` per process; the process that
signs a customer out forgets it at once (other processes within that many seconds)."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime
from typing import Any, Mapping

from auth.principals import Principal, PrincipalKind
from datasources.repositories.sessions import SessionRepository
from domain.sessions import issued_before_logout

CACHE_SECONDS = 5.0
CACHE_SIZE = 10_000


class SessionGuard:
    def __init__(self, db) -> None:
        self.repository = SessionRepository(db)
        self._cache: OrderedDict[tuple[str, str], tuple[float, datetime | None]] = OrderedDict()

    async def refused(self, principal: Principal, claims: Mapping[str, Any]) -> bool:
        if principal.kind is not PrincipalKind.CUSTOMER or not principal.tenant or not principal.subject:
            return False
        key = (principal.tenant, principal.subject)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            last_logout = cached[1]
        else:
            last_logout = await self.repository.last_logout(*key)
            self._cache[key] = (time.monotonic(), last_logout)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        issued = claims.get("iat")
        return issued_before_logout(issued if isinstance(issued, (int, float)) else None, last_logout)

    def forget(self, tenant_code: str, crid: str) -> None:
        self._cache.pop((tenant_code, crid), None)
