"""`acceptInvitation` (INV-3, INV-4, INV-6): the invitee joins the subscription as GUEST, signed in or with a
registration created then (USR-3)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from auth.principals import PrincipalKind
from datasources.models import utcnow
from datasources.repositories.users import DuplicateRow, UserRepository, aware
from domain.crypto import InvalidToken
from domain.invitations import EVENT_ACCEPT, is_current, read_invitation_token
from domain.money import RuleError
from resolvers.invitation_flows import allowed_registrations, invitation_event, limits_check, repository
from resolvers.link_flows import link_event
from resolvers.mutation_support import Refusal, error_type
from resolvers.user_flows import UserFlowError, create_registration
from schema.registrations import SubscriptionLink


@strawberry.enum(description="Why `acceptInvitation` refused.")
class AcceptInvitationErrorCode(Enum):
    INVALID_LINK = strawberry.enum_value("INVALID_LINK", description=(
        "The link is not papergraph's, was used or cancelled, or is older than 14 days (INV-4)."))
    SIGN_IN_REQUIRED = strawberry.enum_value("SIGN_IN_REQUIRED", description=(
        "Not signed in and no password given: sign in, or give a password to create a registration."))
    EMAIL_ALREADY_REGISTERED = strawberry.enum_value("EMAIL_ALREADY_REGISTERED", description=(
        "The invited address has a registration: sign in with it to accept."))
    PASSWORD_TOO_WEAK = strawberry.enum_value("PASSWORD_TOO_WEAK", description="The password breaks USR-5.")
    ALREADY_LINKED = strawberry.enum_value("ALREADY_LINKED", description="This registration is linked to the subscription already.")
    LINK_LIMIT_REACHED = strawberry.enum_value("LINK_LIMIT_REACHED", description=(
        "The subscription has no guest slot left any more (INV-3 re-checks at acceptance)."))
    INVALID = strawberry.enum_value("INVALID", description="The registration could not be created (USR-3).")


AcceptInvitationError = error_type("AcceptInvitation", AcceptInvitationErrorCode)


@strawberry.input(description="Accept an invitation from its link.")
class AcceptInvitationInput:
    token: str = strawberry.field(description="The token of the invitation link.")
    password: Optional[str] = strawberry.field(default=None, description=(
        "Not signed in: the password of the registration created with the invited address (USR-3, USR-5)."))


@strawberry.type(description="The answer of `acceptInvitation`.")
class AcceptInvitationPayload:
    link: Optional[SubscriptionLink] = strawberry.field(default=None, description="The GUEST link made.")
    user_errors: list[AcceptInvitationError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class AcceptInvitation:
    @strawberry.mutation(description=(
        "Accept an invitation (INV-4): the signed-in customer's registration (or one created now with the invited "
        "address and `password`) is linked to the subscription as GUEST and given the invitation's names and "
        "metadata; the link works once. Records UPDATELINK and ACCEPTINVITATION (host's and invitee's CRIDs)."),
        extensions=allow(ANYONE))
    async def accept_invitation(self, info: Info, input: Annotated[AcceptInvitationInput, strawberry.argument(description="The link token, and a password when not signed in.")]) -> Optional[AcceptInvitationPayload]:
        context = info.context
        tenant = context.tenant
        Code = AcceptInvitationErrorCode
        invalid = Refusal(Code.INVALID_LINK, "This invitation link is not valid", ["input", "token"])
        try:
            try:
                invitation_id, _ = read_invitation_token(context.settings.secret_key, input.token)
            except InvalidToken:
                raise invalid
            row = await repository(context).get(tenant.id, invitation_id)
            if row is None or not is_current(row.state, aware(row.expires_at), utcnow()):
                raise invalid
            users = UserRepository(context.services.db)
            if context.principal.kind is PrincipalKind.CUSTOMER:
                registration = await users.by_crid(tenant.id, context.principal.crid)
                if registration is None:
                    raise Refusal(Code.SIGN_IN_REQUIRED, "No registration for this customer", None)
            elif context.principal.is_anonymous and input.password:
                try:
                    registration = (await create_registration(
                        context, email=row.email, password=input.password, first_name=row.first_name,
                        last_name=row.last_name, metadata=row.invitation_metadata)).registration
                except UserFlowError as error:
                    code = Code[error.code] if error.code in Code.__members__ else Code.INVALID
                    raise Refusal(code, error.message, error.field)
            else:
                raise Refusal(Code.SIGN_IN_REQUIRED, "Sign in, or give a password to create a registration", None)
            changes = {}
            if row.first_name and not registration.first_name:
                changes["first_name"] = row.first_name
            if row.last_name and not registration.last_name:
                changes["last_name"] = row.last_name
            if row.invitation_metadata:
                changes["user_metadata"] = {**(registration.user_metadata or {}), **row.invitation_metadata}
            events = [link_event(tenant.id, crid=registration.crid, subscription_id=row.subscription_id,
                                 action="LINK", role="GUEST", invitationId=row.id),
                      invitation_event(tenant.id, EVENT_ACCEPT, row, inviteeCrid=registration.crid)]
            check = limits_check(context, await allowed_registrations(context, row.subscription_id), 1, ["input", "token"])
            try:
                link = await repository(context).accept(row, registration, changes, events, check)
            except RuleError as error:
                raise Refusal.from_rule(error, Code.LINK_LIMIT_REACHED)
            except DuplicateRow:
                raise Refusal(Code.ALREADY_LINKED, "You are linked to this subscription already", ["input", "token"])
            if link is None:
                raise invalid
        except Refusal as refusal:
            return AcceptInvitationPayload(user_errors=[refusal.as_error(AcceptInvitationError)])
        context.forget_customer_links()
        return AcceptInvitationPayload(link=SubscriptionLink.from_row(link, registration.crid))
