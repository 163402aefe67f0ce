"""`inviteGuests` (INV-1..INV-3, INV-5, INV-6): an owner (or staff for an owner) invites one or many e-mail
addresses to a subscription as GUEST; each address is judged alone."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from datasources.models import Invitation as InvitationRow, Registration, utcnow
from domain.invitations import EVENT_INVITE, MAX_INVITEES, PENDING, invitation_expiry, validate_invitation_metadata
from domain.money import RuleError
from domain.registrations import RegistrationRuleError, clean_email
from domain.users import clean_name
from resolvers.invitation_flows import acting_host, allowed_registrations, invitation_event, is_owner, limits_check, \
    repository
from resolvers.mutation_support import Refusal, error_type
from schema.invitations import Invitation


@strawberry.enum(description="Why `inviteGuests` refused an invitee, or the whole request.")
class InviteGuestsErrorCode(Enum):
    SUBSCRIPTION_NOT_FOUND = strawberry.enum_value("SUBSCRIPTION_NOT_FOUND", description="No subscription has this id.")
    HOST_NOT_OWNER = strawberry.enum_value("HOST_NOT_OWNER", description=(
        "The host (HostUserCRID) is not an OWNER of the subscription (INV-1)."))
    TOO_MANY_INVITEES = strawberry.enum_value("TOO_MANY_INVITEES", description="More than 20 invitees at once.")
    INVALID_EMAIL = strawberry.enum_value("INVALID_EMAIL", description="The address is blank or has invisible characters (USR-4).")
    INVALID = strawberry.enum_value("INVALID", description="A name or the metadata breaks USR-3 or INV-5 (`phoneNumber`, not `phone`).")
    ALREADY_INVITED = strawberry.enum_value("ALREADY_INVITED", description="This address has a pending invitation to this subscription.")
    LINK_LIMIT_REACHED = strawberry.enum_value("LINK_LIMIT_REACHED", description=(
        "Links and pending invitations would exceed the guest or link limits (LNK-2) or the offer's allowed "
        "registrations (OFR-7, INV-3)."))


InviteGuestsError = error_type("InviteGuests", InviteGuestsErrorCode)


@strawberry.input(description="One person to invite.")
class InviteeInput:
    email: str = strawberry.field(description="Where the invitation goes (USR-4).")
    first_name: Optional[str] = strawberry.field(default=None, description="The invitee's first name.")
    last_name: Optional[str] = strawberry.field(default=None, description="The invitee's last name.")
    metadata: Optional[JSON] = strawberry.field(default=None, description=(
        "camelCase metadata for the invitee's registration (USR-3); the phone key is `phoneNumber` (INV-5)."))


@strawberry.input(description="Invite guests to a subscription.")
class InviteGuestsInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription to share.")
    invitees: list[InviteeInput] = strawberry.field(description="One to 20 people, each judged alone (INV-2).")
    host_customer_registration_id: Optional[str] = strawberry.field(default=None, description=(
        "Staff only: the owner who invites (HostUserCRID). A customer always invites as themselves."))


@strawberry.type(description="The answer of `inviteGuests`.")
class InviteGuestsPayload:
    invitations: list[Invitation] = strawberry.field(default_factory=list, description="The invitations made.")
    user_errors: list[InviteGuestsError] = strawberry.field(default_factory=list, description=(
        "Why an invitee (field `input.invitees.<n>…`) or the request was refused."))


@strawberry.type
class InviteGuests:
    @strawberry.mutation(description=(
        "An owner invites e-mail addresses to the subscription as GUEST (INV-1); staff with FULL_CONTROL invite "
        "for a named owner. Each invitee is judged alone; pending invitations count against the guest and link "
        "limits (INV-3). Each invitation records INVITEGUEST and sends the invitee a link, valid once for 14 days."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def invite_guests(self, info: Info, input: Annotated[InviteGuestsInput, strawberry.argument(description="The subscription and the invitees.")]) -> Optional[InviteGuestsPayload]:
        context = info.context
        tenant = context.tenant
        Code = InviteGuestsErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            if len(input.invitees) > MAX_INVITEES or not input.invitees:
                raise Refusal(Code.TOO_MANY_INVITEES, f"Invite 1 to {MAX_INVITEES} people at once", ["input", "invitees"])
            if await context.loaders.subscription_by_id.load(subscription_id) is None:
                raise Refusal(Code.SUBSCRIPTION_NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            host = await acting_host(context, input.host_customer_registration_id)
            if host is None or not await is_owner(context, host, subscription_id):
                raise Refusal(Code.HOST_NOT_OWNER, "The host must be an owner of the subscription",
                              ["input", "hostCustomerRegistrationId"])
        except Refusal as refusal:
            return InviteGuestsPayload(user_errors=[refusal.as_error(InviteGuestsError)])
        host_name = await _host_name(context, host)
        allowed = await allowed_registrations(context, subscription_id)
        pending = {row.email.lower() for row in await repository(context).pending(tenant.id, subscription_id, utcnow())}
        made, errors = [], []
        for index, invitee in enumerate(input.invitees):
            field = ["input", "invitees", str(index)]
            try:
                try:
                    email = clean_email(invitee.email, [*field, "email"])
                except RegistrationRuleError as error:
                    raise Refusal.from_rule(error, Code.INVALID_EMAIL)
                try:
                    metadata = validate_invitation_metadata(invitee.metadata, [*field, "metadata"])
                    first = clean_name(invitee.first_name, [*field, "firstName"])
                    last = clean_name(invitee.last_name, [*field, "lastName"])
                except RegistrationRuleError as error:
                    raise Refusal.from_rule(error, Code.INVALID)
                if email.lower() in pending:
                    raise Refusal(Code.ALREADY_INVITED, "This address is already invited", [*field, "email"])
                now = utcnow()
                row = InvitationRow(tenant_id=tenant.id, subscription_id=subscription_id, host_crid=host, email=email,
                                    first_name=first, last_name=last, invitation_metadata=metadata, state=PENDING,
                                    expires_at=invitation_expiry(now), created_at=now, updated_at=now)
                try:
                    row = await repository(context).create(row, lambda saved: invitation_event(
                        tenant.id, EVENT_INVITE, saved, hostName=host_name,
                        expiresAt=saved.expires_at.isoformat()), limits_check(context, allowed, 1, [*field, "email"]))
                except RuleError as error:
                    raise Refusal.from_rule(error, Code.LINK_LIMIT_REACHED)
                pending.add(email.lower())
                made.append(Invitation.from_row(row, utcnow()))
            except Refusal as refusal:
                errors.append(refusal.as_error(InviteGuestsError))
        return InviteGuestsPayload(invitations=made, user_errors=errors)


async def _host_name(context, crid: str) -> str | None:
    from sqlmodel import select

    async with context.services.db.session() as session:
        row = (await session.execute(select(Registration.first_name, Registration.last_name).where(
            Registration.tenant_id == context.tenant.id, Registration.crid == crid))).first()
    if row is None:
        return None
    return " ".join(part for part in row if part) or None
