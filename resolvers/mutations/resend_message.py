"""`resendMessage` (MSG-1): staff send an event's message again, optionally to another address. It is a new
message (its own outbox row and Message-ID), rendered from the tenant's template of now; the first one stays as
it was. Decision: a message whose link is a secret of its recipient (a password, verification, invitation or
claim link) goes only to its own recipient again (domain/messages.py `may_resend_elsewhere`)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import REGISTRATIONS, allow, staff_change
from datasources.outbox import resend
from datasources.repositories.users import UserRepository, new_event
from domain.ids import integer_id
from domain.messages import may_resend_elsewhere, sends_message
from resolvers.mutation_support import Refusal, error_type
from resolvers.user_flows import UserFlowError, checked_email

EVENT_RESEND = "RESENDMESSAGE"


@strawberry.enum(description="Why `resendMessage` refused.")
class ResendMessageErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No event of this publication has this id.")
    NO_MESSAGE = strawberry.enum_value("NO_MESSAGE", description=(
        "The event's type sends no message, or the publication has no template for it (MSG-1)."))
    INVALID_EMAIL = strawberry.enum_value("INVALID_EMAIL", description="The other address breaks USR-4.")
    NOT_ELSEWHERE = strawberry.enum_value("NOT_ELSEWHERE", description=(
        "The message carries a link that is its recipient's secret (password, verification, invitation, claim): "
        "it is resent only to its own recipient."))


ResendMessageError = error_type("ResendMessage", ResendMessageErrorCode)


@strawberry.input(description="Send an event's message again (MSG-1).")
class ResendMessageInput:
    event_id: strawberry.ID = strawberry.field(description="The event whose message to send again.")
    to: Optional[str] = strawberry.field(default=None, description=(
        "Another e-mail address to send it to (USR-4); by default its own recipient."))


@strawberry.type(description="The answer of `resendMessage`.")
class ResendMessagePayload:
    queued: bool = strawberry.field(default=False, description=(
        "True when the message was queued: it is sent after the answer, and retried like any other."))
    user_errors: list[ResendMessageError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class ResendMessage:
    @strawberry.mutation(description=(
        "Staff send an event's message again, optionally elsewhere (MSG-1): a new message from the tenant's "
        "template, retried like any other, never changing what the event recorded. Password, verification, "
        "invitation and claim links go only to their own recipient. Records RESENDMESSAGE."),
        extensions=allow(staff_change(REGISTRATIONS)))
    async def resend_message(self, info: Info, input: Annotated[ResendMessageInput, strawberry.argument(
            description="The event, and another address if wanted.")]) -> Optional[ResendMessagePayload]:
        context = info.context
        tenant = context.tenant
        Code = ResendMessageErrorCode
        try:
            to = None
            if input.to is not None and input.to.strip():
                try:
                    to = checked_email(input.to, ["input", "to"])
                except UserFlowError as error:
                    raise Refusal(Code.INVALID_EMAIL, error.message, error.field)
            event_id = integer_id(input.event_id)
            event = await UserRepository(context.services.db).event(tenant.id, event_id) \
                if event_id is not None else None
            if event is None:
                raise Refusal(Code.NOT_FOUND, "No event has this id", ["input", "eventId"])
            if not sends_message(event.type_code):
                raise Refusal(Code.NO_MESSAGE, "This event sends no message", ["input", "eventId"])
            record = new_event(tenant.id, EVENT_RESEND, crid=event.crid, subscription_id=event.subscription_id,
                               parent_id=event.id, details={"eventId": event.id, "elsewhere": to is not None,
                                                            "by": context.principal.subject})
            try:
                row = await resend(context.services.db, context.settings.secret_key, event, to, record,
                                   lambda data: may_resend_elsewhere(event.type_code, data))
            except PermissionError:
                raise Refusal(Code.NOT_ELSEWHERE, "This message carries its recipient's own link: it is resent only "
                              "to its recipient", ["input", "to"])
            if row is None:
                raise Refusal(Code.NO_MESSAGE, "The publication has no template for this event's message (MSG-1)",
                              ["input", "eventId"])
        except Refusal as refusal:
            return ResendMessagePayload(user_errors=[refusal.as_error(ResendMessageError)])
        return ResendMessagePayload(queued=True)
