"""`viewer`: who the request acts as, so a front end can show what its user may do (MGR-1, MGR-3)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from auth.principals import PrincipalKind as Kind
from schema.managers import ManagerAccessLevel, SectionAccess, StaffSection

ViewerKind = strawberry.enum(Kind, name="ViewerKind", description="Who a request acts as.")


@strawberry.type(description="The principal of this request and what it may do.")
class Viewer:
    kind: ViewerKind
    tenant: str = strawberry.field(description="The paper code every answer is scoped to (TEN-1).")
    subject: Optional[str] = strawberry.field(description="The token's `sub`: a customer's CRID, a manager's or a "
                                                          "partner client's id; null when anonymous.")
    second_factor: bool = strawberry.field(description="Whether this sign-in gave a second factor (MGR-2).")
    scopes: list[str] = strawberry.field(description="A partner's scopes (MGR-3); empty otherwise.")
    access: list[SectionAccess] = strawberry.field(description=(
        "A staff member's access level per section (MGR-1), as papergraph applies it; empty for others."))


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="Who this request acts as, for which tenant, with which access.",
                      extensions=allow(ANYONE))
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        staff = principal.kind is Kind.STAFF
        return Viewer(
            kind=principal.kind, tenant=info.context.tenant.code, subject=principal.subject or None,
            second_factor=principal.mfa, scopes=sorted(principal.scopes),
            access=[SectionAccess(section=section, level=ManagerAccessLevel(principal.access_to(section.value).value))
                    for section in StaffSection] if staff else [],
        )
