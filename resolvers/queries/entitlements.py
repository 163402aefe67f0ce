"""Root query fields of the entitlements domain: `entitlement` (ENT-1) and `accessLevel` (ENT-2, ENT-3).

`accessLevel` only reads: the access request that writes an access-log record is a mutation. Unknown
codes and CRIDs answer null, never an error.
"""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, ENTITLEMENTS, allow, arg, customer_self, reads
from schema.entitlements import AccessLevelResult, Entitlement


@strawberry.type
class EntitlementQueries:
    @strawberry.field(description="An entitlement by code, with its optional redirect settings (ENT-1).",
                      extensions=allow(ANYONE))
    async def entitlement(self, info: Info, code: str) -> Optional[Entitlement]:
        return await info.context.loaders.entitlement_by_code.load(code)

    @strawberry.field(description=(
        "The access level of a registration for an entitlement (ENT-2): PREMIUM when an active (ACTIVE, "
        "PAUSED, IN_GRACE) linked subscription's offer includes it or an unexpired temporary entitlement "
        "grants it (ENT-3); UPGRADE when it has an active subscription that does not include it; PURCHASE "
        "when it has no active subscription. Null when the code or the CRID is unknown."
    ), extensions=allow(reads(ENTITLEMENTS), customer_self(arg("crid"))))
    async def access_level(self, info: Info, entitlement_code: str, crid: str) -> Optional[AccessLevelResult]:
        return await info.context.loaders.access_level_by_key.load((entitlement_code, crid))
