"""`transferSubscriptionLink` (LNK-1: a link moves to another CRID; records UPDATELINK)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, CustomerManagesLink, allow, arg, changes

from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.users import DuplicateRow, UserRepository
from domain.ids import integer_id
from domain.links import check_allowed_registrations
from domain.money import RuleError
from resolvers.invitation_flows import allowed_registrations
from resolvers.link_flows import link_event, may_link_crid
from resolvers.mutation_support import Refusal, error_type
from schema.registrations import SubscriptionLink


@strawberry.enum(description="Why `transferSubscriptionLink` refused its input.")
class TransferSubscriptionLinkErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    REGISTRATION_NOT_FOUND = "REGISTRATION_NOT_FOUND"
    ALREADY_LINKED = "ALREADY_LINKED"
    LINK_LIMIT_REACHED = strawberry.enum_value("LINK_LIMIT_REACHED", description=(
        "OFR-7: the subscription has more links (pending invitations counted) than its offer now allows (the "
        "allowance was lowered): existing links stay, but none moves to another registration."))
    REGISTRATION_NOT_OWN = strawberry.enum_value("REGISTRATION_NOT_OWN", description=(
        "LNK-4: the target CRID is not the signed-in customer's own (or the caller is a partner): only staff with "
        "FULL_CONTROL move a link to a named CRID."))


TransferSubscriptionLinkError = error_type("TransferSubscriptionLink", TransferSubscriptionLinkErrorCode)


@strawberry.input
class TransferSubscriptionLinkInput:
    link_id: strawberry.ID
    customer_registration_id: str = strawberry.field(description="The CRID the link moves to.")


@strawberry.type
class TransferSubscriptionLinkPayload:
    link: Optional[SubscriptionLink] = None
    user_errors: list[TransferSubscriptionLinkError] = strawberry.field(default_factory=list)


@strawberry.type
class TransferSubscriptionLink:
    @strawberry.mutation(description=(
        "Move a link, with its role, to another registration (by CRID); records UPDATELINK with both CRIDs. A "
        "customer may move a link only to their own registration (LNK-4). Refused while the subscription has more "
        "links than its offer allows (OFR-7, after the allowance was lowered)."
    ), extensions=allow(changes(SUBSCRIPTIONS), CustomerManagesLink(arg("input", "link_id"))))
    async def transfer_subscription_link(self, info: Info, input: TransferSubscriptionLinkInput
                                         ) -> Optional[TransferSubscriptionLinkPayload]:
        context = info.context
        tenant = context.tenant
        Code = TransferSubscriptionLinkErrorCode
        repository = AdministrationRepository(context.services.db)
        try:
            number = integer_id(input.link_id)
            found = await repository.link(tenant.id, number) if number is not None else None
            if found is None:
                raise Refusal(Code.NOT_FOUND, "No link has this id", ["input", "linkId"])
            link, crid = found
            target_crid = input.customer_registration_id.strip()
            if not may_link_crid(context.principal, target_crid):
                raise Refusal(Code.REGISTRATION_NOT_OWN, "You may move a link only to your own registration (LNK-4)",
                              ["input", "customerRegistrationId"])
            target = await UserRepository(context.services.db).by_crid(tenant.id, target_crid)
            if target is None:
                raise Refusal(Code.REGISTRATION_NOT_FOUND, "No registration has this CRID",
                              ["input", "customerRegistrationId"])
            if target.id == link.registration_id:
                return TransferSubscriptionLinkPayload(link=SubscriptionLink.from_row(link, crid))
            event = link_event(tenant.id, crid=target.crid, subscription_id=link.subscription_id, action="TRANSFER",
                               role=link.role, linkId=link.id, fromCrid=crid, toCrid=target.crid)
            allowed = await allowed_registrations(context, link.subscription_id)

            def check(roles: list[str]) -> None:  # OFR-7: the count stays, and must be within the allowance
                try:
                    check_allowed_registrations(len(roles), allowed, ["input", "linkId"])
                except RuleError as error:
                    raise Refusal.from_rule(error, Code.LINK_LIMIT_REACHED)

            try:
                link = await repository.move_link(tenant.id, link.id, target.id, event, check)
            except DuplicateRow:
                raise Refusal(Code.ALREADY_LINKED, "That registration is already linked to this subscription",
                              ["input", "customerRegistrationId"])
            if link is None:
                raise Refusal(Code.NOT_FOUND, "No link has this id", ["input", "linkId"])
        except Refusal as refusal:
            return TransferSubscriptionLinkPayload(user_errors=[refusal.as_error(TransferSubscriptionLinkError)])
        return TransferSubscriptionLinkPayload(link=SubscriptionLink.from_row(link, target.crid))
