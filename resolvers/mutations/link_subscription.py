"""`linkSubscription` (LNK-1, LNK-2: records UPDATELINK)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, changes, customer_owner

from datasources.models import SubscriptionLink as LinkRow, utcnow
from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.users import DuplicateRow, UserRepository
from domain.links import check_allowed_registrations, check_link_limits
from domain.money import RuleError
from resolvers.invitation_flows import allowed_registrations
from resolvers.link_flows import link_event, link_limits, may_link_crid
from resolvers.mutation_support import Refusal, error_type
from schema.registrations import LinkRole, SubscriptionLink


@strawberry.enum(description="Why `linkSubscription` refused its input.")
class LinkSubscriptionErrorCode(Enum):
    SUBSCRIPTION_NOT_FOUND = "SUBSCRIPTION_NOT_FOUND"
    REGISTRATION_NOT_FOUND = "REGISTRATION_NOT_FOUND"
    ALREADY_LINKED = "ALREADY_LINKED"
    LINK_LIMIT_REACHED = "LINK_LIMIT_REACHED"
    REGISTRATION_NOT_OWN = strawberry.enum_value("REGISTRATION_NOT_OWN", description=(
        "LNK-4: the CRID is not the signed-in customer's own (or the caller is a partner): another person joins a "
        "subscription by accepting an invitation; only staff with FULL_CONTROL link a named CRID."))


LinkSubscriptionError = error_type("LinkSubscription", LinkSubscriptionErrorCode)


@strawberry.input
class LinkSubscriptionInput:
    subscription_id: strawberry.ID
    customer_registration_id: str
    role: LinkRole


@strawberry.type
class LinkSubscriptionPayload:
    link: Optional[SubscriptionLink] = None
    user_errors: list[LinkSubscriptionError] = strawberry.field(default_factory=list)


@strawberry.type
class LinkSubscription:
    @strawberry.mutation(description=(
        "Link a registration to a subscription as OWNER or GUEST, within the tenant's owner, guest and total "
        "limits (LNK-2) and the offer's allowed registrations (OFR-7), pending invitations counted (INV-3); records "
        "UPDATELINK. A customer links only their own registration; only staff with "
        "FULL_CONTROL link a named CRID (LNK-4)."
    ), extensions=allow(changes(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def link_subscription(self, info: Info, input: LinkSubscriptionInput) -> Optional[LinkSubscriptionPayload]:
        context = info.context
        tenant = context.tenant
        Code = LinkSubscriptionErrorCode
        try:
            subscription_id = str(input.subscription_id).strip()
            if await context.loaders.subscription_by_id.load(subscription_id) is None:
                raise Refusal(Code.SUBSCRIPTION_NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            crid = input.customer_registration_id.strip()
            if not may_link_crid(context.principal, crid):
                raise Refusal(Code.REGISTRATION_NOT_OWN, "You may link only your own registration (LNK-4)",
                              ["input", "customerRegistrationId"])
            registration = await UserRepository(context.services.db).by_crid(tenant.id, crid)
            if registration is None:
                raise Refusal(Code.REGISTRATION_NOT_FOUND, "No registration has this CRID",
                              ["input", "customerRegistrationId"])
            limits = link_limits(tenant)
            allowed = await allowed_registrations(context, subscription_id)

            def check(roles: list[str]) -> None:
                try:
                    check_link_limits(roles, input.role.value, **limits)
                    check_allowed_registrations(len(roles) + 1, allowed)  # OFR-7, pending invitations counted
                except RuleError as error:
                    raise Refusal.from_rule(error, Code.LINK_LIMIT_REACHED)

            row = LinkRow(tenant_id=tenant.id, registration_id=registration.id, subscription_id=subscription_id,
                          role=input.role.value, created_at=utcnow())
            event = link_event(tenant.id, crid=registration.crid, subscription_id=subscription_id, action="LINK",
                               role=input.role.value)
            try:
                row = await AdministrationRepository(context.services.db).add_link(row, event, check)
            except DuplicateRow:
                raise Refusal(Code.ALREADY_LINKED, "The registration is already linked to this subscription",
                              ["input", "customerRegistrationId"])
        except Refusal as refusal:
            return LinkSubscriptionPayload(user_errors=[refusal.as_error(LinkSubscriptionError)])
        return LinkSubscriptionPayload(link=SubscriptionLink.from_row(row, registration.crid))
